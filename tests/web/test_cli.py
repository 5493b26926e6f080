"""The ``diarytrial`` command hands Django's management commands to Django."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.builders import example_protocol_path


def diarytrial_command() -> list[str]:
    """The console script installed beside this Python, else the module it runs."""
    script = Path(sys.executable).with_name("diarytrial")
    if script.exists():
        return [str(script)]
    found = shutil.which("diarytrial")
    return [found] if found else [sys.executable, "-m", "diarytrial.cli"]


def run_diarytrial(*args: str, cwd: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    # A clean environment: never DATABASE_URL, so nothing here touches a shared database.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DIARYTRIAL_VAR_DIR": str(cwd / "var"),
        **environ,
    }
    return subprocess.run(
        [*diarytrial_command(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working folder whose var/ holds a migrated SQLite database."""
    folder = tmp_path_factory.mktemp("project")
    result = run_diarytrial("migrate", "--verbosity", "0", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder


def test_migrate_check_passes_after_migrate(migrated: Path) -> None:
    result = run_diarytrial("migrate", "--check", cwd=migrated)

    assert result.returncode == 0, result.stdout + result.stderr


def test_migrate_check_fails_on_a_new_database(tmp_path: Path) -> None:
    result = run_diarytrial("migrate", "--check", cwd=tmp_path)

    assert result.returncode == 1


def test_check_runs_through_the_wrapper(tmp_path: Path) -> None:
    result = run_diarytrial("check", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_study_create_runs_through_the_wrapper(migrated: Path) -> None:
    result = run_diarytrial("study_create", str(example_protocol_path()), cwd=migrated)

    assert result.returncode == 0, result.stderr
    assert "Created study ldn_fibromyalgia" in result.stdout


def test_a_bad_protocol_exits_2_without_a_traceback(migrated: Path) -> None:
    bad = migrated / "bad.toml"
    bad.write_text('schema_version = 1\n\n[study]\nid = "Not A Slug"\n', encoding="utf-8")

    result = run_diarytrial("study_create", str(bad), cwd=migrated)

    assert result.returncode == 2
    assert f"{bad}:4: study.id: String should match pattern" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_without_its_variables_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = run_diarytrial("check", cwd=tmp_path, DIARYTRIAL_ENV="production")

    assert result.returncode == 1
    assert result.stderr.startswith("diarytrial: cannot start: SECRET_KEY is not set")
    assert len(result.stderr.strip().splitlines()) == 1


def test_check_deploy_passes_through_the_wrapper(tmp_path: Path) -> None:
    result = run_diarytrial(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        cwd=tmp_path,
        DIARYTRIAL_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="trial.example.org",
    )

    assert result.returncode == 0, result.stderr
