"""The safety app: adverse events, blinded dose changes, side-effect reports to confirm."""
