"""The audit trail: an append-only, hash-chained record of every change to trial data."""
