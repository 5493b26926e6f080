"""The services of a query's life: every step and every refusal, each step with its audit
event, and nothing written when a step is refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from tests.builders import LEFT_OPEN
from tests.diary.helpers import events_after, last_event_id
from tests.queries.conftest import World

from diarytrial.core.errors import PermissionDeniedError
from diarytrial.queries.errors import (
    QueryStateError,
    QueryTargetInvalidError,
    QueryTextInvalidError,
)
from diarytrial.queries.models import (
    TEXT_MAX_LENGTH,
    DataQuery,
    MessageKind,
    QueryKind,
    QueryMessage,
    QueryStatus,
)
from diarytrial.queries.services import query_answer, query_close, query_raise, query_reopen
from diarytrial.studies.errors import StudyLockedError
from diarytrial.studies.services import study_lock

pytestmark = pytest.mark.django_db


def _raise(world: World, **kwargs: Any) -> DataQuery:
    values: dict[str, Any] = {
        "participant": world.participant,
        "kind": QueryKind.DIARY_ENTRY,
        "diary_entry": world.entry,
        "text": "Pain 80 on a night called good?",
        "actor": world.statistician,
    }
    values.update(kwargs)
    return query_raise(**values)


def test_raising_writes_the_query_its_first_message_and_one_event(world: World) -> None:
    mark = last_event_id()

    query = _raise(world, text="  Pain 80 on a night called good?  ")

    assert (query.status, query.study, query.participant, query.diary_entry) == (
        QueryStatus.OPEN,
        world.study,
        world.participant,
        world.entry,
    )
    (message,) = QueryMessage.objects.filter(query=query)
    assert (message.kind, message.author, message.text) == (
        MessageKind.RAISE,
        world.statistician,
        "Pain 80 on a night called good?",
    )
    (event,) = events_after(mark)
    assert (event.action, event.object_type, event.object_id, event.actor) == (
        "create",
        "queries.dataquery",
        str(query.pk),
        world.statistician,
    )
    assert {c["field"]: c["new"] for c in event.changes} == {
        "participant": world.participant.code,
        "kind": "diary_entry",
        "diary_entry": str(world.entry.pk),
        "status": "open",
        "raise": "Pain 80 on a night called good?",
    }


@pytest.mark.parametrize("kind", ["adverse_event", "pgic_answer", "blinding_guess"])
def test_a_query_names_the_record_of_its_kind(world: World, kind: str) -> None:
    record = {
        "adverse_event": world.event,
        "pgic_answer": world.pgic,
        "blinding_guess": world.guess,
    }
    query = _raise(world, kind=kind, diary_entry=None, **{kind: record[kind]})
    assert getattr(query, kind) == record[kind]
    assert query.diary_entry is None


def test_a_participant_query_names_a_field(world: World) -> None:
    query = _raise(world, kind="participant", diary_entry=None, participant_field="timezone")
    assert (query.kind, query.participant_field) == ("participant", "timezone")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "participant", "diary_entry": None},  # no field named
        {"kind": "participant", "diary_entry": None, "participant_field": "sequence"},
        {"kind": "participant"},  # a diary entry besides
        {"kind": "diary_entry", "diary_entry": None},  # no entry
        {"kind": "adverse_event"},  # the entry given, not the event
        {"kind": "arm", "diary_entry": None},
        {"participant_field": "timezone"},  # a field on a diary query
    ],
)
def test_a_query_about_nothing_or_two_records_is_refused(
    world: World, kwargs: dict[str, Any]
) -> None:
    mark = last_event_id()
    with pytest.raises(QueryTargetInvalidError):
        _raise(world, **kwargs)
    assert not DataQuery.objects.exists()
    assert events_after(mark) == []


def test_another_participants_record_is_refused(world: World) -> None:
    from tests.builders import make_entry, make_participant
    from tests.diary.helpers import START

    other = make_participant(study=world.study, site=world.sites[0], start_date=START)
    entry = make_entry(participant=other, diary_date=START)
    with pytest.raises(QueryTargetInvalidError, match="Name the diary entry"):
        _raise(world, diary_entry=entry)


def test_the_database_refuses_a_query_with_two_records(world: World) -> None:
    query = _raise(world)
    query.adverse_event = world.event
    with pytest.raises(IntegrityError), transaction.atomic():
        query.save()


@pytest.mark.parametrize("text", ["", "   \n ", "x" * (TEXT_MAX_LENGTH + 1)])
def test_empty_or_too_long_text_is_refused(world: World, text: str) -> None:
    with pytest.raises(QueryTextInvalidError):
        _raise(world, text=text)
    query = _raise(world)
    for step, actor in (
        (query_answer, world.coordinator),
        (query_close, world.statistician),
        (query_reopen, world.statistician),
    ):
        with pytest.raises(QueryTextInvalidError):
            step(query=query, text=text, actor=actor)
    assert QueryMessage.objects.filter(query=query).count() == 1


def test_the_longest_text_is_taken(world: World) -> None:
    query = _raise(world, text="x" * TEXT_MAX_LENGTH)
    assert query.messages.get().text == "x" * TEXT_MAX_LENGTH


@pytest.mark.parametrize("who", ["pharmacist", "administrator"])
def test_roles_that_do_not_raise_are_refused(world: World, who: str) -> None:
    with pytest.raises(PermissionDeniedError):
        _raise(world, actor=getattr(world, who))


def test_a_coordinator_of_another_site_cannot_raise_or_answer(world: World) -> None:
    with pytest.raises(PermissionDeniedError, match="site you do not work at"):
        _raise(world, actor=world.other_coordinator)
    query = _raise(world)
    with pytest.raises(PermissionDeniedError, match="site you do not work at"):
        query_answer(query=query, text="Checked.", actor=world.other_coordinator)
    assert query.status == QueryStatus.OPEN


@pytest.mark.parametrize("who", ["coordinator", "investigator", "statistician"])
def test_the_site_team_and_the_statistician_raise(world: World, who: str) -> None:
    assert _raise(world, actor=getattr(world, who)).raised_by == getattr(world, who)


def test_answer_close_and_reopen_move_the_status_with_a_message_and_an_event(
    world: World,
) -> None:
    query = _raise(world)
    steps = [
        (query_answer, world.coordinator, "Checked with the participant: 80 is right.", "answered"),
        (query_reopen, world.statistician, "Please check the paper diary too.", "open"),
        (query_answer, world.investigator, "Paper diary says 80.", "answered"),
        (query_close, world.statistician, "Confirmed.", "closed"),
        (query_reopen, world.statistician, "A new doubt.", "open"),
        (query_close, world.statistician, "Raised in error.", "closed"),
    ]
    for step, actor, text, status in steps:
        before = query.status
        mark = last_event_id()
        step(query=query, text=text, actor=actor)
        assert query.status == status
        query.refresh_from_db()
        assert query.status == status
        (event,) = events_after(mark)
        assert (event.action, event.object_id, event.actor) == ("update", str(query.pk), actor)
        kind = step.__name__.removeprefix("query_")
        assert {c["field"]: (c["old"], c["new"]) for c in event.changes} == {
            "status": (before, status),
            kind: (None, text),
        }
    thread = list(query.messages.order_by("id").values_list("kind", "author__username", "text"))
    assert thread[0][0] == "raise"
    assert [(k, a, t) for k, a, t in thread[1:]] == [
        (step.__name__.removeprefix("query_"), actor.get_username(), text)
        for step, actor, text, _ in steps
    ]


@pytest.mark.parametrize(
    ("status_steps", "step", "match"),
    [
        (["answer"], "answer", "only an open query is answered"),
        (["close"], "answer", "only an open query is answered"),
        (["close"], "close", "closed already"),
        ([], "reopen", "open already"),
    ],
)
def test_a_step_the_status_does_not_allow_is_refused(
    world: World, status_steps: list[str], step: str, match: str
) -> None:
    query = _raise(world)
    services = {"answer": query_answer, "close": query_close, "reopen": query_reopen}
    for done in status_steps:
        actor = world.coordinator if done == "answer" else world.statistician
        services[done](query=query, text="A step.", actor=actor)
    before = query.messages.count()
    mark = last_event_id()
    actor = world.coordinator if step == "answer" else world.statistician
    with pytest.raises(QueryStateError, match=match):
        services[step](query=query, text="Again.", actor=actor)
    assert query.messages.count() == before
    assert events_after(mark) == []


def test_only_the_raiser_closes_or_reopens(world: World) -> None:
    query = _raise(world, actor=world.coordinator)
    query_answer(query=query, text="Checked.", actor=world.investigator)
    for who in (world.investigator, world.statistician):
        with pytest.raises(PermissionDeniedError, match="Only the member who raised"):
            query_close(query=query, text="Done.", actor=who)
        with pytest.raises(PermissionDeniedError, match="Only the member who raised"):
            query_reopen(query=query, text="Again.", actor=who)
    query_close(query=query, text="Done.", actor=world.coordinator)
    assert query.status == QueryStatus.CLOSED


def test_the_statistician_and_pharmacist_do_not_answer(world: World) -> None:
    query = _raise(world, actor=world.coordinator)
    for who in (world.statistician, world.pharmacist, world.administrator):
        with pytest.raises(PermissionDeniedError):
            query_answer(query=query, text="Checked.", actor=who)


def test_a_locked_study_refuses_every_step(world: World) -> None:
    query = _raise(world)
    answered = _raise(world)
    query_answer(query=answered, text="Checked.", actor=world.coordinator)
    study_lock(
        study=world.study, reason="Analysis", actor=world.administrator, override_reason=LEFT_OPEN
    )
    mark = last_event_id()
    with pytest.raises(StudyLockedError):
        _raise(world)
    with pytest.raises(StudyLockedError):
        query_answer(query=query, text="Checked.", actor=world.coordinator)
    with pytest.raises(StudyLockedError):
        query_close(query=answered, text="Done.", actor=world.statistician)
    with pytest.raises(StudyLockedError):
        query_reopen(query=answered, text="Again.", actor=world.statistician)
    assert events_after(mark) == []
    assert DataQuery.objects.count() == 2
