"""Helpers of the reminder tests: a local SMTP server, a local push service, browser keys.

Both servers run in threads of the test process on free ports of 127.0.0.1, so the reminders
travel through the real SMTP and HTTP code paths and nothing leaves the machine.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import http_ece  # type: ignore[import-untyped]
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from diarytrial.protocol import load_example

LDN = load_example("ldn-fibromyalgia").protocol
LA = ZoneInfo("America/Los_Angeles")
START = dt.date(2025, 2, 24)
D = dt.date(2025, 3, 4)  # a diary day, standard time in Los Angeles
DST_DAY = dt.date(2025, 3, 9)  # clocks go forward in Los Angeles at 02:00
NOON = dt.datetime(2025, 3, 4, 20, 0, tzinfo=dt.UTC)  # 12:00 on D in Los Angeles
FORBIDDEN_WORDS = ("ldn", "naltrexone", "placebo", "mg", "sequence", "arm ", "dose")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def at(day: dt.date, hour: int, minute: int = 0, *, tz: ZoneInfo = LA) -> dt.datetime:
    """The UTC instant of a local wall-clock time in `tz`."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz).astimezone(dt.UTC)


# --- SMTP ---------------------------------------------------------------------------------------


class _Collector:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, state: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


@dataclass
class SmtpServer:
    host: str
    port: int
    collector: _Collector

    @property
    def messages(self) -> list[Message]:
        return self.collector.messages


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free port that keeps what it receives."""
    collector = _Collector()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(host="127.0.0.1", port=port, collector=collector)
    finally:
        controller.stop()


# --- Web Push -----------------------------------------------------------------------------------


@dataclass
class PushRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """A local stand-in for a browser vendor's push service."""

    base_url: str
    received: list[PushRequest] = field(default_factory=list)
    status: int = 201

    def endpoint(self, name: str = "phone-1") -> str:
        return f"{self.base_url}/push/{name}"


@contextmanager
def push_service() -> Iterator[PushService]:
    """A threaded HTTP server that records each push and answers `service.status`."""
    service = PushService(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            service.received.append(
                PushRequest(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            self.send_response(service.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class BrowserKeys:
    """What a browser keeps for one push subscription, to decrypt what it receives."""

    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @classmethod
    def new(cls) -> BrowserKeys:
        return cls(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        data: dict[str, Any] = json.loads(plain)
        return data


def vapid_claims(authorization: str, public_key: str) -> dict[str, Any]:
    """The claims of a ``vapid t=JWT, k=KEY`` header, after checking its ES256 signature."""
    scheme, _, rest = authorization.partition(" ")
    assert scheme == "vapid"
    parts = dict(item.strip().split("=", 1) for item in rest.split(","))
    assert parts["k"] == public_key
    header, claims, signature = parts["t"].split(".")
    raw = unb64url(signature)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    key.verify(
        encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
        f"{header}.{claims}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )
    decoded: dict[str, Any] = json.loads(unb64url(claims))
    return decoded
