"""Reads of the safety app. All blinded-safe: events, dose levels and diary reports, no arms.

Lists of a study take the sites the reader may see (`sites`): the access layer passes
``sites_visible_to(user, study)``, and an empty collection shows nothing (deny by default).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from diarytrial.diary.models import SideEffectReport, Unpleasantness
from diarytrial.participants.models import DoseLevelChange, Participant
from diarytrial.safety.models import (
    AdverseEvent,
    EventStatus,
    Outcome,
    ReviewDecision,
    SideEffectReview,
)
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


UNRESOLVED = Q(end_date__isnull=True) | ~Q(outcome=Outcome.RECOVERED)
"""An adverse event is unresolved until it has an end date *and* its outcome is "recovered":
while ongoing (no end date, whatever the outcome), and when it ended with the outcome
"recovering", "not recovered" or "unknown", which still need follow-up. A "recovered" event
without an end date is unresolved too: its end date is missing."""


def adverse_event_listing(
    *,
    study: Study,
    sites: Sites,
    serious_only: bool = False,
    unresolved_only: bool = False,
    term: str = "",
    onset_from: dt.date | None = None,
    onset_to: dt.date | None = None,
) -> QuerySet[AdverseEvent]:
    """The recorded adverse events of `study` at `sites` that match the filters, newest onset
    first, each annotated ``unresolved`` (`UNRESOLVED`). `term`: a part of the term, any case;
    the onset dates are inclusive."""
    rows = adverse_events_for_study(study=study, sites=sites).annotate(
        unresolved=ExpressionWrapper(UNRESOLVED, output_field=BooleanField())
    )
    if serious_only:
        rows = rows.filter(serious=True)
    if unresolved_only:
        rows = rows.filter(UNRESOLVED)
    if term:
        rows = rows.filter(term__icontains=term)
    if onset_from is not None:
        rows = rows.filter(onset_date__gte=onset_from)
    if onset_to is not None:
        rows = rows.filter(onset_date__lte=onset_to)
    return rows


def dose_history(*, participant: Participant) -> list[DoseLevelChange]:
    """The participant's blinded dose levels, each from its date on; the first is the start."""
    return list(
        DoseLevelChange.objects.filter(participant=participant)
        .select_related("created_by")
        .order_by("effective_on", "id")
    )


EPISODE_GAP_DAYS = 3
"""A report at most this many days after the previous report of the same side effect continues
its episode: two nights without it (a missed diary, a good night) do not end it."""

_RANK = {Unpleasantness.NOT_AT_ALL: 0, Unpleasantness.SOMEWHAT: 1, Unpleasantness.VERY: 2}


def _rank(level: str) -> int:
    return _RANK.get(Unpleasantness(level), 0) if level in Unpleasantness.values else 0


def side_effect_review_list(*, participant: Participant) -> list[SideEffectReview]:
    """The decisions on the participant's diary side effects, oldest episode first."""
    return list(
        SideEffectReview.objects.filter(participant=participant).order_by("first_reported", "id")
    )


@dataclass(frozen=True)
class ReportLine:
    """One night's report of the side effect."""

    entry_id: int
    diary_date: dt.date
    unpleasantness: str

    @property
    def very(self) -> bool:
        return self.unpleasantness == Unpleasantness.VERY

    @property
    def label(self) -> str:
        return Unpleasantness(self.unpleasantness).label


@dataclass(frozen=True)
class SideEffectCandidate:
    """One episode of a side effect reported in the diary, for the coordinator to confirm as an
    adverse event or dismiss: the participant's undecided reports of it, night after night."""

    participant_id: int
    participant_code: str
    site_code: str
    side_effect: str
    label: str
    reports: tuple[ReportLine, ...]

    @property
    def first_reported(self) -> dt.date:
        return self.reports[0].diary_date

    @property
    def last_reported(self) -> dt.date:
        return self.reports[-1].diary_date

    @property
    def first_entry_id(self) -> int:
        return self.reports[0].entry_id

    @property
    def worst(self) -> str:
        return max((r.unpleasantness for r in self.reports), key=_rank)

    @property
    def very(self) -> bool:
        """A night rated "very unpleasant": the site's coordinators were e-mailed about it."""
        return any(report.very for report in self.reports)


