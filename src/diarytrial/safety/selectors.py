"""Reads of the safety app. All blinded-safe: events, dose levels and diary reports, no arms.

Lists of a study take the sites the reader may see (`sites`): the access layer passes
``sites_visible_to(user, study)``, and an empty collection shows nothing (deny by default).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from diarytrial.diary.models import SideEffectReport, Unpleasantness
from diarytrial.participants.models import DoseLevelChange, Participant
from diarytrial.safety.models import AdverseEvent, EventStatus
from diarytrial.studies.models import ProtocolVersion, Site, Study
from diarytrial.studies.selectors import protocol_version_load

Sites = Iterable[Site] | QuerySet[Site]


def _site_list(sites: Sites) -> QuerySet[Site] | list[Site]:
    return sites if isinstance(sites, QuerySet) else list(sites)


def adverse_event_list(
    *, participant: Participant, include_removed: bool = False
) -> list[AdverseEvent]:
    """The participant's adverse events by onset; removed ones only when asked for."""
    rows = AdverseEvent.objects.filter(participant=participant).select_related("recorded_by")
    if not include_removed:
        rows = rows.filter(status=EventStatus.RECORDED)
    return list(rows.order_by("onset_date", "id"))


def adverse_events_for_study(
    *, study: Study, sites: Sites, include_removed: bool = False
) -> QuerySet[AdverseEvent]:
    """The adverse events of `study`'s participants at `sites`, newest onset first."""
    rows = AdverseEvent.objects.filter(
        participant__study=study, participant__site__in=_site_list(sites)
    ).select_related("participant", "participant__site")
    if not include_removed:
        rows = rows.filter(status=EventStatus.RECORDED)
    return rows.order_by("-onset_date", "participant__code", "id")


def dose_history(*, participant: Participant) -> list[DoseLevelChange]:
    """The participant's blinded dose levels, each from its date on; the first is the start."""
    return list(
        DoseLevelChange.objects.filter(participant=participant)
        .select_related("created_by")
        .order_by("effective_on", "id")
    )


@dataclass(frozen=True)
class SideEffectCandidate:
    """A side effect reported in the diary and not (yet) covered by a recorded adverse event."""

    participant_id: int
    participant_code: str
    site_code: str
    entry_id: int
    diary_date: dt.date
    side_effect: str
    label: str
    unpleasantness: str

    @property
    def very(self) -> bool:
        """Rated "very unpleasant": the coordinator considers a blinded dose change."""
        return self.unpleasantness == Unpleasantness.VERY


_ORDER = {Unpleasantness.VERY: 0, Unpleasantness.SOMEWHAT: 1, Unpleasantness.NOT_AT_ALL: 2}


def side_effect_candidates(*, study: Study, sites: Sites) -> list[SideEffectCandidate]:
    """Diary side-effect reports for the coordinator to confirm as adverse events.

    A report is a candidate until a recorded adverse event of the same participant and side
    effect covers its diary date (onset on or before it, and no end or an end on or after it)
    or confirms it (``from_diary_entry``). "Very unpleasant" reports come first, then the
    newest. Three queries whatever the number of reports.
    """
    site_list = _site_list(sites)
    reports = list(
        SideEffectReport.objects.filter(
            entry__participant__study=study, entry__participant__site__in=site_list
        ).values_list(
            "entry_id",
            "entry__diary_date",
            "entry__participant_id",
            "entry__participant__code",
            "entry__participant__site__code",
            "entry__participant__protocol_version_id",
            "side_effect",
            "unpleasantness",
        )
    )
    if not reports:
        return []
    covering: dict[tuple[int, str], list[tuple[dt.date, dt.date | None, int | None]]]
    covering = defaultdict(list)
    for participant_id, effect, onset, end, entry_id in (
        AdverseEvent.objects.filter(
            participant__study=study,
            participant__site__in=site_list,
            status=EventStatus.RECORDED,
        )
        .exclude(side_effect="")
        .values_list("participant_id", "side_effect", "onset_date", "end_date", "from_diary_entry")
    ):
        covering[(participant_id, effect)].append((onset, end, entry_id))
    versions = {row[5] for row in reports}
    labels = {
        version.pk: {
            effect.id: effect.label
            for effect in protocol_version_load(version).protocol.diary.side_effects
        }
        for version in ProtocolVersion.objects.filter(pk__in=versions).select_related("study")
    }
    candidates = []
    for entry_id, day, participant_id, code, site_code, version_id, effect, level in reports:
        events = covering.get((participant_id, effect), [])
        if any(
            linked == entry_id or (onset <= day and (end is None or day <= end))
            for onset, end, linked in events
        ):
            continue
        candidates.append(
            SideEffectCandidate(
                participant_id=participant_id,
                participant_code=code,
                site_code=site_code,
                entry_id=entry_id,
                diary_date=day,
                side_effect=effect,
                label=labels.get(version_id, {}).get(effect, effect),
                unpleasantness=level,
            )
        )
    candidates.sort(key=lambda c: (c.diary_date, c.participant_code), reverse=True)
    candidates.sort(key=lambda c: _ORDER.get(Unpleasantness(c.unpleasantness), 3))
    return candidates
