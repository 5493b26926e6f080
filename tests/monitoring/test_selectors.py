"""The dashboard's reads: night statuses across start, completion and withdrawal, late entries,
tonight's window across time zones, the run of missed nights, the weekly numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st
from tests.builders import (
    make_allocation,
    make_device,
    make_dispensing,
    make_kits,
    make_site,
    make_study,
    make_user,
)
from tests.monitoring.helpers import (
    EVENING,
    LA,
    NOON,
    TOKYO,
    day,
    enrolled,
    fill,
    fill_late,
    nights,
)

from diarytrial.devices.services import device_revoke
from diarytrial.diary.models import DiaryEntry
from diarytrial.monitoring.selectors import GridQuery, study_dashboard
from diarytrial.monitoring.selectors.positions import WHOLE_WEEK, week_masks
from diarytrial.monitoring.selectors.summaries import missed_runs
from diarytrial.participants.services import participant_complete, participant_withdraw
from diarytrial.protocol.compliance import diary_compliance_nights
from diarytrial.staff.participants.overview import participant_list_rows
from diarytrial.studies.models import Site, Study

pytestmark = pytest.mark.django_db


@pytest.fixture
def noon() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def study(noon: time_machine.Traveller) -> Study:
    return make_study()


@pytest.fixture
def site(study: Study) -> Site:
    return make_site(study=study, code="stanford")


def _row(dashboard, code):  # type: ignore[no-untyped-def]
    return next(row for row in dashboard.grid.rows if row.position.code == code)


def test_grid_statuses_across_start_late_and_not_yet_due(study: Study, site: Site) -> None:
    participant = enrolled(study, site, start=day(10))
    fill(participant, [day(10), day(11), day(13)])
    fill_late(participant, day(14))

    dashboard = study_dashboard(study=study, sites=[site])

    grid = dashboard.grid
    assert grid.nights[0] == day(21, 2)
    assert grid.nights[-1] == day(20)
    by_night = dict(zip(grid.nights, _row(dashboard, participant.code).nights, strict=True))
    assert by_night[day(9)] == "before_start"
    assert [by_night[day(n)] for n in (10, 11, 12, 13, 14, 15)] == [
        "filled", "filled", "missed", "filled", "late", "missed"
    ]  # fmt: skip
    assert by_night[day(19)] == "missed"  # last night: its window closed at 03:00
    assert by_night[day(20)] == "not_yet_due"  # tonight's window opens at 18:00
    position = _row(dashboard, participant.code).position
    assert (position.grid_filled, position.grid_late, position.grid_missed) == (4, 1, 6)
    assert position.missed_run == 5  # 14 (late) was the last entry; 15 to 19 missed


def test_counts_agree_with_the_participant_list(study: Study, site: Site) -> None:
    participant = enrolled(study, site, start=day(1))
    fill(participant, nights(day(1), day(12)))
    fill_late(participant, day(15))

    position = _row(study_dashboard(study=study, sites=[site]), participant.code).position
    row = participant_list_rows(study=study, sites=Site.objects.filter(study=study))[0]

    # The grid covers every night of this diary, so its counts are the list's (whose nights
    # pass at midnight, not when the window closes: the same here, at noon).
    assert (position.grid_filled, position.grid_late, position.grid_missed) == (
        row.diary.entries,
        row.diary.late,
        row.diary.missed,
    )


def test_withdrawal_and_completion_end_the_diary(study: Study, site: Site, noon) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(dt.datetime(2026, 3, 1, 19, 0, tzinfo=dt.UTC), tick=False):
        leaving = enrolled(study, site, start=day(1))
        make_allocation(study=study)
        finishing = enrolled(study, site, start=day(1), randomized=True)
        make_kits(study=study, per_arm_and_level=2)
        make_dispensing(participant=finishing)
    fill(leaving, nights(day(1), day(5)))
    participant_withdraw(participant=leaving, reason="Moved away", on=day(8), actor=None)
    fill(finishing, nights(day(1), day(10)))
    participant_complete(participant=finishing, on=day(10), actor=None)

    dashboard = study_dashboard(study=study, sites=[site])

    left = dict(zip(dashboard.grid.nights, _row(dashboard, leaving.code).nights, strict=True))
    assert [left[day(n)] for n in (5, 6, 7, 8, 9, 20)] == [
        "filled", "missed", "missed", "withdrawn", "withdrawn", "withdrawn"
    ]  # fmt: skip
    done = dict(zip(dashboard.grid.nights, _row(dashboard, finishing.code).nights, strict=True))
    assert [done[day(n)] for n in (10, 11, 20)] == ["filled", "after_end", "after_end"]
    # Neither is expected tonight, nor flagged for missed nights: their diaries have ended.
    assert dashboard.tonight.expected == 0
    assert dashboard.missed_runs == ()


def test_tonight_in_each_participants_own_time_zone(study: Study, site: Site) -> None:
    boston = make_site(study=study, code="boston")
    in_la = enrolled(study, site, start=day(1), tz=LA)
    in_tokyo = enrolled(study, boston, start=day(1), tz=TOKYO)

    at_noon = study_dashboard(study=study, sites=[site, boston], now=NOON)
    la, tokyo = (_row(at_noon, p.code).position for p in (in_la, in_tokyo))
    assert (la.night.tonight, la.night.window_open) == (day(20), False)
    assert (tokyo.night.tonight, tokyo.night.window_open) == (day(21), False)
    assert at_noon.grid.nights[-1] == day(21)

    with time_machine.travel(EVENING, tick=False):
        fill(in_la, [day(20)])
        evening = study_dashboard(study=study, sites=[site, boston])
    la, tokyo = (_row(evening, p.code).position for p in (in_la, in_tokyo))
    assert (la.night.tonight, la.night.window_open, la.tonight_filled) == (day(20), True, True)
    assert (tokyo.night.tonight, tokyo.night.window_open) == (day(21), False)
    assert (evening.tonight.expected, evening.tonight.received, evening.tonight.window_open) == (
        2,
        1,
        1,
    )
    by_site = {line.site.code: (line.expected, line.received) for line in evening.tonight_by_site}
    assert by_site == {"stanford": (1, 1), "boston": (1, 0)}
    # Tonight's entry is in, so tonight is the last night due and kept: no run for LA; Tokyo's
    # last night due is the 20th, its own last night.
    assert (la.as_of, la.missed_run) == (day(20), 0)
    assert (tokyo.as_of, tokyo.missed_run) == (day(20), 20)


def test_the_run_of_missed_nights_and_the_phone(study: Study, site: Site) -> None:
    kept = enrolled(study, site, start=day(1))
    fill(kept, nights(day(1), day(19)))
    one = enrolled(study, site, start=day(1))
    fill(one, nights(day(1), day(18)))
    two = enrolled(study, site, start=day(1))
    fill(two, nights(day(1), day(17)))
    device, _ = make_device(two)
    silent = enrolled(study, site, start=day(1))
    revoked = enrolled(study, site, start=day(15))
    lost, _ = make_device(revoked)
    device_revoke(device=lost, reason="Phone lost", actor=make_user(username="cora"))

    runs = study_dashboard(study=study, sites=[site]).missed_runs

    assert [(run.position.code, run.run) for run in runs] == sorted(
        [(silent.code, 19), (revoked.code, 5), (two.code, 2)], key=lambda pair: -pair[1]
    )
    phones = {run.position.code: run.phone for run in runs}
    assert phones[silent.code].kind == "none"
    assert phones[silent.code].words == "No phone set up"
    assert phones[revoked.code].kind == "revoked"
    assert phones[two.code].kind == "active"
    assert runs[-1].since == day(18)
    del device


def test_filter_sort_and_pages(study: Study, site: Site) -> None:
    boston = make_site(study=study, code="boston")
    first = enrolled(study, site, start=day(1))
    second = enrolled(study, boston, start=day(1))
    fill(second, nights(day(1), day(19)))

    only_boston = study_dashboard(study=study, sites=[site, boston], query=GridQuery(site="boston"))
    assert [row.position.code for row in only_boston.grid.rows] == [second.code]
    worst_first = study_dashboard(
        study=study, sites=[site, boston], query=GridQuery(sort="-missed")
    )
    assert [row.position.code for row in worst_first.grid.rows] == [first.code, second.code]
    beyond = study_dashboard(study=study, sites=[site, boston], query=GridQuery(page=99))
    assert (beyond.grid.page, beyond.grid.pages, beyond.grid.total) == (1, 1, 2)


def test_weekly_compliance_uses_the_one_definition(study: Study, site: Site) -> None:
    early = enrolled(study, site, start=day(2))
    fill(early, [*nights(day(2), day(8)), day(10), day(19)])
    late_start = enrolled(study, site, start=day(16))
    fill(late_start, [day(16)])

    weeks = {w.start: w for w in study_dashboard(study=study, sites=[site]).weeks}

    for monday in (day(2), day(9), day(16)):
        expected = filled = 0
        for participant, entries in (
            (early, set([*nights(day(2), day(8)), day(10), day(19)])),
            (late_start, {day(16)}),
        ):
            start = participant.start_date
            assert start is not None
            counts = diary_compliance_nights(
                start=start,
                last_day=None,
                as_of=day(19),
                filled=entries,
                periods=[(max(monday, start), monday + dt.timedelta(days=6))],
            ).periods[0]
            expected, filled = expected + counts.expected, filled + counts.filled
        assert (weeks[monday].expected, weeks[monday].filled) == (expected, filled)
    assert (weeks[day(2)].expected, weeks[day(2)].filled) == (7, 7)
    assert (weeks[day(16)].expected, weeks[day(16)].filled) == (8, 2)


def test_enrolment_against_the_target(study: Study, site: Site) -> None:
    enrolled(study, site, start=day(1))
    enrolled(study, site, start=day(2))

    dashboard = study_dashboard(study=study, sites=[site])

    assert dashboard.enrolment.target == 30
    assert dashboard.enrolment.enrolled == 2
    assert dashboard.enrolment.percent == 7


def test_the_longest_runs_are_listed_and_all_are_counted(study: Study, site: Site) -> None:
    short = enrolled(study, site, start=day(1))
    fill(short, nights(day(1), day(16)))  # 17 to 19: 3 missed
    long = enrolled(study, site, start=day(1))
    fill(long, nights(day(1), day(9)))  # 10 to 19: 10 missed
    never = enrolled(study, site, start=day(12))  # 12 to 19: 8 missed

    positions = study_dashboard(study=study, sites=[site]).grid.rows
    shown, total = missed_runs([row.position for row in positions], limit=2)

    assert total == 3
    assert [(run.position.code, run.run) for run in shown] == [(long.code, 10), (never.code, 8)]
    assert short.code not in {run.position.code for run in shown}


@pytest.mark.parametrize("later", range(7))
def test_the_grids_counts_are_the_entries_whatever_the_weekday(
    study: Study, site: Site, noon: time_machine.Traveller, later: int
) -> None:
    """The grid's nights are summed from the diary's week tallies (the weeks at either end by
    the days their bits mark): the sums are the entries' own counts on every day of the week."""
    steady = enrolled(study, site, start=day(1))
    fill(steady, [night for night in nights(day(1), day(19)) if night.day % 3])
    fill_late(steady, day(18))
    lapsed = enrolled(study, site, start=day(1))
    fill(lapsed, [day(2)])  # before the grid's nights: its last entry is still found
    noon.move_to(NOON + dt.timedelta(days=later))

    dashboard = study_dashboard(study=study, sites=[site])

    first, last = dashboard.grid.nights[0], dashboard.grid.nights[-1]
    for participant in (steady, lapsed):
        position = _row(dashboard, participant.code).position
        entries = DiaryEntry.objects.filter(participant=participant)
        shown = entries.filter(diary_date__gte=first, diary_date__lte=last)
        assert (position.grid_filled, position.grid_late) == (
            shown.count(),
            shown.filter(late=True).count(),
        )
        assert position.last_entry == max(e.diary_date for e in entries)


@given(
    first=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 1, 1)),
    length=st.integers(min_value=1, max_value=100),
)
def test_the_weeks_days_marked_cover_each_night_once(first: dt.date, length: int) -> None:
    last = first + dt.timedelta(days=length - 1)
    weeks = week_masks(first, last)
    covered = [
        monday + dt.timedelta(days=weekday)
        for monday, mask in weeks
        for weekday in range(7)
        if mask >> weekday & 1
    ]
    assert covered == nights(first, last)
    assert all(monday.weekday() == 0 and mask for monday, mask in weeks)
    assert sum(mask != WHOLE_WEEK for _monday, mask in weeks) <= 2  # the weeks at either end
