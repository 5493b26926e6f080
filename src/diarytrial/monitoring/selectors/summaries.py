"""The dashboard's aggregates over every participant in view: tonight by site, the runs of
missed nights with each phone's state, compliance by week, and enrolment against the target."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from django.db.models import Count, Q, Sum

from diarytrial.devices.models import Device
from diarytrial.diary.models import DiaryWeekTally
from diarytrial.monitoring.selectors.positions import DiaryPosition
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.studies.models import Site, Study

WEEKS = 12
MISSED_RUN_FLAG = 2
"""Missed nights in a row from which a participant is flagged."""
MISSED_RUNS_SHOWN = 50
"""The longest runs listed; the grid sorted by missed nights in a row shows everyone."""


@dataclass(frozen=True)
class TonightCount:
    """Tonight at one site (or the whole study when `site` is None)."""

    site: Site | None
    expected: int
    """Participants whose diary includes tonight."""
    received: int
    """Of those, the ones whose entry for tonight is in."""
    window_open: int
    """Of those, the ones whose window is open now, in their own time zone."""

    @property
    def label(self) -> str:
        return "All your sites" if self.site is None else f"{self.site.code} ({self.site.name})"


def tonight_counts(
    positions: Sequence[DiaryPosition], sites: Sequence[Site]
) -> tuple[TonightCount, tuple[TonightCount, ...]]:
    """(the study's total, one count per site) of the entries expected and received tonight."""
    expected: collections.Counter[str] = collections.Counter()
    received: collections.Counter[str] = collections.Counter()
    open_now: collections.Counter[str] = collections.Counter()
    for p in positions:
        if p.in_diary_tonight:
            expected[p.site_code] += 1
            received[p.site_code] += p.tonight_filled
            open_now[p.site_code] += p.night.window_open
    by_site = tuple(
        TonightCount(site, expected[site.code], received[site.code], open_now[site.code])
        for site in sites
    )
    total = TonightCount(
        None, sum(expected.values()), sum(received.values()), sum(open_now.values())
    )
    return total, by_site


PhoneKind = Literal["none", "revoked", "active"]


@dataclass(frozen=True)
class PhoneState:
    """The participant's phone as the diary knows it: none ever set up, all revoked, or one
    active (with when it was last seen, None if it has not been seen since it was set up)."""

    kind: PhoneKind
    when: dt.datetime | None = None

    @property
    def words(self) -> str:
        if self.kind == "none":
            return "No phone set up"
        if self.kind == "revoked":
            return f"Phone revoked {self.when:%Y-%m-%d}" if self.when else "Phone revoked"
        if self.when is None:
            return "Phone set up, not seen since"
        return f"Phone last seen {self.when:%Y-%m-%d %H:%M} UTC"

    @property
    def what_to_do(self) -> str:
        if self.kind == "active":
            return (
                "Call the participant; if the phone is lost or broken, revoke it and make a "
                "new phone link."
            )
        return "Make a new phone link on the participant's page and hand it over."


@dataclass(frozen=True)
class MissedRun:
    """A participant with `MISSED_RUN_FLAG` or more missed nights in a row up to last night."""

    position: DiaryPosition
    phone: PhoneState

    @property
    def run(self) -> int:
        return self.position.missed_run

    @property
    def since(self) -> dt.date:
        """The first night of the run."""
        return self.position.as_of - dt.timedelta(days=self.run - 1)


def missed_runs(
    positions: Sequence[DiaryPosition], *, limit: int = MISSED_RUNS_SHOWN
) -> tuple[tuple[MissedRun, ...], int]:
    """The `limit` longest runs (longest first, then by code), each with the participant's
    phone (one query), and how many participants are flagged in all."""
    flagged = [p for p in positions if p.missed_run >= MISSED_RUN_FLAG]
    total = len(flagged)
    flagged.sort(key=lambda p: (-p.missed_run, p.code))
    del flagged[limit:]
    seen: dict[int, list[dt.datetime | None]] = collections.defaultdict(list)
    revoked: dict[int, dt.datetime] = {}
    devices = Device.objects.filter(participant_id__in=[p.participant_id for p in flagged])
    for participant_id, last_seen_at, revoked_at in devices.values_list(
        "participant_id", "last_seen_at", "revoked_at"
    ):
        if revoked_at is None:
            seen[participant_id].append(last_seen_at)
        else:
            revoked[participant_id] = max(revoked_at, revoked.get(participant_id, revoked_at))
    phones: dict[int, PhoneState] = {}
    for participant_id, moments in seen.items():
        known = [moment for moment in moments if moment is not None]
        phones[participant_id] = PhoneState("active", max(known) if known else None)
    for participant_id, moment in revoked.items():
        phones.setdefault(participant_id, PhoneState("revoked", moment))
    shown = tuple(MissedRun(p, phones.get(p.participant_id, PhoneState("none"))) for p in flagged)
    return shown, total


@dataclass(frozen=True)
class WeekCompliance:
    """Diary nights of one calendar week (Monday to Sunday): due and filled, all participants."""

    start: dt.date
    expected: int
    filled: int

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)

    @property
    def percent(self) -> int | None:
        """Whole percent: a decimal one could read like a dose in mg on a blinded page."""
        return round(100 * self.filled / self.expected) if self.expected else None


