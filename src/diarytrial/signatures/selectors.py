"""Reading signatures, and checking each against the content it signed as it is now."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from diarytrial.signatures.content import SignedContent, content_sha256
from diarytrial.signatures.models import Signature, SignedAct


@dataclass(frozen=True)
class CheckedSignature:
    """A signature and whether the content it signed is still what it signed.

    `valid` is None when the content can no longer be read (the record is gone), so the
    signature can be neither confirmed nor refuted.
    """

    signature: Signature
    valid: bool | None

    @property
    def state(self) -> str:
        """ "valid", "invalid" or "unknown", as pages and exports show it."""
        return {True: "valid", False: "invalid", None: "unknown"}[self.valid]

    def as_metadata(self) -> dict[str, Any]:
        """The signature as exports write it (datapackage.json, CSV)."""
        s = self.signature
        return {
            "id": s.pk,
            "act": s.act,
            "record": s.object_repr,
            "participant": s.participant_code,
            "signer": s.signer.get_username(),
            "printed_name": s.printed_name,
            "meaning": s.get_meaning_display(),
            "signed_at": s.signed_at.isoformat(),
            "content_sha256": s.content_sha256,
            "state": self.state,
        }


SIGNATURE_COLUMNS = (
    "id",
    "act",
    "record",
    "participant",
    "signer",
    "printed_name",
    "meaning",
    "signed_at",
    "content_sha256",
    "state",
)
"""The columns of a signatures CSV, in order (the keys of `CheckedSignature.as_metadata`)."""


def signature_matches(signature: Signature, content: SignedContent) -> bool:
    """Whether `content`, as it is now, is what `signature` signed (its SHA-256 is the same)."""
    return content_sha256(content) == signature.content_sha256


def signature_check(signature: Signature, content: SignedContent | None) -> CheckedSignature:
    """`signature` checked against `content` (None: the content can no longer be read)."""
    valid = None if content is None else signature_matches(signature, content)
    return CheckedSignature(signature=signature, valid=valid)


def signatures_of(
    *, object_type: str, object_ids: Iterable[str], acts: Iterable[SignedAct] | None = None
) -> dict[str, list[Signature]]:
    """The signatures of the records `object_ids` of `object_type`, oldest first, by record."""
    ids = [str(i) for i in object_ids]
    found: dict[str, list[Signature]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = Signature.objects.filter(object_type=object_type, object_id__in=ids)
    if acts is not None:
        rows = rows.filter(act__in=[act.value for act in acts])
    for signature in rows.select_related("signer").order_by("signed_at", "id"):
        found[signature.object_id].append(signature)
    return found


def signatures_checked(
    signatures: Mapping[str, list[Signature]],
    content_of: Callable[[str], SignedContent | None],
) -> dict[str, list[CheckedSignature]]:
    """Each record's signatures checked against its content now (computed once per record)."""
    checked: dict[str, list[CheckedSignature]] = {}
    for object_id, rows in signatures.items():
        content = content_of(object_id) if rows else None
        checked[object_id] = [signature_check(s, content) for s in rows]
    return checked
