"""A simulated dataset as the live system's blinded export gives it."""

from __future__ import annotations

import dataclasses

import pandas as pd

from diarytrial.dataset import TrialDataset, validate_dataset
from diarytrial.exports.blinding import blinded_schedule, blinded_sequence_codes


def blinded_of(dataset: TrialDataset) -> TrialDataset:
    """`dataset` as a blinded export gives it: sequence codes, the blinded schedule, answers
    by visit only (as `diarytrial.exports` builds it)."""
    participants = dataset.participants.copy()
    codes = blinded_sequence_codes(participants["participant_id"].astype(str))
    participants["sequence"] = participants["participant_id"].astype(str).map(codes)
    schedule = blinded_schedule(dataset.protocol.protocol)
    periods = pd.DataFrame(
        [
            {
                "participant_id": str(row.participant_id),
                "phase": phase.index,
                "kind": phase.kind,
                "period": phase.period,
                "block": phase.block,
                "arm": None,
                "condition": "blinded" if phase.kind == "treatment" else phase.kind,
                "start": pd.Timestamp(phase.start(row.start_date.date())),
                "end": pd.Timestamp(phase.end(row.start_date.date())),
            }
            for row in participants.itertuples()
            for phase in schedule
        ]
    ).astype({"period": "Int64", "block": "Int64"})
    answers = {
        name: dataset.table(name).assign(period=pd.Series(dtype="Int64"))
        for name in ("pgic", "blinding")
    }
    blinded = dataclasses.replace(
        dataset,
        participants=participants,
        periods=periods,
        provenance={**dataset.provenance, "blinded": True},
        **answers,
    )
    assert validate_dataset(blinded) == []
    return blinded