def weekly_compliance(
    *, sites: Sequence[Site], positions: Sequence[DiaryPosition], last: dt.date
) -> tuple[WeekCompliance, ...]:
    """The `WEEKS` calendar weeks up to the one of `last`: nights due (by the one definition:
    each diary's `due_span`, in its position) and entries received.

    Entries are summed from the diary's week tallies (`DiaryWeekTally`); the diary takes no
    entry outside a participant's span or after tonight, so they are the nights filled that
    the definition would count (tests/monitoring compares both with `diary_compliance_nights`).
    """
    monday = last - dt.timedelta(days=last.weekday())
    weeks = [monday - dt.timedelta(weeks=back) for back in range(WEEKS - 1, -1, -1)]
    spans = [(week, week + dt.timedelta(days=6)) for week in weeks]
    # Nights due by date, from each diary's span of due nights (the definition's), as a
    # running sum: +1 on its first night in the window, -1 after its last.
    first, end = weeks[0], spans[-1][1]
    change: collections.Counter[dt.date] = collections.Counter()
    for p in positions:
        span = p.due
        if span is None or span[1] < first or span[0] > end:
            continue
        change[max(span[0], first)] += 1
        change[min(span[1], end) + dt.timedelta(days=1)] -= 1
    expected = [0] * WEEKS
    running = 0
    for offset in range((end - first).days + 1):
        running += change[first + dt.timedelta(days=offset)]
        expected[offset // 7] += running
    # The entries of each week, from the tallies the diary keeps (one row per participant
    # and week: far fewer than the entries).
    by_week = dict(
        DiaryWeekTally.objects.filter(
            # The Mondays listed and the sites: the index of tallies by week and site alone.
            site__in=sites,
            week__in=weeks,
        )
        .order_by()
        .values("week")
        .annotate(n=Sum("entries"))
        .values_list("week", "n")
    )
    return tuple(
        WeekCompliance(start=week, expected=expected[index], filled=by_week.get(week, 0))
        for index, week in enumerate(weeks)
    )


@dataclass(frozen=True)
class SiteEnrolment:
    """Participants of one site: screened only, enrolled (ever), completed, withdrawn."""

    site: Site
    screened: int
    enrolled: int
    completed: int
    withdrawn: int


@dataclass(frozen=True)
class Enrolment:
    """Enrolment at the reader's sites against the protocol's target (None: no target set)."""

    target: int | None
    by_site: tuple[SiteEnrolment, ...]
    all_sites: bool
    """The reader sees every site of the study, so the total is the study's."""

    @property
    def enrolled(self) -> int:
        return sum(site.enrolled for site in self.by_site)

    @property
    def percent(self) -> int | None:
        """Whole percent of the target."""
        return round(100 * self.enrolled / self.target) if self.target else None


def enrolment(
    *, study: Study, sites: Sequence[Site], target: int | None, all_sites: bool
) -> Enrolment:
    """Participants enrolled at each of `sites` (one query) against the study's `target`."""
    counts = {
        row["site_id"]: row
        for row in Participant.objects.filter(study=study, site__in=sites)
        .order_by()
        .values("site_id")
        .annotate(
            screened=Count("pk", filter=Q(enrolled_at__isnull=True)),
            enrolled=Count("pk", filter=Q(enrolled_at__isnull=False)),
            completed=Count("pk", filter=Q(status=ParticipantStatus.COMPLETED)),
            withdrawn=Count(
                "pk", filter=Q(status=ParticipantStatus.WITHDRAWN, enrolled_at__isnull=False)
            ),
        )
    }
    empty = {"screened": 0, "enrolled": 0, "completed": 0, "withdrawn": 0}
    return Enrolment(
        target=target,
        by_site=tuple(
            SiteEnrolment(
                site=site,
                screened=counts.get(site.pk, empty)["screened"],
                enrolled=counts.get(site.pk, empty)["enrolled"],
                completed=counts.get(site.pk, empty)["completed"],
                withdrawn=counts.get(site.pk, empty)["withdrawn"],
            )
            for site in sites
        ),
        all_sites=all_sites,
    )
