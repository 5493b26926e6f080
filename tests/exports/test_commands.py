"""``diarytrial unblind`` and ``diarytrial export``."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from tests.exports.trial import ARM_IDS, Trial, make_trial

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.dataset import DatasetError, dataset_sha256, read_dataset

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def trial() -> Trial:
    return make_trial(participants=3)


def test_export_blinded_writes_a_dataset_that_reads_back(trial: Trial, tmp_path: Path) -> None:
    folder = tmp_path / "blinded"

    output = run("export", trial.study.slug, str(folder), "--blinded", "--user", "coordinator")

    dataset = read_dataset(folder)
    assert dataset.provenance["blinded"] is True
    assert output.startswith(f"Wrote the blinded dataset of {trial.study.slug} to {folder}: ")
    assert f"{len(dataset.participants)} participants" in output
    assert f"Dataset SHA-256: {dataset_sha256(folder)}" in output
    (event,) = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert event.actor == trial.coordinator


def test_lock_unblind_export_as_the_statistician(trial: Trial, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not unblinded") as refused:
        run("export", trial.study.slug, str(tmp_path / "early"), "--user", "statistician")
    with pytest.raises(CommandError, match="lock it first"):
        run("unblind", trial.study.slug, "--reason", "final analysis", "--user", "statistician")
    trial.lock()

    said = run("unblind", trial.study.slug, "--reason", "final analysis", "--user", "statistician")
    output = run("export", trial.study.slug, str(tmp_path / "final"), "--user", "statistician")

    assert refused.value.returncode == 1
    assert not (tmp_path / "early").exists()
    assert said.startswith(f"Study {trial.study.slug} unblinded at ")
    assert f"diarytrial export {trial.study.slug} OUT_DIR --user statistician" in said
    assert output.startswith("Wrote the unblinded dataset")
    sequences = set(read_dataset(tmp_path / "final").participants["sequence"].dropna())
    assert sequences <= {"-".join(ARM_IDS), "-".join(reversed(ARM_IDS))}


def test_export_refuses_unknown_users_roles_studies_and_a_file_as_folder(
    trial: Trial, tmp_path: Path
) -> None:
    target = str(tmp_path / "out")
    with pytest.raises(CommandError, match="no active user 'nobody'") as unknown:
        run("export", trial.study.slug, target, "--blinded", "--user", "nobody")
    with pytest.raises(CommandError, match="no role in this study"):
        run("export", trial.study.slug, target, "--blinded", "--user", "pharmacist")
    with pytest.raises(CommandError, match="no study 'nope'"):
        run("export", "nope", target, "--blinded", "--user", "coordinator")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(CommandError, match="is a file"):
        run("export", trial.study.slug, str(a_file), "--blinded", "--user", "coordinator")

    assert unknown.value.returncode == 1
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_an_export_records_each_file_hash_and_size_and_refuses_an_edit(
    trial: Trial, tmp_path: Path
) -> None:
    folder = tmp_path / "blinded"
    output = run("export", trial.study.slug, str(folder), "--blinded", "--user", "coordinator")

    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        content = (folder / resource["path"]).read_bytes()
        assert resource["hash"] == "sha256:" + hashlib.sha256(content).hexdigest()
        assert resource["bytes"] == len(content)
    assert f"Dataset SHA-256: {read_dataset(folder).files.sha256}" in output  # type: ignore[union-attr]
    diary = folder / "diary.csv"
    diary.write_bytes(diary.read_bytes().replace(b",FALSE\n", b",TRUE\n", 1))
    with pytest.raises(DatasetError, match=r"diary\.csv: the file changed after the dataset"):
        read_dataset(folder)
