"""The diary app: nightly entries in the protocol's window, side effects, PGIC, blinding guesses."""
