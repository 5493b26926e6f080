"""Schedule arithmetic: phases, study days and conditions, for any start and sequence."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diarytrial.protocol import EXAMPLES, load_example, make_schedule

PROTOCOLS = {name: load_example(name).protocol for name in EXAMPLES}

starts = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31))


@st.composite
def protocol_and_sequence(draw: st.DrawFn) -> tuple[str, tuple[str, ...]]:
    name = draw(st.sampled_from(EXAMPLES))
    return name, draw(st.sampled_from(PROTOCOLS[name].sequences))


@given(protocol_and_sequence(), starts)
def test_phases_tile_the_schedule(chosen: tuple[str, tuple[str, ...]], start: dt.date) -> None:
    name, sequence = chosen
    protocol = PROTOCOLS[name]
    schedule = make_schedule(protocol, sequence, start)
    assert schedule.phases[0].start == start
    for before, after in zip(schedule.phases, schedule.phases[1:], strict=False):
        assert after.start == before.end + dt.timedelta(days=1)
    assert sum(p.days for p in schedule.phases) == schedule.total_days
    treatments = schedule.treatment_phases()
    assert tuple(p.arm for p in treatments) == sequence
    assert [p.period for p in treatments] == list(range(1, len(sequence) + 1))


@given(protocol_and_sequence(), starts, st.integers(min_value=-30, max_value=400))
def test_every_day_is_in_exactly_one_phase(
    chosen: tuple[str, tuple[str, ...]], start: dt.date, offset: int
) -> None:
    name, sequence = chosen
    schedule = make_schedule(PROTOCOLS[name], sequence, start)
    day = start + dt.timedelta(days=offset)
    position = schedule.locate(day)
    holding = [p for p in schedule.phases if day in p]
    if 0 <= offset < schedule.total_days:
        assert position is not None
        assert holding == [position.phase]
        assert position.study_day == offset + 1
        assert position.day_in_phase == (day - position.phase.start).days + 1
        if position.phase.arm is not None:
            expected = PROTOCOLS[name].condition_of(position.phase.arm)
            assert position.condition == expected
    else:
        assert position is None
        assert holding == []


def test_unequal_periods_follow_the_arm() -> None:
    protocol = PROTOCOLS["ldn-fibromyalgia"]
    first = make_schedule(protocol, ("placebo", "ldn"), dt.date(2026, 3, 1))
    assert [(p.condition, p.days) for p in first.phases] == [
        ("baseline", 14),
        ("placebo", 28),
        ("washout", 14),
        ("active", 84),
    ]
    assert first.period(2).start == dt.date(2026, 4, 26)
    assert first.locate(dt.date(2026, 3, 14)).condition == "baseline"  # type: ignore[union-attr]
    assert first.locate(dt.date(2026, 3, 15)).condition == "placebo"  # type: ignore[union-attr]


def test_nof1_blocks() -> None:
    protocol = PROTOCOLS["nof1-ldn"]
    sequence = protocol.sequences[3]
    schedule = make_schedule(protocol, sequence, dt.date(2026, 1, 1))
    assert [p.block for p in schedule.treatment_phases()] == [1, 1, 2, 2, 3, 3]
    assert schedule.total_days == 7 + 6 * 14


def test_unknown_sequence_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a sequence of this protocol"):
        make_schedule(PROTOCOLS["ldn-fibromyalgia"], ("ldn", "ldn"), dt.date(2026, 1, 1))
    with pytest.raises(KeyError, match="no period 3"):
        make_schedule(
            PROTOCOLS["ldn-fibromyalgia"], ("ldn", "placebo"), dt.date(2026, 1, 1)
        ).period(3)
