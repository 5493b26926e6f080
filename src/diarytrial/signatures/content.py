"""The signed content as bytes: one canonical JSON, so that the same content always hashes the
same, whatever the order of its keys or the types of its values."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from diarytrial.audit.services import jsonable

SignedContent = Mapping[str, Any] | bytes
"""What is signed: a record's content that matters (canonical JSON of it), or bytes as they are
(a certified copy's manifest)."""


def canonical_json(content: Mapping[str, Any]) -> bytes:
    """`content` as canonical JSON: keys sorted, no spaces, UTF-8; dates and times in ISO 8601
    (times in UTC), decimals and ids as text.

    >>> canonical_json({"b": 1, "a": [True, None]})
    b'{"a":[true,null],"b":1}'
    """
    text = json.dumps(jsonable(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def content_sha256(content: SignedContent) -> str:
    """The SHA-256 (hex) of `content`: of the bytes given, or of the canonical JSON of a mapping."""
    data = content if isinstance(content, bytes) else canonical_json(content)
    return hashlib.sha256(data).hexdigest()
