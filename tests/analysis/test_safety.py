"""Adverse events, side effects and dose reductions: against R and by hand.

The R reference (fixtures/safety/make_fixtures.R) wrote a random 14-person trial to CSV and
computed every table from those files with base R: attribution of each date to its phase,
exposure, counts, ``binom.test(n10, n10 + n01, 0.5)`` (exact McNemar) and
``poisson.test(c(x1, x2), c(T1, T2))``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import pandas as pd
import pytest
from tests.analysis.fixtures.safety.fixture_trial import REFERENCE, day, r_trial, tiny_trial

from diarytrial.analysis.safety import (
    adverse_event_table,
    attribute_to_phases,
    dose_reduction_table,
    dose_reductions,
    latest_data_date,
    poisson_rate_comparison,
    side_effect_table,
)

# --- against R -------------------------------------------------------------------------------


def _rows(frame: pd.DataFrame, key: str) -> dict[tuple[str, str], dict[Any, Any]]:
    return {(str(r[key]), str(r["condition"])): r for r in frame.to_dict("records")}


def test_the_data_cut_and_attribution_match_r() -> None:
    trial = r_trial()
    assert latest_data_date(trial) == dt.date.fromisoformat(REFERENCE["cut"])
    events = attribute_to_phases(trial, trial.adverse_events, date="onset_date")
    expected = dict(
        zip(REFERENCE["attribution"]["ae_id"], REFERENCE["attribution"]["condition"], strict=True)
    )
    assert dict(zip(events["ae_id"], events["condition"], strict=True)) == expected
    assert {"outside", "after_withdrawal", "washout"} <= set(expected.values())


def test_adverse_event_table_matches_r() -> None:
    table = adverse_event_table(r_trial())
    reference = REFERENCE["adverse_events"]
    assert list(zip(table["term"], table["condition"], strict=True)) == [
        (r["term"], r["condition"]) for r in reference
    ]
    got = _rows(table, "term")
    for expected in reference:
        row = got[(expected["term"], expected["condition"])]
        for column in ("exposed", "exposure_days", "participants", "events", "serious_events"):
            assert row[column] == expected[column], (expected["term"], column)
        if expected["condition"] != "active":
            assert pd.isna(row["pairs"])
            assert math.isnan(row["p_participants"])
            continue
        assert row["pairs"] == expected["pairs"]
        # R: binom.test(n10, n10 + n01, 0.5)$p.value
        assert row["p_participants"] == pytest.approx(expected["p_participants"], rel=1e-10)
        # R: poisson.test(c(x1, x2), c(T1, T2))  -> $p.value, $estimate, $conf.int
        assert row["p_events"] == pytest.approx(expected["p_events"], rel=1e-10)
        assert row["rate_ratio"] == pytest.approx(expected["rate_ratio"], rel=1e-12)
        ci = (row["rate_ratio_ci_low"], row["rate_ratio_ci_high"])
        assert ci == pytest.approx(expected["rate_ratio_ci"], rel=1e-10)


def test_side_effect_table_matches_r() -> None:
    table = side_effect_table(r_trial())
    reference = REFERENCE["side_effects"]
    assert list(zip(table["side_effect"], table["condition"], strict=True)) == [
        (r["side_effect"], r["condition"]) for r in reference
    ]
    assert "rash" in set(table["side_effect"])  # reported, not on the protocol's checklist
    got = _rows(table, "side_effect")
    for expected in reference:
        row = got[(expected["side_effect"], expected["condition"])]
        for column in ("exposed", "diary_days", "participants", "reports", "very_unpleasant"):
            assert row[column] == expected[column], (expected["side_effect"], column)
        share = expected["reports"] / expected["diary_days"]
        assert row["share_of_days"] == pytest.approx(share, rel=1e-12)
        if expected["condition"] == "active":
            assert row["pairs"] == expected["pairs"]
            # R: binom.test(n10, n10 + n01, 0.5)$p.value
            assert row["p_participants"] == pytest.approx(expected["p_participants"], rel=1e-10)


def test_dose_reductions_match_r() -> None:
    trial = r_trial()
    reference = REFERENCE["doses"]
    found = dose_reductions(trial)
    assert found["participant_id"].tolist() == reference["reductions"]["participant_id"]
    assert (
        found["effective_on"].dt.strftime("%Y-%m-%d").tolist()
        == (reference["reductions"]["effective_on"])
    )
    assert found["condition"].tolist() == reference["reductions"]["condition"]
    table = dose_reduction_table(trial).set_index("condition")
    assert table["participants"].to_dict() == reference["participants"]
    assert table["reductions"].to_dict() == reference["reductions_by_condition"]
    assert table.loc["active", "pairs"] == reference["pairs"]
    # R: binom.test(n10, n10 + n01, 0.5)$p.value
    assert table.loc["active", "p_participants"] == pytest.approx(
        reference["p_participants"], rel=1e-10
    )


@pytest.mark.parametrize("name", sorted(REFERENCE["poisson"]))
def test_poisson_rate_comparison_matches_r(name: str) -> None:
    case = REFERENCE["poisson"][name]
    result = poisson_rate_comparison(case["x1"], case["t1"], case["x2"], case["t2"])
    # R: poisson.test(c(x1, x2), c(t1, t2))  -> $p.value, $estimate, $conf.int
    assert result.p == pytest.approx(case["p"], rel=1e-10)
    if math.isnan(case["rate_ratio"]):
        assert math.isnan(result.rate_ratio)
    else:
        assert result.rate_ratio == pytest.approx(case["rate_ratio"], rel=1e-12)
    assert (result.ci_low, result.ci_high) == pytest.approx(case["ci"], rel=1e-10)


# --- by hand, on the tiny trial ------------------------------------------------------------
# Schedules (January 2026): P1 and P3 baseline 1-3, active 4-8, washout 9-10, placebo 11-14;
# P2 baseline 1-3, placebo 4-7, washout 8-9, active 10-14. P3 withdraws on January 6.


def _ae(pid: str, ae_id: str, term: str, onset: int, *, serious: bool = False) -> dict[str, Any]:
    return {
        "participant_id": pid,
        "ae_id": ae_id,
        "term": term,
        "side_effect": None,
        "onset_date": day(onset),
        "end_date": pd.NaT,
        "severity": "mild",
        "serious": serious,
        "related": "possible",
        "action": "none",
        "outcome": "recovered",
    }


def _ae_trial() -> Any:
    events = pd.DataFrame(
        [
            _ae("P1", "AE1", "Headache", 4),  # first day of active
            _ae("P1", "AE2", "Headache", 8),  # last day of active
            _ae("P1", "AE3", "Nausea", 9),  # washout
            _ae("P1", "AE4", "Headache", 14, serious=True),  # last day of placebo
            _ae("P3", "AE5", "Nausea", 6),  # the day of withdrawal: still counted
            _ae("P3", "AE6", "Headache", 7),  # after withdrawal
            _ae("P2", "AE7", "Headache", 0),  # 31 December: before the schedule
            _ae("P2", "AE8", "Dizziness", 15),  # after the schedule
            _ae("P4", "AE9", "Headache", 5),  # a participant without a schedule
        ]
    )
    return tiny_trial(adverse_events=events)


def test_attribution_at_the_edges_of_phases() -> None:
    trial = _ae_trial()
    events = attribute_to_phases(trial, trial.adverse_events, date="onset_date")
    assert events["condition"].tolist() == [
        "active",
        "active",
        "washout",
        "placebo",
        "active",
        "after_withdrawal",
        "outside",
        "outside",
        "outside",
    ]
    assert events["phase"].tolist()[:4] == [1, 1, 2, 3]
    assert events["period"].tolist()[:4] == [1, 1, pd.NA, 2]
    cut = attribute_to_phases(trial, trial.adverse_events, date="onset_date", as_of=day(12).date())
    assert cut["condition"].tolist()[3] == "after_data_cut"


def test_adverse_event_table_by_hand() -> None:
    table = adverse_event_table(_ae_trial())
    assert table["term"].unique().tolist() == ["Any adverse event", "Headache", "Nausea"]
    rows = _rows(table, "term")
    counts = ["exposed", "exposure_days", "participants", "events", "serious_events"]
    any_ae = {c: [rows[("Any adverse event", c)][k] for k in counts] for c in ("baseline",)}
    assert any_ae["baseline"] == [3, 9, 0, 0, 0]
    # Active: P1 5 days, P2 5, P3 3 (January 4-6, the withdrawal day included).
    assert [rows[("Any adverse event", "active")][k] for k in counts] == [3, 13, 2, 3, 0]
    assert [rows[("Any adverse event", "placebo")][k] for k in counts] == [2, 8, 1, 1, 1]
    assert [rows[("Any adverse event", "washout")][k] for k in counts] == [2, 4, 1, 1, 0]
    assert [rows[("Headache", "active")][k] for k in counts] == [3, 13, 1, 2, 0]
    active = rows[("Any adverse event", "active")]
    # P1 (events under both) and P2 (under neither) are the pairs: no discordant pair.
    assert active["pairs"] == 2
    assert active["p_participants"] == 1.0
    tiny = REFERENCE["poisson"]["tiny_any"]
    # R: poisson.test(c(3, 1), c(13, 8))
    assert active["p_events"] == pytest.approx(tiny["p"], rel=1e-10)
    assert active["rate_ratio"] == pytest.approx((3 / 13) / (1 / 8))
    assert active["rate_ratio_ci_high"] == pytest.approx(tiny["ci"][1], rel=1e-10)


def test_a_data_cut_shortens_exposure_and_drops_later_events() -> None:
    table = adverse_event_table(_ae_trial(), as_of=dt.date(2026, 1, 12))
    rows = _rows(table, "term")
    active, placebo = rows[("Any adverse event", "active")], rows[("Any adverse event", "placebo")]
    assert (active["exposure_days"], active["events"]) == (11, 3)  # P2 active 10-12 only
    assert (placebo["exposure_days"], placebo["events"]) == (6, 0)  # P1 placebo 11-12 only
    tiny = REFERENCE["poisson"]["tiny_any_as_of"]
    # R: poisson.test(c(3, 0), c(11, 6))
    assert active["p_events"] == pytest.approx(tiny["p"], rel=1e-10)
    assert active["rate_ratio"] == math.inf


def test_without_placebo_days_the_comparison_is_nan() -> None:
    schedules = {"P1": [(1, 3, "baseline"), (4, 8, "active")]}
    events = pd.DataFrame([_ae("P1", "AE1", "Headache", 5)])
    table = adverse_event_table(tiny_trial(schedules=schedules, adverse_events=events))
    active = table[(table["term"] == "Headache") & (table["condition"] == "active")].iloc[0]
    assert active["pairs"] == 0
    assert math.isnan(active["p_participants"])
    assert math.isnan(active["p_events"])
    assert math.isnan(active["rate_ratio"])
    placebo = table[table["condition"] == "placebo"].iloc[0]
    assert (placebo["exposed"], placebo["exposure_days"]) == (0, 0)


def test_no_adverse_events_gives_the_any_row_with_zeros() -> None:
    table = adverse_event_table(tiny_trial())
    assert table["term"].unique().tolist() == ["Any adverse event"]
    active = table[table["condition"] == "active"].iloc[0]
    assert active["events"] == 0
    assert active["p_events"] == 1.0  # as R's poisson.test(c(0, 0), ...)
    assert math.isnan(active["rate_ratio"])


def _dose(pid: str, on: int, level: str) -> dict[str, Any]:
    return {"participant_id": pid, "effective_on": day(on), "dose_level": level, "reason": "r"}


def test_dose_reductions_by_hand() -> None:
    doses = pd.DataFrame(
        [
            _dose("P1", 4, "standard"),
            _dose("P1", 6, "reduced"),  # reduction, active
            _dose("P1", 9, "standard"),  # back up: not a reduction
            _dose("P1", 12, "reduced"),  # reduction, placebo
            _dose("P2", 10, "standard"),  # listed out of order on purpose
            _dose("P2", 4, "reduced"),  # start
            _dose("P2", 11, "standard"),  # same level: not a reduction
        ]
    )
    trial = tiny_trial(doses=doses)
    found = dose_reductions(trial)
    assert found[["participant_id", "from_level", "to_level", "condition"]].to_numpy().tolist() == [
        ["P1", "standard", "reduced", "active"],
        ["P1", "standard", "reduced", "placebo"],
    ]
    assert found["effective_on"].tolist() == [day(6), day(12)]
    table = dose_reduction_table(trial).set_index("condition")
    counts = table[["participants", "reductions"]]
    assert list(counts.loc["active"]) == [1, 1]
    assert list(counts.loc["placebo"]) == [1, 1]
    assert table.loc["active", "pairs"] == 2
    assert table.loc["active", "p_participants"] == 1.0


def _effect(pid: str, on: int, effect: str, unpleasantness: str) -> dict[str, Any]:
    return {
        "participant_id": pid,
        "diary_date": day(on),
        "side_effect": effect,
        "unpleasantness": unpleasantness,
    }


def test_side_effect_table_by_hand() -> None:
    nights = [("P1", n) for n in range(1, 15) if n not in (6, 12)]
    nights += [("P2", n) for n in range(1, 15)] + [("P3", n) for n in range(1, 7)]
    effects = pd.DataFrame(
        [
            _effect("P1", 4, "headache", "very"),
            _effect("P1", 4, "nausea", "somewhat"),
            _effect("P1", 5, "headache", "not_at_all"),
            _effect("P1", 12, "headache", "very"),  # a night without diary answers
            _effect("P2", 5, "nausea", "somewhat"),
            _effect("P3", 7, "headache", "very"),  # after withdrawal: not counted
        ]
    )
    table = side_effect_table(tiny_trial(diary=nights, side_effects=effects))
    assert table["side_effect"].unique().tolist()[:3] == ["(any)", "vivid_dreams", "headache"]
    rows = _rows(table, "side_effect")
    columns = ["exposed", "diary_days", "participants", "reports", "very_unpleasant"]
    # Active diary days: P1 4, 5, 7, 8; P2 10-14; P3 4-6 (its withdrawal day included).
    assert [rows[("(any)", "active")][k] for k in columns] == [3, 12, 1, 2, 1]
    # Placebo: P1 11-14 (12 by its report), P2 4-7.
    assert [rows[("(any)", "placebo")][k] for k in columns] == [2, 8, 2, 2, 1]
    assert [rows[("headache", "active")][k] for k in columns] == [3, 12, 1, 2, 1]
    assert [rows[("nausea", "placebo")][k] for k in columns] == [2, 8, 1, 1, 0]
    assert rows[("(any)", "active")]["share_of_days"] == pytest.approx(2 / 12)
    assert rows[("vivid_dreams", "active")]["share_of_days"] == 0.0
    assert math.isnan(rows[("vivid_dreams", "baseline")]["p_participants"])
    # Pairs P1 (yes, yes) and P2 (no, yes): one discordant pair.
    assert rows[("(any)", "active")]["pairs"] == 2
    assert rows[("(any)", "active")]["p_participants"] == 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.adverse_events.drop(columns="onset_date"), "'onset_date'"),
        (lambda t: t.adverse_events.assign(onset_date=pd.NaT), "no onset_date"),
    ],
)
def test_bad_adverse_events_are_refused(change: Any, message: str) -> None:
    trial = _ae_trial()
    broken = tiny_trial(adverse_events=change(trial))
    with pytest.raises(ValueError, match=message):
        adverse_event_table(broken)


def test_bad_tables_say_what_to_fix() -> None:
    trial = tiny_trial(doses=pd.DataFrame([_dose("P1", 4, "double")]))
    with pytest.raises(ValueError, match=r"dose level.*double.*reduced, standard"):
        dose_reductions(trial)
    plain = tiny_trial()
    people = plain.participants.drop(columns="withdrawn_on")
    with pytest.raises(ValueError, match="participants table has no column 'withdrawn_on'"):
        adverse_event_table(dataclasses.replace(plain, participants=people))
    with pytest.raises(ValueError, match="events_a is a count"):
        poisson_rate_comparison(-1, 10, 2, 10)
    with pytest.raises(ValueError, match="exposure time"):
        poisson_rate_comparison(1, -10, 2, 10)
