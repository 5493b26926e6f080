"""The blinded visit calendar: the same visits for every sequence, and the kits behind them."""

from __future__ import annotations

import pytest

from diarytrial.protocol import ProtocolError, load_example, parse_protocol
from diarytrial.protocol.schema import Protocol
from diarytrial.protocol.visits import (
    WASHOUT,
    kit_arm,
    periods_closed,
    pgic_visits,
    visit_calendar,
)

LDN = load_example("ldn-fibromyalgia").protocol
NOF1 = load_example("nof1-ldn").protocol


def _variant(**design: object) -> Protocol:
    """The LDN protocol with some [design] and [blinding] fields changed."""
    text = load_example("ldn-fibromyalgia").text
    washout = design.pop("washout_capsules", True)
    if not washout:
        text = text.replace('washout = "placebo_capsules"', 'washout = "no_capsules"')
    for key, value in design.items():
        start = text.index(f"\n{key} = ") + 1
        end = text.index("\n", start)
        text = text[:start] + f"{key} = {value}" + text[end:]
    return parse_protocol(text, source="variant.toml").protocol


def test_the_ldn_visits_fall_on_the_union_of_both_sequences_boundaries() -> None:
    calendar = visit_calendar(LDN)
    assert [v.treatment_day for v in calendar.visits] == [0, 28, 42, 84, 98, 126]
    assert [(s.first_day, s.last_day) for s in calendar.stretches] == [
        (1, 28),
        (29, 42),
        (43, 84),
        (85, 98),
        (99, 126),
    ]
    assert calendar.visits[2].describe() == "Visit 3, treatment day 42: kit for days 43-84"
    assert calendar.visits[-1].describe() == "Visit 6, treatment day 126: end of treatment"
    assert calendar.blind
    assert calendar.problems == ()


def test_each_sequence_kit_holds_its_own_arm_stretch_by_stretch() -> None:
    contents = visit_calendar(LDN).contents
    assert contents[("ldn", "placebo")] == ("ldn", "ldn", "ldn", WASHOUT, "placebo")
    assert contents[("placebo", "ldn")] == ("placebo", WASHOUT, "ldn", "ldn", "ldn")
    # With placebo capsules during the washout, every visit dispenses a kit to everyone.
    assert [kit_arm(LDN, c) for c in contents[("placebo", "ldn")]] == [
        "placebo",
        "placebo",
        "ldn",
        "ldn",
        "ldn",
    ]


def test_a_washout_without_capsules_at_different_times_is_named_as_the_leak() -> None:
    protocol = _variant(washout_capsules=False)
    calendar = visit_calendar(protocol)
    assert not calendar.blind
    (problem,) = calendar.problems
    assert "treatment days 29-42 and 85-98 are washout for some sequences only" in problem
    assert kit_arm(protocol, WASHOUT) is None


def test_sequences_of_different_total_length_cannot_share_a_calendar() -> None:
    protocol = _variant(sequences='[["ldn", "placebo", "ldn"], ["placebo", "ldn", "placebo"]]')
    calendar = visit_calendar(protocol)
    assert not calendar.blind
    assert "ABA 224 days, BAB 168 days" in calendar.problems[0]
    per_period = _variant(treatment_days="[84, 28]")
    assert visit_calendar(per_period).blind  # by period, not by arm: the same boundaries
    assert [v.treatment_day for v in visit_calendar(per_period).visits] == [0, 84, 98, 126]


def test_equal_periods_keep_one_kit_per_period() -> None:
    protocol = _variant(treatment_days="28", washout_capsules=False)
    calendar = visit_calendar(protocol)
    assert [v.treatment_day for v in calendar.visits] == [0, 28, 42, 70]
    assert calendar.contents[("ldn", "placebo")] == ("ldn", WASHOUT, "placebo")
    assert calendar.blind  # the washout falls on the same days for everyone


def test_every_nof1_sequence_shares_one_calendar_of_one_visit_per_period() -> None:
    calendar = visit_calendar(NOF1)
    assert [v.treatment_day for v in calendar.visits] == [0, 14, 28, 42, 56, 70, 84]
    assert len(calendar.contents) == len(NOF1.sequences) == 8
    assert all(len(c) == 6 for c in calendar.contents.values())
    assert calendar.blind


@pytest.mark.parametrize(
    ("day", "stretch"), [(0, None), (1, 1), (28, 1), (29, 2), (126, 5), (127, None)]
)
def test_a_treatment_day_falls_in_one_stretch(day: int, stretch: int | None) -> None:
    found = visit_calendar(LDN).stretch_on(day)
    assert (found.number if found else None) == stretch


def test_the_last_visit_so_far() -> None:
    calendar = visit_calendar(LDN)
    assert calendar.last_visit_on_or_before(-3) is None
    visit = calendar.last_visit_on_or_before(50)
    assert visit is not None
    assert visit.number == 3


def test_placebo_capsules_for_a_washout_that_does_not_exist_are_refused() -> None:
    text = load_example("nof1-ldn").text.replace(
        'label = "Study capsule"', 'label = "Study capsule"\nwashout = "placebo_capsules"'
    )
    with pytest.raises(ProtocolError, match="no washout"):
        parse_protocol(text, source="nof1.toml")


def test_the_questions_are_asked_at_every_visit_after_the_first() -> None:
    calendar = visit_calendar(LDN)
    assert [v.number for v in calendar.answer_visits] == [2, 3, 4, 5, 6]
    assert pgic_visits(LDN, calendar) == (2, 3, 4, 5, 6)
    visit = calendar.visit(3)
    assert visit is not None
    stretch = calendar.stretch_closed_by(visit)
    assert stretch is not None
    assert (stretch.first_day, stretch.last_day) == (29, 42)
    assert calendar.stretch_closed_by(calendar.visits[0]) is None
    assert calendar.visit(0) is None
    assert calendar.visit(7) is None


@pytest.mark.parametrize(("schedule", "asked"), [("end_of_study", (6,)), ("never", ())])
def test_the_pgic_schedule_picks_the_visits(schedule: str, asked: tuple[int, ...]) -> None:
    text = load_example("ldn-fibromyalgia").text.replace(
        'schedule = "end_of_each_treatment_period"', f'schedule = "{schedule}"'
    )
    protocol = parse_protocol(text, source="pgic.toml").protocol
    assert pgic_visits(protocol, visit_calendar(protocol)) == asked


def test_which_visit_closes_a_period_depends_on_the_sequence() -> None:
    calendar = visit_calendar(LDN)
    assert periods_closed(LDN, calendar, ("ldn", "placebo")) == {4: 1, 6: 2}
    assert periods_closed(LDN, calendar, ("placebo", "ldn")) == {2: 1, 6: 2}
    nof1 = visit_calendar(NOF1)
    assert periods_closed(NOF1, nof1, NOF1.sequences[0]) == {k + 1: k for k in range(1, 7)}
