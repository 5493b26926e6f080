"""Reads of the studies app."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.protocol import ProtocolFile, parse_protocol
from diarytrial.studies.errors import ProtocolVersionAlteredError, StudyNotFoundError
from diarytrial.studies.models import ProtocolVersion, Study


def study_get(slug: str) -> Study:
    """The study whose protocol study.id is `slug`; raises StudyNotFoundError."""
    try:
        return Study.objects.get(slug=slug)
    except Study.DoesNotExist:
        raise StudyNotFoundError(
            f"There is no study {slug!r}; create it from its protocol file first "
            f"(diarytrial study_create FILE).",
            extra={"study": slug},
        ) from None


def study_current_protocol(study: Study) -> ProtocolVersion:
    """The study's protocol version with the highest number."""
    return ProtocolVersion.objects.select_related("study").filter(study=study).latest("number")


@functools.lru_cache(maxsize=64)
def _parse_cached(text: str, source: str) -> ProtocolFile:
    # Services read the protocol on every write; a version's text never changes, and the
    # parsed ProtocolFile is immutable, so each distinct text is parsed once per process.
    return parse_protocol(text, source=source)


def protocol_version_load(version: ProtocolVersion) -> ProtocolFile:
    """The stored protocol text, parsed again; raises ProtocolVersionAlteredError if it was changed.

    The text was valid when recorded; a ProtocolError here means the protocol schema changed
    incompatibly since, which is a bug to fix in the code, not in the data.
    """
    loaded = _parse_cached(version.text, version.source)
    if loaded.sha256 != version.sha256:
        raise ProtocolVersionAlteredError(
            f"The stored text of protocol version {version.number} of {version.study.slug!r} "
            f"no longer matches its recorded SHA-256 {version.sha256}: the database row was "
            f"changed outside diarytrial. Restore it from a backup before going on.",
            extra={"study": version.study.slug, "version": version.number},
        )
    return loaded


@dataclass(frozen=True)
class LockRecord:
    """How the study's database was locked: when, and the override if open items were left."""

    locked_at: dt.datetime
    override_reason: str
    """Empty when nothing of the lock checklist that holds the lock back was open."""
    open_at_lock: dict[str, int] = field(default_factory=dict)
    """Each checklist item open at the lock (its key: its count), recorded with an override."""

    def as_metadata(self) -> dict[str, object]:
        """The record as the dataset's ``datapackage.json`` gives it (docs/dataset.md)."""
        return {
            "locked_at": self.locked_at.astimezone(dt.UTC).isoformat(),
            "override_reason": self.override_reason or None,
            "open_at_lock": dict(self.open_at_lock),
        }


def study_lock_record(study: Study) -> LockRecord | None:
    """The current lock of `study` (read from the database), or None while it is unlocked.

    Two queries: the study's lock fields and, after an override, the LOCK event's counts.
    """
    locked_at, override = (
        Study.objects.filter(pk=study.pk).values_list("locked_at", "lock_override_reason").get()
    )
    if locked_at is None:
        return None
    open_at_lock: dict[str, int] = {}
    if override:
        event = (
            AuditEvent.objects.filter(
                study_slug=study.slug,
                action=AuditAction.LOCK,
                object_type="studies.study",
                object_id=str(study.pk),
            )
            .order_by("-id")
            .first()
        )
        for change in event.changes if event is not None else []:
            if change.get("field") == "open_at_lock" and isinstance(change.get("new"), dict):
                open_at_lock = {str(key): int(count) for key, count in change["new"].items()}
    return LockRecord(locked_at=locked_at, override_reason=override, open_at_lock=open_at_lock)
