"""Builders of small trial datasets for tests of the pure packages (no Django)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from diarytrial.dataset import TrialDataset
from diarytrial.protocol import Phase, load_example, make_schedule

START = dt.date(2026, 1, 5)


def make_dataset(*, participants: int = 2, days_with_entries: int = 3) -> TrialDataset:
    """The LDN protocol with `participants` on alternating sequences and a few diary nights.

    Each participant answers every item on the first `days_with_entries` days of baseline,
    at 21:00 Los Angeles time (05:00 UTC the next morning).
    """
    protocol = load_example("ldn-fibromyalgia")
    sequences = protocol.protocol.sequences
    people, periods, diary = [], [], []
    for k in range(participants):
        pid = f"P-{k:03d}X"
        sequence = sequences[k % len(sequences)]
        people.append(
            {
                "participant_id": pid,
                "site": "stanford",
                "sequence": "-".join(sequence),
                "start_date": pd.Timestamp(START),
                "randomized_on": pd.Timestamp(START),
                "timezone": "America/Los_Angeles",
                "status": "active",
                "withdrawn_on": pd.NaT,
                "withdrawal_reason": None,
                "age": 40 + k,
                "opioid_use": k % 2 == 1,
            }
        )
        for phase in make_schedule(protocol.protocol, sequence, START).phases:
            periods.append(
                {
                    "participant_id": pid,
                    "phase": phase.index,
                    "kind": phase.kind,
                    "period": phase.period,
                    "block": phase.block,
                    "arm": phase.arm,
                    "condition": phase.condition,
                    "start": pd.Timestamp(phase.start),
                    "end": pd.Timestamp(phase.end),
                }
            )
        for day in range(days_with_entries):
            date = START + dt.timedelta(days=day)
            submitted = pd.Timestamp(date, tz="UTC") + pd.Timedelta(hours=29)
            for j, item in enumerate(protocol.protocol.diary.items):
                diary.append(
                    {
                        "participant_id": pid,
                        "diary_date": pd.Timestamp(date),
                        "item": item.id,
                        "value": float(10 * j + day + k),
                        "submitted_at": submitted,
                        "late": day == 1,
                    }
                )
    participants_frame = pd.DataFrame(people)
    participants_frame["age"] = participants_frame["age"].astype("Int64")
    periods_frame = pd.DataFrame(periods)
    for name in ("period", "block"):
        periods_frame[name] = periods_frame[name].astype("Int64")
    return TrialDataset(
        protocol=protocol,
        participants=participants_frame,
        periods=periods_frame,
        diary=pd.DataFrame(diary),
        provenance={"generator": "tests"},
    )


def make_daily_dataset(
    *,
    protocol_name: str = "nof1-ldn",
    sequences: list[tuple[str, ...]] | None = None,
    value: Callable[[str, Phase, int], float | None] = lambda item, phase, day: 5.0,
) -> TrialDataset:
    """A dataset with an entry every night of every phase for each of `sequences`.

    `value(item, phase, day_in_phase)` gives the answer (None: the item is not answered).
    Participant k is ``P-k``, starting on START, answering at 21:00 Los Angeles time.
    """
    protocol = load_example(protocol_name)
    chosen = sequences or [protocol.protocol.sequences[0]]
    people, periods, diary = [], [], []
    for k, sequence in enumerate(chosen):
        pid = f"P-{k}"
        people.append(
            {
                "participant_id": pid,
                "site": "home",
                "sequence": "-".join(sequence),
                "start_date": pd.Timestamp(START),
                "randomized_on": pd.Timestamp(START),
                "timezone": "America/Los_Angeles",
                "status": "completed",
                "withdrawn_on": pd.NaT,
                "withdrawal_reason": None,
                "age": 50,
                "opioid_use": False,
            }
        )
        for phase in make_schedule(protocol.protocol, sequence, START).phases:
            periods.append(
                {
                    "participant_id": pid,
                    "phase": phase.index,
                    "kind": phase.kind,
                    "period": phase.period,
                    "block": phase.block,
                    "arm": phase.arm,
                    "condition": phase.condition,
                    "start": pd.Timestamp(phase.start),
                    "end": pd.Timestamp(phase.end),
                }
            )
            for day in range(phase.days):
                date = phase.start + dt.timedelta(days=day)
                for item in protocol.protocol.diary.items:
                    answer = value(item.id, phase, day + 1)
                    if answer is None:
                        continue
                    diary.append(
                        {
                            "participant_id": pid,
                            "diary_date": pd.Timestamp(date),
                            "item": item.id,
                            "value": float(answer),
                            "submitted_at": pd.Timestamp(date, tz="UTC") + pd.Timedelta(hours=29),
                            "late": False,
                        }
                    )
    participants_frame = pd.DataFrame(people)
    participants_frame["age"] = participants_frame["age"].astype("Int64")
    periods_frame = pd.DataFrame(periods)
    for name in ("period", "block"):
        periods_frame[name] = periods_frame[name].astype("Int64")
    return TrialDataset(
        protocol=protocol,
        participants=participants_frame,
        periods=periods_frame,
        diary=pd.DataFrame(diary),
        provenance={"generator": "tests"},
    )
