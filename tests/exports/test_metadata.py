"""The database lock in the export's metadata: ``datapackage.json``'s provenance says when the
database was locked and, when it was locked with items of the checklist open, the override
reason and the counts (docs/dataset.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.builders import LEFT_OPEN
from tests.exports.trial import Trial, make_trial

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.dataset import read_dataset, write_dataset
from diarytrial.exports.services import dataset_export, study_unblind
from diarytrial.studies.services import study_unlock

pytestmark = pytest.mark.django_db


@pytest.fixture
def trial() -> Trial:
    return make_trial()


def _descriptor(folder: Path) -> dict[str, object]:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def test_an_export_before_the_lock_has_no_lock_record(trial: Trial, tmp_path: Path) -> None:
    dataset = dataset_export(study=trial.study, actor=trial.statistician, blinded=True)
    write_dataset(dataset, tmp_path)

    assert "database_lock" not in _descriptor(tmp_path)["diarytrial"]["provenance"]  # type: ignore[index]


@pytest.mark.parametrize("blinded", [True, False], ids=["blinded", "unblinded"])
def test_an_overridden_lock_is_in_the_metadata_with_its_reason_and_counts(
    trial: Trial, tmp_path: Path, blinded: bool
) -> None:
    trial.lock()  # with LEFT_OPEN: the trial's participants are still in the trial
    if not blinded:
        study_unblind(study=trial.study, reason="final analysis", actor=trial.statistician)
    lock = AuditEvent.objects.get(study_slug=trial.study.slug, action=AuditAction.LOCK)
    opened = {change["field"]: change["new"] for change in lock.changes}["open_at_lock"]

    dataset = dataset_export(study=trial.study, actor=trial.statistician, blinded=blinded)
    write_dataset(dataset, tmp_path)

    recorded = _descriptor(tmp_path)["diarytrial"]["provenance"]["database_lock"]  # type: ignore[index]
    assert recorded == {
        "locked_at": lock.changes[0]["new"],
        "override_reason": LEFT_OPEN,
        "open_at_lock": opened,
    }
    assert opened["open_participants"] == 6  # five randomized and one enrolled
    assert read_dataset(tmp_path).provenance["database_lock"] == recorded  # it validates


def test_after_an_unlock_the_metadata_no_longer_claims_a_lock(trial: Trial, tmp_path: Path) -> None:
    trial.lock()
    study_unlock(study=trial.study, reason="a late query", actor=trial.administrator)

    dataset = dataset_export(study=trial.study, actor=trial.coordinator, blinded=True)

    assert "database_lock" not in dataset.provenance
