"""A correction made in answer to a query: the record's own service changes it, and the query's
thread links the correction's audit event, in one transaction."""

from __future__ import annotations

import pytest
from tests.builders import make_entry
from tests.diary.helpers import START, events_after, last_event_id
from tests.queries.conftest import World

from diarytrial.audit.models import AuditEvent
from diarytrial.diary.services import diary_entry_correct
from diarytrial.queries.errors import QueryStateError, QueryTargetInvalidError
from diarytrial.queries.models import DataQuery, MessageKind, QueryKind, QueryStatus
from diarytrial.queries.services import (
    query_adverse_event_update,
    query_close,
    query_correction_link,
    query_diary_entry_correct,
    query_raise,
)
from diarytrial.safety.errors import AdverseEventInvalidError

pytestmark = pytest.mark.django_db


def _diary_query(world: World) -> DataQuery:
    return query_raise(
        participant=world.participant,
        kind=QueryKind.DIARY_ENTRY,
        diary_entry=world.entry,
        text="Pain 80?",
        actor=world.statistician,
    )


def test_a_diary_correction_is_linked_on_the_thread(world: World) -> None:
    query = _diary_query(world)
    mark = last_event_id()

    message = query_diary_entry_correct(
        query=query,
        answers={"pain": 20},
        reason="Participant confirmed 20",
        actor=world.coordinator,
    )

    correction, linked = events_after(mark)
    assert (correction.object_type, correction.object_id) == (
        "diary.diaryentry",
        str(world.entry.pk),
    )
    assert {c["field"]: (c["old"], c["new"]) for c in correction.changes}["answers.pain"] == (
        80.0,
        20.0,
    )
    assert (linked.object_type, linked.object_id) == ("queries.dataquery", str(query.pk))
    assert linked.changes == [{"field": "correction", "old": None, "new": correction.pk}]
    assert (message.kind, message.correction, message.author) == (
        MessageKind.CORRECTION,
        correction,
        world.coordinator,
    )
    assert "pain 80 → 20" in message.text
    query.refresh_from_db()
    assert query.status == QueryStatus.OPEN  # the site still answers, the raiser closes


def test_a_refused_correction_links_nothing(world: World) -> None:
    query = _diary_query(world)
    mark = last_event_id()
    with pytest.raises(Exception, match="nothing to change"):
        query_diary_entry_correct(
            query=query, answers={"pain": 80}, reason="Same", actor=world.coordinator
        )
    assert events_after(mark) == []
    assert not query.messages.filter(kind=MessageKind.CORRECTION).exists()


def test_an_adverse_event_change_is_linked(world: World) -> None:
    query = query_raise(
        participant=world.participant,
        kind=QueryKind.ADVERSE_EVENT,
        adverse_event=world.event,
        text="Severity?",
        actor=world.statistician,
    )
    message = query_adverse_event_update(
        query=query,
        changes={"severity": "moderate"},
        reason="Chart says moderate",
        actor=world.investigator,
    )
    assert message.correction is not None
    assert message.correction.object_type == "safety.adverseevent"
    assert "severity mild → moderate" in message.text
    with pytest.raises(AdverseEventInvalidError):
        query_adverse_event_update(
            query=query, changes={"severity": "moderate"}, reason="Again", actor=world.investigator
        )
    assert query.messages.filter(kind=MessageKind.CORRECTION).count() == 1


def test_a_correction_of_another_record_or_kind_is_refused(world: World) -> None:
    query = _diary_query(world)
    other = make_entry(participant=world.participant, diary_date=START.replace(day=START.day + 1))
    diary_entry_correct(entry=other, answers={"pain": 10}, reason="Phone", actor=world.coordinator)
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    with pytest.raises(QueryTargetInvalidError):
        query_correction_link(query=query, event=event, actor=world.coordinator)
    with pytest.raises(QueryTargetInvalidError, match="cannot link a change of the adverse event"):
        query_adverse_event_update(
            query=query, changes={"severity": "severe"}, reason="x", actor=world.coordinator
        )


def test_a_closed_query_takes_no_correction(world: World) -> None:
    query = _diary_query(world)
    query_close(query=query, text="Raised in error.", actor=world.statistician)
    with pytest.raises(QueryStateError):
        query_diary_entry_correct(
            query=query, answers={"pain": 20}, reason="x", actor=world.coordinator
        )
    world.entry.refresh_from_db()
    assert world.entry.status != "corrected"