@dataclass(frozen=True)
class _Decided:
    first: dt.date
    last: dt.date
    worst: str
    dismissed: bool


_Key = tuple[int, str]
"""(participant id, side effect): the reports, events and reviews of one participant's side
effect."""

_Covering = tuple[dt.date, dt.date | None, int | None]
"""A recorded adverse event of a side effect: (onset, end, id of the diary entry it confirms)."""

_ReportRow = tuple[int, dt.date, int, str, str, int, str, str]
"""A diary report as `_reports_in_scope` reads it: entry id, diary date, participant id, code,
site code, protocol version id, side effect, unpleasantness."""


def _episodes(
    reports: list[ReportLine],
    events: list[_Covering],
    reviews: list[_Decided],
) -> list[list[ReportLine]]:
    """The undecided episodes among one participant's `reports` of one side effect (by date).

    A report is decided when a recorded adverse event covers its date (onset on or before, no
    end or an end on or after) or confirms it (its diary entry), or when a review's dates
    include it. A dismissal also covers the rest of its episode: the reports that follow at most
    `EPISODE_GAP_DAYS` apart and are no more unpleasant than the worst one dismissed. The other
    reports make episodes: runs at most `EPISODE_GAP_DAYS` apart with no decided report between.
    """
    decided = [
        any(
            linked == r.entry_id or (onset <= r.diary_date and (end is None or r.diary_date <= end))
            for onset, end, linked in events
        )
        or any(review.first <= r.diary_date <= review.last for review in reviews)
        for r in reports
    ]
    gap = dt.timedelta(days=EPISODE_GAP_DAYS)
    for review in reviews:
        if not review.dismissed:
            continue
        previous = review.last
        for index, report in enumerate(reports):
            if report.diary_date <= review.last:
                continue
            if report.diary_date - previous > gap or _rank(report.unpleasantness) > _rank(
                review.worst
            ):
                break
            decided[index] = True
            previous = report.diary_date
    episodes: list[list[ReportLine]] = []
    current: list[ReportLine] = []
    for report, done in zip(reports, decided, strict=True):
        if done:
            current = []
            continue
        if current and report.diary_date - current[-1].diary_date > gap:
            current = []
        if not current:
            episodes.append(current)
        current.append(report)
    return episodes


