"""The demo: the LDN trial run end to end through the live system."""
