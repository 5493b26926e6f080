"""Reads of the studies app."""

from __future__ import annotations

import functools

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
