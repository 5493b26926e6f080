"""Row-level validation of the trial dataset."""

from __future__ import annotations

import dataclasses

import pandas as pd
from tests.dataset_builders import START, make_dataset

from diarytrial.dataset import TrialDataset, validate_dataset


def _with(dataset: TrialDataset, **tables: pd.DataFrame) -> TrialDataset:
    return dataclasses.replace(dataset, **tables)


def _messages(dataset: TrialDataset) -> list[str]:
    return [issue.describe() for issue in validate_dataset(dataset)]


def test_a_good_dataset_has_no_issues() -> None:
    assert validate_dataset(make_dataset(participants=4)) == []


def test_unknown_participant() -> None:
    dataset = make_dataset()
    diary = dataset.diary.copy()
    diary.loc[2, "participant_id"] = "P-NOPE"
    assert _messages(_with(dataset, diary=diary)) == [
        "diary.csv:4: participant_id: unknown participant (not in participants.csv)"
    ]


def test_value_out_of_scale_and_unknown_item() -> None:
    dataset = make_dataset()
    diary = dataset.diary.copy()
    diary.loc[0, "value"] = 101.0
    diary.loc[1, "value"] = -1.0
    diary.loc[5, "item"] = "happiness"
    messages = _messages(_with(dataset, diary=diary))
    assert "diary.csv:2: value: value outside the item's scale" in messages
    assert "diary.csv:3: value: value outside the item's scale" in messages
    assert any(m.startswith("diary.csv:7: item: unknown item") for m in messages)


def test_duplicate_diary_day() -> None:
    dataset = make_dataset()
    diary = pd.concat([dataset.diary, dataset.diary.iloc[[0]]], ignore_index=True)
    assert _messages(_with(dataset, diary=diary)) == [
        f"diary.csv:{len(diary) + 1}: duplicate row: another row has the same "
        "participant_id, diary_date, item"
    ]


def test_date_outside_the_schedule_and_after_withdrawal() -> None:
    dataset = make_dataset()
    diary = dataset.diary.copy()
    diary.loc[0, "diary_date"] = pd.Timestamp("2025-12-31")
    diary.loc[0, "submitted_at"] = pd.Timestamp("2026-01-01T05:00Z")
    diary.loc[1, "diary_date"] = pd.Timestamp("2027-01-01")
    diary.loc[1, "submitted_at"] = pd.Timestamp("2027-01-02T05:00Z")
    participants = dataset.participants.copy()
    participants.loc[0, "status"] = "withdrawn"
    participants.loc[0, "withdrawn_on"] = pd.Timestamp("2026-01-06")
    messages = _messages(_with(dataset, diary=diary, participants=participants))
    assert "diary.csv:2: diary_date: date outside the participant's schedule" in messages
    assert "diary.csv:3: diary_date: date outside the participant's schedule" in messages
    # participant 0 answered on 01-05, 01-06 and 01-07: the 01-07 rows come after withdrawal
    after = [m for m in messages if "after the participant's withdrawal" in m]
    assert after == [
        f"diary.csv:{line}: diary_date: date after the participant's withdrawal"
        for line in range(14, 20)
    ]


def test_entry_received_before_its_window_opened() -> None:
    dataset = make_dataset()
    diary = dataset.diary.copy()
    # 17:59 Los Angeles time on the diary date, a minute before the window opens
    diary.loc[0, "submitted_at"] = pd.Timestamp("2026-01-06T01:59Z")
    assert _messages(_with(dataset, diary=diary)) == [
        "diary.csv:2: submitted_at: received before the window of its diary date opened"
    ]


def test_schedule_that_differs_from_the_protocol() -> None:
    dataset = make_dataset()
    periods = dataset.periods.copy()
    periods.loc[1, "end"] = periods.loc[1, "end"] + pd.Timedelta(days=1)
    messages = _messages(_with(dataset, periods=periods))
    assert messages == [
        "periods.csv:3: end: differs from the schedule the protocol gives for this sequence "
        "and start"
    ]


