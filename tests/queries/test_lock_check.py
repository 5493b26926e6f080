"""The lock checklist's item of data queries: queries not closed, for the study or some sites."""

from __future__ import annotations

import pytest
from tests.builders import make_participant
from tests.diary.helpers import START
from tests.queries.conftest import World

from diarytrial.queries.models import QueryKind
from diarytrial.queries.services import query_answer, query_close, query_raise
from diarytrial.studies.readiness import lock_readiness, open_items

pytestmark = pytest.mark.django_db


def _item(world: World, sites: list | None = None):  # type: ignore[type-arg]
    items = {item.key: item for item in lock_readiness(world.study, sites=sites)}
    return items["open_queries"]


def test_no_query_holds_nothing_back(world: World) -> None:
    item = _item(world)
    assert (item.count, item.open, item.blocks_lock) == (0, False, True)
    assert item.what_to_do == "Every data query is closed."


def test_open_and_answered_queries_count_closed_ones_do_not(world: World) -> None:
    boston = make_participant(study=world.study, site=world.sites[1], start_date=START)
    queries = [
        query_raise(
            participant=participant,
            kind=QueryKind.PARTICIPANT,
            participant_field="timezone",
            text="Which zone?",
            actor=world.statistician,
        )
        for participant in (world.participant, world.participant, world.participant, boston)
    ]
    query_answer(query=queries[1], text="Los Angeles.", actor=world.coordinator)
    query_close(query=queries[2], text="Fine.", actor=world.statistician)

    item = _item(world)
    assert item.count == 3
    assert item.label == "Data queries not closed"
    assert "2 wait for the site's answer and 1 for their raiser" in item.what_to_do
    assert item in open_items(lock_readiness(world.study))
    assert _item(world, [world.sites[0]]).count == 2
    assert _item(world, [world.sites[1]]).count == 1
    assert _item(world, []).count == 0


def test_the_check_takes_one_database_query(
    world: World,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    from diarytrial.queries.selectors import open_queries_lock_check

    with django_assert_num_queries(1):
        open_queries_lock_check(world.study, None)
