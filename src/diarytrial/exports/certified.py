"""The investigator's certified copy of their site's data: what it holds and how it is laid out.

A certified copy is a ZIP of one folder:

- ``casebooks/<participant>.pdf``: one casebook per participant, printed by headless Chromium
  (``report.pdf.print_pdf``) from an HTML page: the participant's record, screening answers and
  consents, every diary entry with its answers and side effects, adverse events, dose levels,
  end-of-visit answers (PGIC, blinding question) and the participant's audit trail in words
  (``audit.wording``), redacted for a blinded reader. Times in the site's zone, with the offset.
- ``dataset/``: the trial dataset (docs/dataset.md) of those participants, as the reader may see
  it (blinded for an investigator), the same format as the study's export.
- ``SHA256SUMS``: the files above with their SHA-256, as ``sha256sum -c SHA256SUMS`` checks.
- ``manifest.json``: the study, the sites, the moment, the reader, and every file above (and
  ``SHA256SUMS``) with its SHA-256 and size. The investigator signs these bytes.
- ``signature.json``: the signature of ``manifest.json``: printed name, meaning, time, and the
  SHA-256 of the manifest it signed.

This module builds the files (reads only); ``exports.services.certified_copy_make`` signs the
manifest and records the export.
"""

from __future__ import annotations

import hashlib
import json
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string

from diarytrial.audit.selectors import audit_trail
from diarytrial.audit.wording import AuditReading
from diarytrial.exports.signing import casebook_content
from diarytrial.participants.models import Participant
from diarytrial.protocol import Protocol
from diarytrial.studies.zones import staff_zone

CERTIFIED_COPY_LIMIT = 200
"""The most participants one certified copy holds. Each casebook is printed by its own headless
Chromium (about half a second to a second each), within the request: 200 casebooks take a few
minutes. A reader with more participants downloads one site at a time."""

CASEBOOKS = "casebooks"
DATASET = "dataset"
SUMS = "SHA256SUMS"
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
MANIFEST_FORMAT = "diarytrial certified copy 1"


@dataclass(frozen=True)
class ListedFile:
    """A file of the copy as the manifest lists it."""

    path: str
    sha256: str
    size: int


def file_sha256(path: Path) -> str:
    """The SHA-256 (hex) of the file at `path`, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def files_listed(folder: Path) -> list[ListedFile]:
    """Every file under `folder`, by path, with its SHA-256 and size."""
    return [
        ListedFile(path.relative_to(folder).as_posix(), file_sha256(path), path.stat().st_size)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


def sums_text(files: Iterable[ListedFile]) -> str:
    """The files as ``sha256sum`` writes them (two spaces: text mode), one a line."""
    return "".join(f"{f.sha256}  {f.path}\n" for f in files)


def manifest_bytes(
    *,
    study: dict[str, Any],
    sites: list[dict[str, str]],
    made_at: str,
    made_by: dict[str, str],
    blinded: bool,
    participants: list[str],
    files: list[ListedFile],
) -> bytes:
    """The manifest as the investigator signs it: JSON, keys sorted, UTF-8, one final newline."""
    document = {
        "format": MANIFEST_FORMAT,
        "study": study,
        "sites": sites,
        "made_at": made_at,
        "made_by": made_by,
        "blinded": blinded,
        "participants": participants,
        "files": [{"path": f.path, "sha256": f.sha256, "bytes": f.size} for f in files],
    }
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


@dataclass(frozen=True)
class CasebookPage:
    """What a casebook's page shows, read from the database."""

    participant: Participant
    content: dict[str, Any]
    zone: zoneinfo.ZoneInfo
    trail: list[Any]


def casebook_page(participant: Participant, *, unblinded: bool) -> CasebookPage:
    """The participant's casebook content and audit trail (oldest first), in words for a reader
    who is `unblinded` or not."""
    zone = staff_zone(site=participant.site)
    events = list(
        audit_trail(study_slug=participant.study.slug, participant=participant.code).order_by(
            "occurred_at", "id"
        )
    )
    trail = AuditReading(zone=zone, unblinded=unblinded).word_all(events)
    return CasebookPage(
        participant=participant, content=casebook_content(participant), zone=zone, trail=trail
    )


def _item_label(protocol: Protocol, item_id: str) -> str:
    try:
        return protocol.diary.item(item_id).label
    except KeyError:
        return item_id


def _side_effect_label(protocol: Protocol, side_effect: str) -> str:
    labels = {s.id: s.label for s in protocol.diary.side_effects}
    return labels.get(side_effect, side_effect)


def casebook_html(
    page: CasebookPage,
    *,
    protocol: Protocol,
    unblinded: bool,
    made_at: Any,
    made_by: str,
) -> str:
    """The casebook's HTML, from which its PDF is printed."""
    content = page.content
    items = [item.id for item in protocol.diary.items]
    diary = []
    for entry in content["diary"]:
        answers = entry["answers"]
        extra = sorted(set(answers) - set(items))
        diary.append(
            {
                **entry,
                "values": [answers.get(item) for item in items]
                + [f"{key}: {answers[key]}" for key in extra],
                "side_effect_labels": [
                    f"{_side_effect_label(protocol, name)} ({level})"
                    for name, level in sorted(entry["side_effects"].items())
                ],
            }
        )
    return render_to_string(
        "exports/certified/casebook.html",
        {
            "participant": page.participant,
            "record": content["participant"],
            "content": content,
            "diary": diary,
            "item_labels": [_item_label(protocol, item) for item in items],
            "trail": page.trail,
            "page_zone": page.zone,
            "unblinded": unblinded,
            "made_at": made_at,
            "made_by": made_by,
            "study": page.participant.study,
        },
    )
