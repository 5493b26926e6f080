"""The lock checklist's registry: apps register checks, `lock_readiness` asks them in order."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from diarytrial.studies import readiness
from diarytrial.studies.models import Site, Study
from diarytrial.studies.readiness import (
    ReadinessItem,
    lock_readiness,
    open_items,
    register_lock_check,
)


@pytest.fixture
def no_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readiness, "_CHECKS", {})


def _item(key: str, count: int, *, blocks: bool = True):  # type: ignore[no-untyped-def]
    def check(study: Study, sites: Sequence[Site] | None) -> ReadinessItem:
        scope = "all" if sites is None else ",".join(site.code for site in sites)
        return ReadinessItem(key, f"{key} in {study.slug} ({scope})", count, "Do it.", blocks)

    return check


@pytest.mark.usefixtures("no_checks")
def test_checks_run_in_order_and_see_the_sites() -> None:
    register_lock_check("b", _item("b", 0), order=20)
    register_lock_check("a", _item("a", 3), order=10)
    register_lock_check("c", _item("c", 1, blocks=False), order=15)
    study = Study(slug="s1")
    items = lock_readiness(study)
    assert [item.key for item in items] == ["a", "c", "b"]
    assert items[0].label == "a in s1 (all)"
    sites = [Site(code="north"), Site(code="south")]
    assert lock_readiness(study, sites=sites)[0].label == "a in s1 (north,south)"
    assert [item.key for item in open_items(items)] == ["a"]
    assert [item.open for item in items] == [True, True, False]


@pytest.mark.usefixtures("no_checks")
def test_registering_a_key_again_replaces_it() -> None:
    register_lock_check("a", _item("a", 3), order=10)
    register_lock_check("a", _item("a", 0), order=10)
    assert [item.count for item in lock_readiness(Study(slug="s1"))] == [0]
