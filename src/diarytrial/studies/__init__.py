"""The studies app: a study and the versions of its protocol file."""
