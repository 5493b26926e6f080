"""The simulator: determinism, a valid dataset, and the features the model promises."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from diarytrial.dataset import TrialDataset, validate_dataset
from diarytrial.protocol import load_example, make_schedule, parse_protocol, window_bounds
from diarytrial.simulate import SimulationParameters, participant_codes, simulate_trial

TABLE_NAMES = (
    "participants",
    "periods",
    "diary",
    "side_effects",
    "doses",
    "adverse_events",
    "pgic",
)


@cache
def ldn_trial(participants: int = 300, seed: int = 11) -> TrialDataset:
    return simulate_trial(load_example("ldn-fibromyalgia"), participants=participants, seed=seed)


def test_same_seed_same_tables_and_another_seed_differs() -> None:
    protocol = load_example("ldn-fibromyalgia")
    first = simulate_trial(protocol, participants=40, seed=5)
    second = simulate_trial(protocol, participants=40, seed=5)
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(first.table(name), second.table(name))
    assert (
        first.provenance
        == second.provenance
        == {
            "generator": "diarytrial simulate",
            "seed": 5,
            "participants": 40,
            "parameters": "calibrated LDN defaults",
        }
    )
    other = simulate_trial(protocol, participants=40, seed=6)
    assert not first.diary["value"].equals(other.diary["value"])
    assert set(first.participants["participant_id"]) != set(other.participants["participant_id"])


def test_a_generator_is_accepted_as_seed() -> None:
    protocol = load_example("nof1-ldn")
    a = simulate_trial(protocol, participants=1, seed=np.random.default_rng(3))
    b = simulate_trial(protocol, participants=1, seed=np.random.default_rng(3))
    pd.testing.assert_frame_equal(a.diary, b.diary)
    assert a.provenance["seed"] is None


def test_the_dataset_validates() -> None:
    assert [issue.describe() for issue in validate_dataset(ldn_trial())] == []


def test_diary_invariants() -> None:
    trial = ldn_trial()
    diary, people = trial.diary, trial.participants.set_index("participant_id")
    keys = diary[["participant_id", "diary_date", "item"]].astype(str)
    assert not keys.duplicated().any()
    items = {item.id: item for item in trial.protocol.protocol.diary.items}
    assert set(diary["item"].astype(str)) == set(items)
    assert (diary["value"] == diary["value"].round()).all()
    assert diary["value"].between(0, 100).all()
    spans = trial.periods.groupby("participant_id").agg(first=("start", "min"), last=("end", "max"))
    dated = diary.join(spans, on="participant_id").join(
        people[["withdrawn_on"]], on="participant_id"
    )
    assert (dated["diary_date"] >= dated["first"]).all()
    assert (dated["diary_date"] <= dated["last"]).all()
    withdrawn = dated["withdrawn_on"].notna()
    assert (dated.loc[withdrawn, "diary_date"] < dated.loc[withdrawn, "withdrawn_on"]).all()


def test_periods_are_the_planned_schedule() -> None:
    trial = ldn_trial(participants=30)
    protocol = trial.protocol.protocol
    for person in trial.participants.itertuples():
        sequence = tuple(person.sequence.split("-"))
        schedule = make_schedule(protocol, sequence, person.start_date.date())
        rows = trial.periods[trial.periods["participant_id"] == person.participant_id]
        assert [(p.index, p.condition, p.start, p.end, p.arm) for p in schedule.phases] == [
            (r.phase, r.condition, r.start.date(), r.end.date(), None if pd.isna(r.arm) else r.arm)
            for r in rows.itertuples()
        ]


def test_participants_codes_statuses_and_allocation() -> None:
    trial = ldn_trial()
    people = trial.participants
    assert people["participant_id"].is_unique
    assert all(re.fullmatch(r"P-[2-9A-HJKMNP-Z]{4}", code) for code in people["participant_id"])
    assert set(people["status"]) == {"completed", "withdrawn"}
    withdrawn = people["status"] == "withdrawn"
    assert people.loc[withdrawn, "withdrawn_on"].notna().all()
    assert people.loc[withdrawn, "withdrawal_reason"].notna().all()
    assert people.loc[~withdrawn, "withdrawn_on"].isna().all()
    assert 0.04 < withdrawn.mean() < 0.17
    # Recruitment is staggered over months, and sequences are balanced by blocks of 2 or 4
    # in each opioid stratum (an imbalance of at most 2 per stratum).
    assert (people["start_date"].max() - people["start_date"].min()).days > 300
    for _, group in people.groupby("opioid_use"):
        counts = group["sequence"].value_counts()
        assert counts.max() - counts.min() <= 2


def test_codes_are_unique_for_large_trials() -> None:
    codes = participant_codes(5000, np.random.default_rng(1))
    assert len(set(codes)) == 5000


def test_about_one_day_in_ten_is_missing_and_more_later() -> None:
    trial = ldn_trial()
    people = trial.participants.set_index("participant_id")
    filled = (
        trial.diary.groupby(["participant_id", "diary_date"], observed=True).size().reset_index()
    )
    filled["day"] = (
        filled["diary_date"] - filled["participant_id"].astype(str).map(people["start_date"])
    ).dt.days
    completers = people.index[people["status"] == "completed"]
    mine = filled[filled["participant_id"].astype(str).isin(completers)]
    share = 1 - len(mine) / (len(completers) * 140)
    assert 0.06 < share < 0.14
    early = 1 - (mine["day"] < 40).sum() / (len(completers) * 40)
    late = 1 - (mine["day"] >= 100).sum() / (len(completers) * 40)
    assert late > early


def test_submission_times_fall_in_the_window_or_are_late_within_grace() -> None:
    trial = ldn_trial(participants=60)
    diary_spec = trial.protocol.protocol.diary
    entries = trial.diary.drop_duplicates(["participant_id", "diary_date"])
    tz = ZoneInfo("America/Los_Angeles")
    grace = pd.Timedelta(hours=diary_spec.late_sync_grace_hours)
    for row in entries.itertuples():
        opens, closes = window_bounds(row.diary_date.date(), tz, diary_spec)
        submitted = row.submitted_at.to_pydatetime()
        if row.late:
            assert closes < submitted <= closes + grace
        else:
            assert opens <= submitted < closes
    assert 0 < entries["late"].mean() < 0.08


def test_submission_times_across_daylight_saving_changes() -> None:
    # Enrol everyone in March so that schedules cross both of 2026's clock changes.
    trial = simulate_trial(
        load_example("ldn-fibromyalgia"),
        participants=20,
        seed=3,
        start=dt.date(2026, 2, 20),
        parameters=dataclasses.replace(SimulationParameters(), recruitment_days=20),
    )
    diary_spec = trial.protocol.protocol.diary
    tz = ZoneInfo("America/Los_Angeles")
    entries = trial.diary.drop_duplicates(["participant_id", "diary_date"])
    on_time = entries[~entries["late"]]
    assert (on_time["diary_date"] == pd.Timestamp("2026-03-07")).any()
    for row in on_time.itertuples():
        opens, closes = window_bounds(row.diary_date.date(), tz, diary_spec)
        assert opens <= row.submitted_at.to_pydatetime() < closes


def test_side_effects_doses_adverse_events_and_pgic() -> None:
    trial = ldn_trial(participants=600, seed=4)
    periods = trial.periods
    ticked = trial.side_effects.merge(periods, on="participant_id")
    ticked = ticked[
        (ticked["diary_date"] >= ticked["start"]) & (ticked["diary_date"] <= ticked["end"])
    ]
    days = trial.diary.drop_duplicates(["participant_id", "diary_date"])
    days = days.assign(participant_id=days["participant_id"].astype(str)).merge(
        periods, on="participant_id"
    )
    days = days[(days["diary_date"] >= days["start"]) & (days["diary_date"] <= days["end"])]
    filled = days.groupby("condition").size()
    rate = ticked.groupby(["side_effect", "condition"]).size() / filled
    assert rate["vivid_dreams", "active"] > 2 * rate["vivid_dreams", "placebo"]
    assert rate["headache", "active"] > 1.5 * rate["headache", "placebo"]
    assert rate["diarrhea", "active"] < 2 * rate["diarrhea", "placebo"]
    assert set(trial.side_effects["unpleasantness"]) == {"not_at_all", "somewhat", "very"}

    # Dose reductions in both arms, the start level by opioid use.
    doses = trial.doses
    people = trial.participants.set_index("participant_id")
    starts = doses[doses["reason"] == "start"].set_index("participant_id")["dose_level"]
    opioid = people["opioid_use"].reindex(starts.index)
    assert (starts[opioid] == "reduced").all()
    assert (starts[~opioid] == "standard").all()
    reductions = doses[doses["reason"] != "start"].merge(periods, on="participant_id")
    reductions = reductions[
        (reductions["effective_on"] > reductions["start"])
        & (reductions["effective_on"] <= reductions["end"] + pd.Timedelta(days=1))
    ]
    assert {"active", "placebo"} <= set(reductions["condition"])
    assert (doses[doses["reason"] != "start"]["dose_level"] == "reduced").all()

    events = trial.adverse_events
    assert events["ae_id"].is_unique
    assert (events["action"] == "dose_reduced").sum() == (doses["reason"] != "start").sum()
    assert set(events["severity"]) <= {"mild", "moderate", "severe"}

    pgic = trial.pgic.merge(
        periods[["participant_id", "period", "condition"]].dropna(), on=["participant_id", "period"]
    )
    assert pgic["score"].between(1, 7).all()
    means = pgic.groupby("condition")["score"].mean()
    assert means["active"] < means["placebo"]  # 1 = very much improved


def test_nof1_protocol_one_participant() -> None:
    trial = simulate_trial(load_example("nof1-ldn"), participants=1, seed=8)
    assert len(trial.participants) == 1
    assert len(trial.periods) == 1 + 6
    assert trial.diary["value"].between(0, 10).all()
    assert (trial.diary["value"] == trial.diary["value"].round()).all()
    assert sorted(trial.pgic["period"].tolist()) == list(range(1, 7))
    assert validate_dataset(trial) == []
    # mood is optional in this protocol: it is sometimes left blank on a filled day.
    many = simulate_trial(load_example("nof1-ldn"), participants=50, seed=8)
    counts = many.diary["item"].astype(str).value_counts()
    assert counts["mood"] < counts["pain"]


OTHER = """
schema_version = 1
[study]
id = "other"
title = "Another drug, other items"
[dosing]
levels = ["low"]
start_level = "low"
[[arms]]
id = "drug"
name = "Drug"
role = "active"
dose_mg = { low = 10 }
[[arms]]
id = "dummy"
name = "Dummy"
role = "placebo"
dose_mg = { low = 0 }
[design]
kind = "crossover"
sequences = [["drug", "dummy"], ["dummy", "drug"]]
baseline_days = 7
treatment_days = [21, 35]
[diary]
opens = 07:00:00
closes = 12:00:00
late_sync_grace_hours = 0
[[diary.items]]
id = "itch"
label = "Itch"
question = "How itchy?"
scale = "nrs_0_10"
anchors = ["none", "worst"]
direction = "higher_is_worse"
[[diary.items]]
id = "energy"
label = "Energy"
question = "How much energy?"
scale = "slider_0_100"
anchors = ["none", "plenty"]
direction = "higher_is_better"
[responder]
rule = "itch >= 30"
[randomization]
strata = ["site"]
"""


def test_a_protocol_with_unknown_items_simulates_sensibly() -> None:
    loaded = parse_protocol(OTHER, source="other.toml")
    parameters = dataclasses.replace(SimulationParameters(), sites=("north", "south"))
    trial = simulate_trial(loaded, participants=200, seed=2, parameters=parameters)
    assert validate_dataset(trial) == []
    diary = trial.diary
    itch = diary[diary["item"] == "itch"]["value"]
    energy = diary[diary["item"] == "energy"]["value"]
    assert itch.between(0, 10).all()
    assert energy.between(0, 100).all()
    assert 3 < itch.mean() < 8
    assert not diary["late"].any()  # no grace: nothing can arrive late
    assert trial.side_effects.empty
    assert trial.adverse_events.empty
    assert set(trial.participants["site"]) == {"north", "south"}
    # Unequal periods: the schedule ends 7 + 21 + 35 days after the start.
    lengths = (
        trial.periods.groupby("participant_id")["end"].max()
        - trial.periods.groupby("participant_id")["start"].min()
    )
    assert set(lengths.dt.days + 1) == {63}
    # The drug still helps on the generic profile.
    from diarytrial.analysis.improvement import percent_improvement

    table = percent_improvement(trial, window="whole_phase")
    means = table.groupby(["item", "condition"])["improvement"].mean()
    assert means["itch", "active"] > means["itch", "placebo"]


def test_progress_is_reported_and_bad_arguments_refused() -> None:
    calls: list[tuple[int, int]] = []
    simulate_trial(
        load_example("ldn-fibromyalgia"),
        participants=1500,
        seed=1,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[0] == (0, 1500)
    assert calls[-1] == (1500, 1500)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    with pytest.raises(ValueError, match="at least 1 participant"):
        simulate_trial(load_example("nof1-ldn"), participants=0, seed=1)
    with pytest.raises(ValueError, match="probability"):
        SimulationParameters(dropout_share=1.5)
