"""The embedded SQLite database under parallel writers: several processes, each with several
threads, write through the services at once (diary entries, screenings, staff pages that save
the session) to one file named by ``DATABASE_URL``, as the demo names its own. Nothing fails
with "database is locked", and every write is there with its audit event.

The writers run in processes of their own (tests/web/sqlite_writers.py), each with its clock
at this test's frozen instant, so the database of the test run itself is not involved.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.utils import timezone
from tests.python_process import run_python

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 3
THREADS = 4
ROUNDS = 6


def writers_environment(database: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "diarytrial.web.settings",
        "DIARYTRIAL_ENV": "test",
        "DATABASE_URL": f"sqlite:///{database}",
        "DIARYTRIAL_VAR_DIR": str(database.parent / "var"),
        "ALLOWED_HOSTS": "testserver",  # the test client's host
        "LOG_LEVEL": "WARNING",
    }


def writers_arguments(step: str, folder: Path, *options: str) -> list[str]:
    now = timezone.now().isoformat()
    return ["-m", "tests.web.sqlite_writers", step, str(folder), "--now", now, *options]


def run_step(step: str, folder: Path, env: dict[str, str], *options: str) -> dict[str, Any]:
    done = run_python(writers_arguments(step, folder, *options), cwd=ROOT, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_parallel_writers_on_one_sqlite_file_all_succeed(tmp_path: Path) -> None:
    database = tmp_path / "parallel.sqlite3"
    env = writers_environment(database)
    run_step("setup", tmp_path, env, "--writers", str(PROCESSES * THREADS))
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                *writers_arguments(
                    "write",
                    tmp_path,
                    *("--process", str(process), "--threads", str(THREADS)),
                    *("--rounds", str(ROUNDS)),
                ),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for process in range(PROCESSES)
    ]
    deadline = time.monotonic() + 300
    while not all((tmp_path / f"ready-{k}").exists() for k in range(PROCESSES)):
        assert all(writer.poll() is None for writer in writers), "a writer stopped early"
        assert time.monotonic() < deadline, "the writers did not get ready within 300 s"
        time.sleep(0.01)
    (tmp_path / "go").touch()  # released together
    outcomes = []
    for writer in writers:
        stdout, stderr = writer.communicate(timeout=600)
        assert writer.returncode == 0, stderr
        outcomes.append(json.loads(stdout.splitlines()[-1]))

    written = {
        kind: [value for outcome in outcomes for value in outcome[kind]]
        for kind in ("entries", "screened", "pages", "errors")
    }
    (tmp_path / "written.json").write_text(json.dumps(written))
    found = run_step("count", tmp_path, env, "--written", str(tmp_path / "written.json"))

    writes = PROCESSES * THREADS * ROUNDS
    assert written["errors"] == []
    assert len(written["entries"]) == len(set(written["entries"])) == writes
    assert len(written["screened"]) == len(set(written["screened"])) == writes
    assert written["pages"] == [200] * writes
    assert found["missing_entries"] == found["missing_participants"] == []
    assert found["unaudited"] == []
    assert found["audit_chain_broken_at"] is None


def test_a_sqlite_database_url_gets_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    database = tmp_path / "url.sqlite3"
    script = (
        "import django, json; django.setup()\n"
        "from django.db import connection\n"
        "options = connection.settings_dict['OPTIONS']\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('PRAGMA journal_mode'); mode = cursor.fetchone()[0]\n"
        "    cursor.execute('PRAGMA busy_timeout'); busy = cursor.fetchone()[0]\n"
        "print(json.dumps({'mode': mode, 'busy_ms': busy,"
        " 'transaction_mode': connection.transaction_mode}))\n"
    )
    done = run_python(["-c", script], cwd=tmp_path, env=writers_environment(database))
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)

    assert shown == {"mode": "wal", "busy_ms": 20_000, "transaction_mode": "IMMEDIATE"}
    with sqlite3.connect(database) as reopened:  # WAL is a property of the file: it stays
        assert reopened.execute("PRAGMA journal_mode").fetchone() == ("wal",)
