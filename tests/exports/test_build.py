"""What the exported dataset holds: valid, complete, deterministic, and blind when blinded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.builders import make_member, make_participant
from tests.exports.trial import (
    ARM_IDS,
    ARM_NAMES,
    DIARY_DAYS,
    DOSES_MG,
    STARTED_DAYS_AGO,
    Trial,
    add_alike_pair,
    diary_fill,
    make_trial,
    randomize_and_dispense,
    today,
)

from diarytrial.dataset import (
    TABLES,
    TrialDataset,
    dataset_sha256,
    read_dataset,
    validate_dataset,
    write_dataset,
)
from diarytrial.dataset.tables import BLINDED_CONDITION
from diarytrial.exports.services import dataset_export, study_unblind
from diarytrial.participants.services import participant_dose_level_set
from diarytrial.randomization.models import AllocationSlot
from diarytrial.randomization.services import participant_allocation_read
from diarytrial.safety.services import adverse_event_remove
from diarytrial.studies.models import Role

pytestmark = pytest.mark.django_db

DTYPES = {
    "string": {"object"},
    "integer": {"Int64"},
    "number": {"float64"},
    "boolean": {"bool"},
    "date": {"datetime64[s]"},
    "datetime": {"datetime64[us, UTC]"},
}


def _unblinded(trial: Trial) -> TrialDataset:
    trial.lock()
    study_unblind(study=trial.study, reason="final analysis", actor=trial.statistician)
    return dataset_export(study=trial.study, actor=trial.statistician, blinded=False)


def _blinded(trial: Trial) -> TrialDataset:
    return dataset_export(study=trial.study, actor=trial.statistician, blinded=True)


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _written(dataset: TrialDataset, folder: Path) -> dict[str, bytes]:
    write_dataset(dataset, folder)
    return _files(folder)


# --- a valid dataset with every table -----------------------------------------------------------


@pytest.mark.parametrize("blinded", [True, False], ids=["blinded", "unblinded"])
def test_both_exports_have_the_documented_columns_and_validate(
    tmp_path: Path, blinded: bool
) -> None:
    trial = make_trial()
    dataset = _blinded(trial) if blinded else _unblinded(trial)

    for table in TABLES:
        frame = dataset.table(table.name)
        assert list(frame.columns) == list(table.column_names), table.name
        for column in table.columns:
            assert str(frame[column.name].dtype) in DTYPES[column.type], (table.name, column)
    assert validate_dataset(dataset) == []
    write_dataset(dataset, tmp_path)
    again = read_dataset(tmp_path)  # validates too
    lock = again.provenance.pop("database_lock", None)
    assert (lock is None) == blinded  # the unblinded export needs the lock (test_metadata.py)
    assert again.provenance == {
        "generator": "diarytrial export",
        "study": trial.study.slug,
        "blinded": blinded,
        "protocol_version": 1,
    }
    assert dataset.protocol.sha256 == again.protocol.sha256


def test_the_export_holds_every_enrolled_participant_and_their_data() -> None:
    trial = make_trial()
    dataset = _unblinded(trial)
    withdrawn = trial.participants[2]
    reduced = trial.participants[1]

    participants = dataset.participants.set_index("participant_id")
    randomized = sorted(p.code for p in trial.participants)
    assert sorted(participants.index) == sorted([*randomized, trial.enrolled.code])
    assert trial.screened.code not in participants.index  # screened only: no study day 1
    enrolled = participants.loc[trial.enrolled.code]
    assert (enrolled["status"], enrolled["sequence"], enrolled["randomized_on"]) == (
        "enrolled",
        None,
        pd.NaT,
    )
    assert participants.loc[withdrawn.code, "status"] == "withdrawn"
    assert participants.loc[withdrawn.code, "withdrawal_reason"] == "moved away"
    assert participants.loc[withdrawn.code, "withdrawn_on"] == pd.Timestamp(today())
    assert participants.loc[trial.participants[0].code, "site"] == "south"
    assert participants.loc[randomized, "randomized_on"].notna().all()
    assert len(dataset.periods) == 4 * len(trial.participants)
    assert trial.enrolled.code not in set(dataset.periods["participant_id"])
    assert len(dataset.diary) == (len(trial.participants) * len(DIARY_DAYS) + 2) * 6
    assert list(dataset.side_effects["side_effect"].unique()) == ["vivid_dreams"]
    doses = dataset.doses[dataset.doses["participant_id"] == reduced.code]
    assert doses[["dose_level", "reason"]].values.tolist() == [
        ["standard", "start"],
        ["reduced", "vivid dreams"],
    ]
    (event,) = dataset.adverse_events.to_dict("records")
    assert (event["participant_id"], event["term"], event["action"]) == (
        reduced.code,
        "Vivid dreams",
        "dose_reduced",
    )
    assert sorted(dataset.pgic["participant_id"]) == randomized


def test_removed_adverse_events_are_left_out_and_a_dose_set_twice_on_a_date_keeps_the_last() -> (
    None
):
    trial = make_trial(participants=2)
    participant, other = trial.participants
    event = other.adverse_events.get()
    adverse_event_remove(event=event, reason="entered twice", actor=trial.coordinator)
    day = today() - dt.timedelta(days=15)
    for level, reason in (("reduced", "headache"), ("standard", "mistaken, restored")):
        participant_dose_level_set(
            participant=participant, level=level, reason=reason, effective_on=day, actor=None
        )

    dataset = _blinded(trial)

    assert dataset.adverse_events.empty
    rows = dataset.doses[dataset.doses["participant_id"] == participant.code]
    assert rows[["dose_level", "reason"]].values.tolist() == [
        ["standard", "start"],
        ["standard", "mistaken, restored"],
    ]
    assert validate_dataset(dataset) == []


def test_the_unblinded_sequences_and_arms_are_the_allocation() -> None:
    trial = make_trial()
    dataset = _unblinded(trial)

    sequences = dataset.participants.set_index("participant_id")["sequence"]
    for participant in trial.participants:
        allocation = participant_allocation_read(user=trial.statistician, participant=participant)
        assert sequences[participant.code] == "-".join(allocation.arms)
        periods = dataset.periods[dataset.periods["participant_id"] == participant.code]
        assert [(a if isinstance(a, str) else None) for a in periods["arm"]] == [
            p.arm for p in allocation.phases
        ]
        assert list(periods["condition"]) == [p.condition for p in allocation.phases]
        assert list(periods["end"]) == [pd.Timestamp(p.end) for p in allocation.phases]


# --- blind -------------------------------------------------------------------------------------


@pytest.mark.parametrize("equal_periods", [False, True], ids=["84-28 days", "28-28 days"])
def test_the_blinded_files_name_no_arm_sequence_or_dose(
    tmp_path: Path, equal_periods: bool
) -> None:
    trial = make_trial(equal_periods=equal_periods)
    files = _written(_blinded(trial), tmp_path / "blinded")
    unblinded = _written(_unblinded(trial), tmp_path / "unblinded")
    secrets = [
        *ARM_IDS,
        *ARM_NAMES,
        *DOSES_MG,
        "-".join(ARM_IDS),
        "-".join(reversed(ARM_IDS)),
    ]

    protocol = files.pop("protocol.toml")
    assert set(files) == {"datapackage.json", *(t.filename for t in TABLES)}
    for name, content in files.items():
        for secret in secrets:
            assert secret.encode() not in content, (name, secret)
    # The protocol is shipped (the analysis needs its items): it lists the arms, not who got which.
    assert all(name.encode() in protocol for name in ARM_NAMES)
    # The scan would have found them: the unblinded export has them.
    assert ARM_IDS[0].encode() in unblinded["participants.csv"]
    assert ARM_IDS[1].encode() in unblinded["periods.csv"]


@pytest.mark.parametrize("equal_periods", [False, True], ids=["84-28 days", "28-28 days"])
def test_the_blinded_periods_say_treatment_without_arm_or_condition(equal_periods: bool) -> None:
    trial = make_trial(equal_periods=equal_periods)
    dataset = _blinded(trial)
    periods = dataset.periods

    assert periods["arm"].isna().all()
    treatment = periods["kind"] == "treatment"
    assert set(periods.loc[treatment, "condition"]) == {BLINDED_CONDITION}
    assert set(periods.loc[~treatment, "condition"]) <= {"baseline", "washout"}
    codes = dataset.participants.set_index("participant_id")["sequence"]
    randomized = sorted(p.code for p in trial.participants)
    assert codes[randomized].tolist() == [f"S{k}" for k in range(1, len(randomized) + 1)]
    assert codes[trial.enrolled.code] is None
    per_participant = len(periods) // len(trial.participants)
    assert per_participant == (4 if equal_periods else 2)  # 84/28 days: periods merged
    # Every answer is kept, by visit: the visits fall on the same days for every sequence.
    for answers in (dataset.pgic, dataset.blinding):
        assert sorted(answers["participant_id"]) == randomized
        assert answers["visit"].tolist() == [2] * len(randomized)
        assert answers["period"].isna().all()
    assert validate_dataset(dataset) == []


@pytest.mark.parametrize("equal_periods", [False, True], ids=["84-28 days", "28-28 days"])
def test_the_unblinded_answers_say_which_period_their_visit_closes(equal_periods: bool) -> None:
    trial = make_trial(equal_periods=equal_periods)
    dataset = _unblinded(trial)

    for answers in (dataset.pgic, dataset.blinding):
        periods = answers.set_index("participant_id")["period"]
        for participant in trial.participants:
            # Visit 2 is treatment day 28: the end of period 1 for whoever started on the
            # 28-day arm, inside period 1 for whoever started on 84 days of the other.
            closes = equal_periods or trial.sequence_of(participant).startswith(ARM_IDS[1])
            expected = 1 if closes else None
            assert (None if pd.isna(periods[participant.code]) else 1) == expected
    assert set(dataset.blinding["guess"]) == {"drug"}
    assert validate_dataset(dataset) == []


@pytest.mark.parametrize("equal_periods", [False, True], ids=["84-28 days", "28-28 days"])
def test_the_blinded_export_is_the_same_whatever_the_allocation(
    tmp_path: Path, equal_periods: bool
) -> None:
    trial = make_trial(equal_periods=equal_periods)
    before = _written(_blinded(trial), tmp_path / "before")

    # The other allocation: every participant on the other sequence (a test rewrites the list).
    slots = AllocationSlot.objects.filter(allocation_list__study=trial.study, used_by__isnull=False)
    swapped = {"AB": "BA", "BA": "AB"}
    for slot in slots:
        AllocationSlot.objects.filter(pk=slot.pk).update(sequence_code=swapped[slot.sequence_code])
    after = _written(_blinded(trial), tmp_path / "after")

    assert after == before


@pytest.mark.parametrize("equal_periods", [False, True], ids=["84-28 days", "28-28 days"])
def test_two_participants_alike_but_for_their_arm_differ_only_in_their_codes(
    equal_periods: bool,
) -> None:
    trial = make_trial(participants=2, equal_periods=equal_periods)
    first, second = add_alike_pair(trial)
    assert trial.sequence_of(first) != trial.sequence_of(second)
    dataset = _blinded(trial)

    for table in TABLES:
        frame = dataset.table(table.name)
        rows = {}
        for participant in (first, second):
            own = frame[frame["participant_id"] == participant.code].drop(
                columns=[c for c in ("participant_id", "sequence", "ae_id") if c in frame]
            )
            rows[participant.code] = own.reset_index(drop=True)
        pd.testing.assert_frame_equal(rows[first.code], rows[second.code], obj=table.name)
    assert len(dataset.diary[dataset.diary["participant_id"] == first.code]) > 0
    sequences = dataset.participants.set_index("participant_id")["sequence"]
    assert sequences[first.code] != sequences[second.code]


def test_a_coordinator_exports_the_participants_of_their_sites_only() -> None:
    trial = make_trial()
    dataset = dataset_export(study=trial.study, actor=trial.coordinator, blinded=True)

    everyone = [*trial.participants, trial.enrolled]
    north = sorted(p.code for p in everyone if p.site_id == trial.sites[0].pk)
    assert sorted(dataset.participants["participant_id"]) == north
    assert set(dataset.diary["participant_id"]) == set(north)
    assert set(dataset.participants["site"]) == {"north"}
    assert dataset.provenance["sites"] == ["north"]
    assert validate_dataset(dataset) == []


# --- reproducible and efficient ----------------------------------------------------------------


def test_the_same_data_give_the_same_bytes(tmp_path: Path) -> None:
    trial = make_trial()
    blinded = [_written(_blinded(trial), tmp_path / f"blinded-{k}") for k in range(2)]
    unblinded = [_written(_unblinded(trial), tmp_path / "unblinded-0")]
    unblinded.append(_written(_unblinded_again(trial), tmp_path / "unblinded-1"))

    assert blinded[0] == blinded[1]
    assert unblinded[0] == unblinded[1]
    assert dataset_sha256(tmp_path / "blinded-0") == dataset_sha256(tmp_path / "blinded-1")
    assert blinded[0]["participants.csv"] != unblinded[0]["participants.csv"]


def _unblinded_again(trial: Trial) -> TrialDataset:
    return dataset_export(study=trial.study, actor=trial.statistician, blinded=False)


def _queries(trial: Trial, *, blinded: bool) -> int:
    with CaptureQueriesContext(connection) as captured:
        dataset_export(study=trial.study, actor=trial.statistician, blinded=blinded)
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_participants() -> None:
    trial = make_trial(participants=2)
    few = _queries(trial, blinded=True)
    start = today() - dt.timedelta(days=STARTED_DAYS_AGO)
    for _ in range(3):
        participant = make_participant(study=trial.study, start_date=start, tz="Europe/London")
        randomize_and_dispense(participant, pharmacist=trial.pharmacist)
        diary_fill(participant, start=start)
    make_member(study=trial.study, role=Role.INVESTIGATOR, username="late-investigator")

    assert _queries(trial, blinded=True) == few
    trial.lock()
    study_unblind(study=trial.study, reason="final analysis", actor=trial.statistician)
    assert _queries(trial, blinded=False) <= few + 4  # the role and state checks
