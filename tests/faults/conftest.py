"""Fixtures of the fault tests: databases made once per run, which each test copies as its own
(migrating takes most of half a minute, enrolling the evening's phones as long again)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tests.clock import test_instant
from tests.faults.phones import Phone, phones_seeded
from tests.faults.postgres import database_name, suite_postgres
from tests.faults.served import diarytrial, study_environment

PHONES = 80
"""Participants with a phone, each uploading tonight's diary once (and again if unanswered)."""


@dataclass(frozen=True)
class Evening:
    """A database of the suite's PostgreSQL server, migrated, with a study (the LDN example)
    and `phones` enrolled today whose diary window is open at the test's instant."""

    template: str
    phones: list[Phone]


# Both are made before any test's clock is set: they run from the instant every test starts at.


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database with every migration applied and nothing else; dropped after the run."""
    server = suite_postgres()
    name = database_name("migrated")
    server.database_create(name)
    try:
        env = study_environment(server.url(name), tmp_path_factory.mktemp("migrated"))
        diarytrial(env, "migrate", "--verbosity=0", now=test_instant())
        yield name
    finally:
        server.database_drop(name)


@pytest.fixture(scope="session")
def evening(migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evening]:
    """A copy of `migrated` with tonight's phones; dropped after the run."""
    server = suite_postgres()
    name = database_name("evening")
    server.database_create(name, template=migrated)
    try:
        env = study_environment(server.url(name), tmp_path_factory.mktemp("evening"))
        yield Evening(name, phones_seeded(env, PHONES, now=test_instant()))
    finally:
        server.database_drop(name)
