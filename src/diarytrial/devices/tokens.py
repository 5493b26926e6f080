"""How the secret tokens of links, devices and calendar feeds are stored: as SHA-256 only."""

from __future__ import annotations

import hashlib


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()
