"""The exports app has no tables of its own: it reads the other apps' and writes audit events."""