def test_bad_enum_sequence_timezone_and_pgic() -> None:
    dataset = make_dataset()
    participants = dataset.participants.copy()
    participants.loc[0, "status"] = "lost"
    participants.loc[1, "timezone"] = "Mars/Olympus"
    pgic = pd.DataFrame(
        {
            "participant_id": ["P-000X"],
            "visit": pd.array([1], dtype="Int64"),
            "period": pd.array([None], dtype="Int64"),
            "answered_on": [pd.Timestamp("2026-02-01")],
            "score": pd.array([8], dtype="Int64"),
        }
    )
    messages = _messages(_with(dataset, participants=participants, pgic=pgic))
    assert any(m.startswith("participants.csv:2: status: must be one of") for m in messages)
    assert "participants.csv:3: timezone: 'Mars/Olympus' is not an IANA time zone" in messages
    assert "pgic.csv:2: score: PGIC scores run from 1 to 7" in messages
    assert "pgic.csv:2: visit: the protocol asks the PGIC at visit(s) 2, 3, 4, 5, 6" in messages


def test_many_bad_rows_are_counted_not_listed() -> None:
    dataset = make_dataset(participants=4, days_with_entries=5)
    diary = dataset.diary.copy()
    diary["value"] = 500.0
    messages = _messages(_with(dataset, diary=diary))
    assert len(messages) == 21
    assert messages[-1] == "diary.csv: value: value outside the item's scale (and 100 more rows)"


def _answers(rows: list[tuple[str, int, int | None, int]], **value: list[object]) -> pd.DataFrame:
    """Answers (participant, visit, period, days after START) with the given value column."""
    return pd.DataFrame(
        {
            "participant_id": [r[0] for r in rows],
            "visit": pd.array([r[1] for r in rows], dtype="Int64"),
            "period": pd.array([r[2] for r in rows], dtype="Int64"),
            "answered_on": [pd.Timestamp(START) + pd.Timedelta(days=r[3]) for r in rows],
            **value,
        }
    )


def test_answers_at_visits_that_close_no_period_are_kept_with_an_empty_period() -> None:
    # P-000X is LDN-first (period 1 ends at visit 4), P-001X placebo-first (at visit 2);
    # visit 2 is treatment day 28, study day 42 (START + 41).
    rows = [("P-000X", 2, None, 41), ("P-000X", 4, 1, 97), ("P-001X", 2, 1, 41)]
    scores = _answers(rows, score=pd.array([3, 2, 4], dtype="Int64"))
    guesses = _answers(rows, guess=["dont_know", "drug", "placebo"])
    assert _messages(_with(make_dataset(), pgic=scores, blinding=guesses)) == []


def test_a_period_that_is_not_the_one_the_visit_closes_is_named() -> None:
    rows = [("P-000X", 2, 1, 41), ("P-001X", 2, None, 41), ("P-001X", 3, None, 40)]
    guesses = _answers(rows, guess=["drug", "maybe", "placebo"])
    assert _messages(_with(make_dataset(), blinding=guesses)) == [
        "blinding.csv:3: guess: must be one of drug, placebo, dont_know",
        "blinding.csv:2: period: visit 2 closes no treatment period for this participant's "
        "sequence",
        "blinding.csv:3: period: visit 2 closes period 1 for this participant's sequence",
        "blinding.csv:4: answered_on: answered before the visit it closes",
    ]


def test_a_blinded_dataset_gives_no_period() -> None:
    dataset = make_dataset()
    blinded = dataclasses.replace(dataset, provenance={"blinded": True})
    guesses = _answers([("P-000X", 4, 1, 97), ("P-001X", 4, None, 97)], guess=["drug", "drug"])
    assert _messages(_with(blinded, blinding=guesses)) == [
        "blinding.csv:2: period: a blinded dataset gives no period: which period a visit "
        "closes tells the sequence"
    ]
