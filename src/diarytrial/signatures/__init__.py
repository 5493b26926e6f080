"""Electronic signatures (21 CFR Part 11.50, 11.70, 11.200): who signed what, meaning what,
when, bound to a SHA-256 hash of the signed content."""
