"""``python -m diarytrial.web.pgcheck URL``: is PostgreSQL reachable?"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from diarytrial.web.pgcheck import main

UNREACHABLE = "postgres://postgres:s3cret-password@127.0.0.1:1/diarytrial"


def test_an_unreachable_port_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([UNREACHABLE]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("PostgreSQL at 127.0.0.1:1 is not reachable: ")
    assert len(captured.err.splitlines()) == 1
    assert "s3cret-password" not in captured.err


def test_runs_as_a_module_for_the_makefile() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "diarytrial.web.pgcheck", UNREACHABLE],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "args", [[], ["sqlite:///var/db.sqlite3"], ["not a url"], ["a", "b"]], ids=repr
)
def test_anything_but_one_postgres_url_exits_1(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 1

    assert len(capsys.readouterr().err.splitlines()) == 1


@pytest.mark.postgres
def test_a_reachable_server_exits_0_silently(capsys: pytest.CaptureFixture[str]) -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL does not point at PostgreSQL")

    assert main([url]) == 0

    assert capsys.readouterr() == ("", "")
