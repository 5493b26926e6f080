"""Every write service of the queries app refuses a locked study (423) and changes nothing; the
list below must name each of them."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from tests.builders import LEFT_OPEN
from tests.diary.helpers import events_after, last_event_id
from tests.queries.conftest import World

from diarytrial.audit.models import AuditEvent
from diarytrial.queries import services
from diarytrial.queries.models import DataQuery, QueryKind, QueryMessage
from diarytrial.queries.services import (
    query_adverse_event_update,
    query_answer,
    query_close,
    query_correction_link,
    query_diary_entry_correct,
    query_raise,
    query_reopen,
)
from diarytrial.studies.errors import StudyLockedError
from diarytrial.studies.services import study_lock, study_unlock

pytestmark = pytest.mark.django_db


def _open(world: World, kind: str = QueryKind.DIARY_ENTRY) -> DataQuery:
    record = (
        {"diary_entry": world.entry} if kind == "diary_entry" else {"adverse_event": world.event}
    )
    return query_raise(
        participant=world.participant, kind=kind, text="?", actor=world.statistician, **record
    )


def _answered(world: World) -> DataQuery:
    query = _open(world)
    query_answer(query=query, text="Checked.", actor=world.coordinator)
    return query


def _correction(world: World) -> AuditEvent:
    from diarytrial.diary.services import diary_entry_correct

    diary_entry_correct(
        entry=world.entry, answers={"pain": 30}, reason="x", actor=world.coordinator
    )
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    return event


# name -> (prepare before the lock, the write after it)
WRITES: dict[str, tuple[Callable[[World], Any], Callable[[World, Any], object]]] = {
    "query_raise": (lambda w: None, lambda w, _: _open(w)),
    "query_answer": (
        _open,
        lambda w, q: query_answer(query=q, text="Checked.", actor=w.coordinator),
    ),
    "query_close": (
        _answered,
        lambda w, q: query_close(query=q, text="Done.", actor=w.statistician),
    ),
    "query_reopen": (
        _answered,
        lambda w, q: query_reopen(query=q, text="Again.", actor=w.statistician),
    ),
    "query_correction_link": (
        lambda w: (_open(w), _correction(w)),
        lambda w, pair: query_correction_link(query=pair[0], event=pair[1], actor=w.coordinator),
    ),
    "query_diary_entry_correct": (
        _open,
        lambda w, q: query_diary_entry_correct(
            query=q, answers={"pain": 20}, reason="x", actor=w.coordinator
        ),
    ),
    "query_adverse_event_update": (
        lambda w: _open(w, QueryKind.ADVERSE_EVENT),
        lambda w, q: query_adverse_event_update(
            query=q, changes={"severity": "moderate"}, reason="x", actor=w.coordinator
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_locked_study_refuses_the_write_and_nothing_changes(world: World, name: str) -> None:
    prepare, write = WRITES[name]
    prepared = prepare(world)
    study_lock(
        study=world.study, reason="Analysis", actor=world.administrator, override_reason=LEFT_OPEN
    )
    mark = last_event_id()
    counts = (DataQuery.objects.count(), QueryMessage.objects.count())

    with pytest.raises(StudyLockedError) as caught:
        write(world, prepared)

    assert caught.value.http_status == 423
    assert events_after(mark) == []
    assert (DataQuery.objects.count(), QueryMessage.objects.count()) == counts
    study_unlock(study=world.study, reason="A query", actor=world.administrator)
    write(world, prepared)


def test_every_write_service_of_the_queries_app_is_in_the_list() -> None:
    public = {
        name
        for name, function in inspect.getmembers(services, inspect.isfunction)
        if function.__module__.startswith(services.__name__)
        and not name.startswith("_")
        and hasattr(function, "__wrapped__")
    }
    assert public == set(WRITES)
