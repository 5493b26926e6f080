"""Statistics on the trial dataset."""
