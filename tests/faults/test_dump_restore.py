"""A study's database dumped (pg_dump) and restored (pg_restore) onto a fresh database:
``diarytrial audit verify`` passes there, the append-only rule still holds, and the exported
trial dataset is byte for byte the one exported before the dump.

The study is the export tests' small trial (tests/exports/trial.py: two sites, randomized
participants with diary entries, an adverse event, a dose change, a withdrawal, PGIC answers),
locked and unblinded, so the export is the statistician's full, unblinded dataset.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from tests.faults.postgres import (
    client_program,
    database_dump,
    database_restore,
    fresh_database,
    postgres_fault,
    suite_postgres,
)
from tests.faults.served import audit_verified, diarytrial, seed, study_environment

pytestmark = postgres_fault()


def _export(env: dict[str, str], study: str, user: str, folder: Path) -> str:
    """Export the unblinded dataset into `folder`; the dataset's SHA-256 the command prints."""
    output = diarytrial(env, "export", study, str(folder), "--user", user)
    (digest,) = [line for line in output.splitlines() if line.startswith("Dataset SHA-256:")]
    return digest


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _chain_head(conninfo: str) -> tuple[int, str]:
    with psycopg.connect(conninfo) as db:
        row = db.execute(
            "SELECT (SELECT count(*) FROM audit_auditevent), "
            "(SELECT hash FROM audit_auditevent ORDER BY id DESC LIMIT 1)"
        ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def test_a_restored_dump_verifies_and_exports_the_same_bytes(tmp_path: Path, migrated: str) -> None:
    if client_program("pg_dump") is None or client_program("pg_restore") is None:
        pytest.skip("needs pg_dump and pg_restore (on Debian: apt-get install postgresql-client)")
    server = suite_postgres()
    dump = tmp_path / "study.dump"
    with fresh_database(server, "dumped", template=migrated) as source:
        source_env = study_environment(server.url(source), tmp_path / "source")
        trial = seed(source_env, "trial")
        before = _export(source_env, trial["study"], trial["statistician"], tmp_path / "before")
        database_dump(server, source, dump)
        source_head = _chain_head(server.conninfo(source))
        with fresh_database(server, "restored") as restored:
            database_restore(server, restored, dump)
            restored_env = study_environment(server.url(restored), tmp_path / "restored")
            audit = audit_verified(restored_env)
            restored_head = _chain_head(server.conninfo(restored))
            after = _export(restored_env, trial["study"], trial["statistician"], tmp_path / "after")
            with (
                psycopg.connect(server.conninfo(restored)) as db,
                pytest.raises(psycopg.errors.RaiseException, match="append-only"),
            ):
                db.execute("UPDATE audit_auditevent SET reason = 'rewritten'")
    exported, again = _files(tmp_path / "before"), _files(tmp_path / "after")
    print(
        f"dump and restore: {source_head[0]} audit events, {len(exported)} files, "
        f"{sum(map(len, exported.values())):,} bytes; {before}"
    )

    assert audit.startswith("The audit trail is intact")
    assert restored_head == source_head
    assert "diary.csv" in exported
    assert exported["diary.csv"].count(b"\n") > 30
    assert sorted(again) == sorted(exported)
    assert [name for name in exported if again[name] != exported[name]] == []
    assert after == before