def _reports_in_scope(scope: dict[str, object]) -> list[_ReportRow]:
    """The side effects reported in the diary of the participants in `scope`, by participant,
    side effect and date."""
    return list(
        SideEffectReport.objects.filter(**{f"entry__{k}": v for k, v in scope.items()})
        .order_by("entry__participant_id", "side_effect", "entry__diary_date")
        .values_list(
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


def _events_by_side_effect(scope: dict[str, object]) -> dict[_Key, list[_Covering]]:
    """The recorded adverse events of a checklist side effect in `scope`, by `_Key`."""
    events: dict[_Key, list[_Covering]] = defaultdict(list)
    for participant_id, effect, onset, end, entry_id in (
        AdverseEvent.objects.filter(status=EventStatus.RECORDED, **scope)
        .exclude(side_effect="")
        .values_list("participant_id", "side_effect", "onset_date", "end_date", "from_diary_entry")
    ):
        events[(participant_id, effect)].append((onset, end, entry_id))
    return events


def _reviews_by_side_effect(scope: dict[str, object]) -> dict[_Key, list[_Decided]]:
    """The reviews (confirmations and dismissals) in `scope`, by `_Key`, oldest episode first."""
    reviews: dict[_Key, list[_Decided]] = defaultdict(list)
    for participant_id, effect, first, last, worst, decision in (
        SideEffectReview.objects.filter(**scope)
        .order_by("first_reported")
        .values_list(
            "participant_id", "side_effect", "first_reported", "last_reported", "worst", "decision"
        )
    ):
        reviews[(participant_id, effect)].append(
            _Decided(first, last, worst, decision == ReviewDecision.DISMISSED)
        )
    return reviews


def _side_effect_labels(version_ids: set[int]) -> dict[int, dict[str, str]]:
    """The label of each checklist side effect, by protocol version id and side effect id."""
    return {
        version.pk: {
            effect.id: effect.label
            for effect in protocol_version_load(version).protocol.diary.side_effects
        }
        for version in ProtocolVersion.objects.filter(pk__in=version_ids).select_related("study")
    }


def _candidates_sorted(candidates: list[SideEffectCandidate]) -> list[SideEffectCandidate]:
    """Those with a "very unpleasant" night first, then the most recent."""
    candidates.sort(
        key=lambda c: (c.last_reported, c.participant_code, c.side_effect), reverse=True
    )
    candidates.sort(key=lambda c: not c.very)
    return candidates


def side_effect_candidates(
    *, study: Study, sites: Sites, participant: Participant | None = None
) -> list[SideEffectCandidate]:
    """The open candidates of `study` at `sites` (of `participant` only, when given).

    Each is one episode of one participant's side effect that no adverse event and no review
    has decided (`_episodes`); a side effect ticked thirty nights running is one candidate.
    Those with a "very unpleasant" night come first, then the most recent. Four queries
    whatever the number of reports.
    """
    site_list = _site_list(sites)
    scope: dict[str, object] = {"participant__study": study, "participant__site__in": site_list}
    if participant is not None:
        scope["participant"] = participant
    reports = _reports_in_scope(scope)
    if not reports:
        return []
    events = _events_by_side_effect(scope)
    reviews = _reviews_by_side_effect(scope)
    labels = _side_effect_labels({row[5] for row in reports})
    grouped: dict[_Key, list[ReportLine]] = defaultdict(list)
    about: dict[int, tuple[str, str, int]] = {}
    for entry_id, day, participant_id, code, site_code, version_id, effect, level in reports:
        grouped[(participant_id, effect)].append(ReportLine(entry_id, day, level))
        about[participant_id] = (code, site_code, version_id)
    candidates = []
    for (participant_id, effect), lines in grouped.items():
        code, site_code, version_id = about[participant_id]
        for episode in _episodes(
            lines,
            events.get((participant_id, effect), []),
            reviews.get((participant_id, effect), []),
        ):
            candidates.append(
                SideEffectCandidate(
                    participant_id=participant_id,
                    participant_code=code,
                    site_code=site_code,
                    side_effect=effect,
                    label=labels.get(version_id, {}).get(effect, effect),
                    reports=tuple(episode),
                )
            )
    return _candidates_sorted(candidates)


def side_effect_checklist(*, study: Study) -> dict[str, str]:
    """The side effects of the diary checklists of every protocol version of `study`, id to
    label (the latest version's label), in the order of the protocols."""
    labels: dict[str, str] = {}
    for version in (
        ProtocolVersion.objects.filter(study=study).select_related("study").order_by("number")
    ):
        for effect in protocol_version_load(version).protocol.diary.side_effects:
            labels[effect.id] = effect.label
    return labels


def side_effect_candidate_get(
    *, participant: Participant, side_effect: str, first_reported: dt.date | None
) -> SideEffectCandidate | None:
    """The participant's open candidate for `side_effect` from `first_reported`, or None."""
    for candidate in side_effect_candidates(
        study=participant.study, sites=[participant.site], participant=participant
    ):
        if (candidate.side_effect, candidate.first_reported) == (side_effect, first_reported):
            return candidate
    return None
