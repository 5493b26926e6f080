"""`diarytrial demo`: the LDN trial run through the live system, analysed and reported."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone
from tests.clock import clocked_command
from tests.interop.validators import check_written

from diarytrial.dataset import read_dataset
from diarytrial.demo.live import DEMO_LOCK_OVERRIDE
from diarytrial.interop.formats import FORMATS


@pytest.mark.slow
def test_demo_runs_the_live_system_end_to_end(tmp_path: Path) -> None:
    # A subprocess: the demo sets up Django on a database of its own, not the test database.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DIARYTRIAL_ENV"}}
    # On the tests' clock: the try-out study's window is open "now".
    command = clocked_command(
        timezone.now(), "-m", "diarytrial.cli", "demo", "--out", str(tmp_path)
    )
    result = subprocess.run(
        [*command, "--participants", "4", "--seed", "3", "--no-serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Ran 4 participants (seed 3) through the services" in out
    assert "pain reduced by" in out
    assert "statistician" in out
    assert "password" in out
    assert re.search(r"\n   http://127\.0\.0\.1:8000/d/enrol/[\w-]{40,}/\n", out)
    dataset = read_dataset(tmp_path / "dataset")  # the unblinded export, validated
    assert len(dataset.participants) == 4
    assert set(dataset.participants["sequence"].dropna()) <= {"ldn-placebo", "placebo-ldn"}
    assert len(dataset.diary) > 0
    # Each completed participant answered the PGIC at the end of both treatment periods.
    completed = set(
        dataset.participants.loc[dataset.participants["status"] == "completed", "participant_id"]
    )
    closing = dataset.pgic.dropna(subset=["period"])
    for code in completed:
        assert sorted(closing.loc[closing["participant_id"] == code, "period"]) == [1, 2], code
    # Locked as the simulation left it: an honest override when checklist items were open.
    lock = dataset.provenance["database_lock"]
    expected = DEMO_LOCK_OVERRIDE if lock["open_at_lock"] else None
    assert lock["override_reason"] == expected
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert (tmp_path / "demo.sqlite3").exists()
    # Every other format, written from the same dataset, passes its standard's validator.
    for key in FORMATS:
        files = sorted(path for path in (tmp_path / "formats" / key).rglob("*") if path.is_file())
        check_written(key, files, dataset, tmp_path / "checks" / key)
