"""``diarytrial vapid_keys``: a new key pair for Web Push, as the environment variables to set."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.base import BaseCommand


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def vapid_key_pair() -> tuple[str, str]:
    """(public, private): a P-256 key pair, base64url, as browsers and pywebpush read them."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(public), _b64url(private)


class Command(BaseCommand):
    help = (
        "Print a new Web Push (VAPID) key pair as VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY lines "
        "for the environment. Keep the private key secret. A new pair makes every phone "
        "subscribe again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        public, private = vapid_key_pair()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}\nVAPID_PRIVATE_KEY={private}")
