"""The data query pages: who opens what, site scoping, the forms of each step, hostile input,
the panels on the records' pages, the correction in answer to a query, a locked study, and the
list's query count."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from tests.builders import LEFT_OPEN, client_for, make_participant
from tests.diary.helpers import START
from tests.queries.conftest import World

from diarytrial.diary.models import DiaryAnswer
from diarytrial.queries.models import (
    TEXT_MAX_LENGTH,
    DataQuery,
    MessageKind,
    QueryKind,
    QueryStatus,
)
from diarytrial.queries.services import query_answer, query_raise
from diarytrial.studies.services import study_lock

pytestmark = pytest.mark.django_db


def _list(world: World) -> str:
    return f"/studies/{world.study.slug}/queries/"


def _detail(query: DataQuery, step: str = "") -> str:
    return f"/studies/{query.study.slug}/queries/{query.pk}/{step + '/' if step else ''}"


def _raise_url(world: World, query_string: str = "") -> str:
    base = f"/studies/{world.study.slug}/queries/raise/{world.participant.code}/"
    return f"{base}?{query_string}" if query_string else base


def _query(world: World, actor: User | None = None, **kwargs: Any) -> DataQuery:
    values: dict[str, Any] = {
        "participant": world.participant,
        "kind": QueryKind.DIARY_ENTRY,
        "diary_entry": world.entry,
        "text": "Pain 80 on a night called good?",
        "actor": actor or world.statistician,
    }
    values.update(kwargs)
    return query_raise(**values)


def _text(response: Any) -> str:
    return response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("coordinator", 200),
        ("investigator", 200),
        ("statistician", 200),
        ("administrator", 200),
        ("pharmacist", 403),
    ],
)
def test_who_opens_the_list_and_a_query(world: World, who: str, status: int) -> None:
    query = _query(world)
    client = client_for(getattr(world, who))
    assert client.get(_list(world)).status_code == status
    assert client.get(_detail(query)).status_code == status


def test_a_coordinator_of_another_site_sees_nothing_of_it(world: World) -> None:
    query = _query(world)
    client = client_for(world.other_coordinator)
    page = client.get(_list(world))
    assert page.status_code == 200
    assert world.participant.code not in _text(page)
    assert "No query matches" in _text(page)
    assert client.get(_detail(query)).status_code == 404
    for step in ("answer", "correct"):
        assert client.post(_detail(query, step), {"answer-text": "x"}).status_code == 404
    assert client.get(_raise_url(world)).status_code == 404
    assert query.messages.count() == 1


def test_the_list_shows_queries_and_filters_them(world: World) -> None:
    open_query = _query(world)
    answered = _query(world, kind="participant", diary_entry=None, participant_field="timezone")
    query_answer(query=answered, text="Los Angeles.", actor=world.coordinator)
    boston = make_participant(study=world.study, site=world.sites[1], start_date=START)
    elsewhere = query_raise(
        participant=boston,
        kind="participant",
        participant_field="consent",
        text="Signed?",
        actor=world.statistician,
    )
    client = client_for(world.statistician)

    def shown(query_string: str) -> set[int]:
        response = client.get(f"{_list(world)}?{query_string}")
        assert response.status_code == 200
        return {q.pk for q, _ in response.context["rows"]}

    assert shown("") == {open_query.pk, answered.pk, elsewhere.pk}
    assert shown("status=open") == {open_query.pk, elsewhere.pk}
    assert shown("status=answered") == {answered.pk}
    assert shown("site=boston") == {elsewhere.pk}
    assert shown(f"participant={world.participant.code.lower()}") == {open_query.pk, answered.pk}
    page = _text(client.get(_list(world)))
    assert f"Diary of {START.isoformat()}" in page
    assert "Participant record: Time zone" in page


@pytest.mark.parametrize(
    "query_string",
    [
        "status=bogus",
        "site=nowhere",
        "page=abc",
        "page=0",
        "page=99999999999999999999",
        "participant=" + "X" * 500,
        "status=%00",
    ],
)
def test_hostile_filters_answer_400(world: World, query_string: str) -> None:
    response = client_for(world.coordinator).get(f"{_list(world)}?{query_string}")
    assert response.status_code == 400
    assert "Please correct" in _text(response) or "This was not done" in _text(response)


def test_a_page_past_the_last_shows_the_last(world: World) -> None:
    _query(world)
    response = client_for(world.coordinator).get(f"{_list(world)}?page=5")
    assert response.status_code == 200
    assert len(response.context["rows"]) == 1


def test_the_list_pages_at_fifty(world: World) -> None:
    for number in range(51):
        _query(world, text=f"Question {number}")
    client = client_for(world.statistician)
    first = client.get(_list(world))
    assert len(first.context["rows"]) == 50
    assert "page=2" in _text(first)
    assert len(client.get(f"{_list(world)}?page=2").context["rows"]) == 1


def test_the_lists_query_count_does_not_grow_with_its_rows(
    world: World,
    django_assert_max_num_queries: Any,
) -> None:
    client = client_for(world.statistician)
    _query(world)
    with django_assert_max_num_queries(12) as few:
        client.get(_list(world))
    for number in range(20):
        _query(world, text=f"Question {number}")
        _query(
            world,
            kind=QueryKind.ADVERSE_EVENT,
            diary_entry=None,
            adverse_event=world.event,
            text=f"AE {number}",
        )
        _query(world, kind=QueryKind.PGIC_ANSWER, diary_entry=None, pgic_answer=world.pgic)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(_list(world))
    assert len(response.context["rows"]) == 50


@pytest.mark.parametrize(
    ("query_string", "about"),
    [
        ("", "About a part of the participant's record"),
        (f"about=diary_entry&record={START.isoformat()}", f"Diary of {START.isoformat()}"),
        ("about=pgic_answer&record=2", "PGIC answer at visit 2"),
        ("about=blinding_guess&record=2", "Blinding question answer at visit 2"),
    ],
)
def test_the_raise_page_names_the_record(world: World, query_string: str, about: str) -> None:
    response = client_for(world.coordinator).get(_raise_url(world, query_string))
    assert response.status_code == 200
    assert about in _text(response)
    assert "period" not in _text(response).lower()


def test_raising_on_an_adverse_event_and_on_a_field(world: World) -> None:
    client = client_for(world.investigator)
    response = client.post(
        _raise_url(world, f"about=adverse_event&record={world.event.pk}"),
        {"text": "Onset before the first dose?"},
    )
    query = DataQuery.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _detail(query)
    assert (query.kind, query.adverse_event, query.raised_by) == (
        "adverse_event",
        world.event,
        world.investigator,
    )
    client.post(_raise_url(world), {"text": "Consent date?", "participant_field": "consent"})
    assert DataQuery.objects.filter(kind="participant", participant_field="consent").exists()


@pytest.mark.parametrize(
    ("query_string", "status"),
    [
        ("about=arm", 422),
        ("about=" + "x" * 5000, 422),
        ("about=diary_entry&record=2025-02-30", 404),
        ("about=diary_entry&record=1999-01-01", 404),
        ("about=diary_entry", 404),
        ("about=adverse_event&record=abc", 404),
        ("about=adverse_event&record=99999999999999999999", 404),
        ("about=adverse_event&record=-1", 404),
        ("about=pgic_answer&record=7", 404),
        ("about=blinding_guess&record=", 404),
    ],
)
def test_hostile_raise_addresses_are_refused(world: World, query_string: str, status: int) -> None:
    client = client_for(world.coordinator)
    assert client.get(_raise_url(world, query_string)).status_code == status
    assert client.post(_raise_url(world, query_string), {"text": "x"}).status_code == status
    assert not DataQuery.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"text": ""},
        {"text": "   "},
        {"text": "x" * (TEXT_MAX_LENGTH + 1)},
        {"text": "ok", "participant_field": "sequence"},
        {"text": "ok"},
        {},
    ],
)
def test_hostile_raise_forms_answer_422(world: World, data: dict[str, str]) -> None:
    response = client_for(world.coordinator).post(_raise_url(world), data)
    assert response.status_code == 422
    assert not DataQuery.objects.exists()


def test_raising_is_not_for_the_pharmacist_nor_the_administrator(world: World) -> None:
    for who in (world.pharmacist, world.administrator):
        assert client_for(who).get(_raise_url(world)).status_code == 403


def test_the_thread_and_the_forms_each_role_gets(world: World) -> None:
    query = _query(world, actor=world.statistician)
    forms = {
        "coordinator": client_for(world.coordinator),
        "statistician": client_for(world.statistician),
        "administrator": client_for(world.administrator),
    }
    pages = {who: _text(client.get(_detail(query))) for who, client in forms.items()}
    assert "Pain 80 on a night called good?" in pages["administrator"]
    assert "Send the answer" in pages["coordinator"]
    assert "Correct the diary entry" in pages["coordinator"]
    assert "Close the query" not in pages["coordinator"]
    assert "Close the query" in pages["statistician"]
    assert "Send the answer" not in pages["statistician"]
    assert "Re-open" not in pages["statistician"]  # open already
    assert not any(
        word in pages["administrator"] for word in ("Send the answer", "Close the query")
    )


def test_answer_close_reopen_through_the_pages(world: World) -> None:
    query = _query(world, actor=world.statistician)
    site, raiser = client_for(world.coordinator), client_for(world.statistician)

    response = site.post(_detail(query, "answer"), {"answer-text": "Checked: 80 is right."})
    assert (response.status_code, response["Location"]) == (302, _detail(query))
    query.refresh_from_db()
    assert query.status == QueryStatus.ANSWERED
    assert "Re-open the query" in _text(raiser.get(_detail(query)))

    assert raiser.post(_detail(query, "reopen"), {"reopen-text": "Paper?"}).status_code == 302
    site.post(_detail(query, "answer"), {"answer-text": "Paper says 80."})
    assert raiser.post(_detail(query, "close"), {"close-text": "Thanks."}).status_code == 302
    query.refresh_from_db()
    assert query.status == QueryStatus.CLOSED
    kinds = list(query.messages.order_by("id").values_list("kind", flat=True))
    assert kinds == ["raise", "answer", "reopen", "answer", "close"]
    assert "Send the answer" not in _text(site.get(_detail(query)))


@pytest.mark.parametrize(
    ("step", "data", "status"),
    [
        ("answer", {"answer-text": ""}, 422),
        ("answer", {"answer-text": "x" * (TEXT_MAX_LENGTH + 1)}, 422),
        ("answer", {"text": "the wrong prefix"}, 422),
        ("close", {"close-text": "Done."}, 403),  # the coordinator did not raise it
    ],
)
def test_hostile_steps_are_refused(
    world: World, step: str, data: dict[str, str], status: int
) -> None:
    query = _query(world, actor=world.statistician)
    response = client_for(world.coordinator).post(_detail(query, step), data)
    assert response.status_code == status
    assert query.messages.count() == 1


def test_a_step_the_status_does_not_allow_answers_409(world: World) -> None:
    query = _query(world, actor=world.statistician)
    query_answer(query=query, text="Done.", actor=world.coordinator)
    response = client_for(world.investigator).post(
        _detail(query, "answer"), {"answer-text": "Again."}
    )
    assert response.status_code == 409
    assert "only an open query is answered" in _text(response)


def test_steps_are_post_only_and_for_their_roles(world: World) -> None:
    query = _query(world)
    assert client_for(world.coordinator).get(_detail(query, "answer")).status_code == 405
    assert client_for(world.statistician).post(_detail(query, "answer"), {}).status_code == 403
    assert client_for(world.pharmacist).post(_detail(query, "close"), {}).status_code == 403
    assert Client().post(_detail(query, "answer"), {}).status_code == 302


def test_a_missing_query_is_not_found(world: World) -> None:
    client = client_for(world.coordinator)
    assert client.get(f"{_list(world)}999999/").status_code == 404
    assert client.get(f"{_list(world)}99999999999999999999999/").status_code == 404


def test_the_records_pages_show_their_open_queries_and_raise_links(world: World) -> None:
    on_entry = _query(world)
    on_event = _query(world, kind="adverse_event", diary_entry=None, adverse_event=world.event)
    client = client_for(world.coordinator)
    base = f"/studies/{world.study.slug}/participants/{world.participant.code}/"

    participant_page = _text(client.get(base))
    assert "Data queries" in participant_page
    assert _detail(on_entry) in participant_page
    assert _detail(on_event) in participant_page
    assert "Raise a query on the participant&#x27;s record" in participant_page
    assert "Raise a query on the PGIC answer at visit 2" in participant_page
    assert "about=blinding_guess&amp;record=2" in participant_page

    entry_page = _text(client.get(f"{base}diary/{START.isoformat()}/"))
    assert _detail(on_entry) in entry_page
    assert _detail(on_event) not in entry_page
    assert f"about=diary_entry&amp;record={START.isoformat()}" in entry_page

    event_page = _text(client.get(f"{base}adverse-events/{world.event.pk}/change/"))
    assert _detail(on_event) in event_page
    assert _detail(on_entry) not in event_page
    assert f"about=adverse_event&amp;record={world.event.pk}" in event_page

    pharmacist_page = _text(client_for(world.pharmacist).get(base))
    assert "Data queries" not in pharmacist_page


def test_a_closed_query_leaves_the_records_page(world: World) -> None:
    query = _query(world)
    client_for(world.statistician).post(_detail(query, "close"), {"close-text": "In error."})
    base = f"/studies/{world.study.slug}/participants/{world.participant.code}/"
    assert _detail(query) not in _text(client_for(world.coordinator).get(base))


def test_correcting_in_answer_links_the_correction_on_the_thread(world: World) -> None:
    query = _query(world)
    client = client_for(world.coordinator)
    form = client.get(_detail(query, "correct"))
    assert form.status_code == 200
    assert f"query {query.pk}" in _text(form)
    assert "Save the correction" in _text(form)

    response = client.post(
        _detail(query, "correct"), {"item_pain": "20", "reason": "Participant said 20"}
    )
    assert (response.status_code, response["Location"]) == (302, _detail(query))
    assert DiaryAnswer.objects.get(entry=world.entry, item="pain").value == 20
    (message,) = query.messages.filter(kind=MessageKind.CORRECTION)
    thread = _text(client.get(_detail(query)))
    assert "Corrected: pain 80 → 20" in thread
    assert f"audit event {message.correction_id}" in thread
    assert f"diary/{START.isoformat()}/#history" in thread


def test_changing_an_adverse_event_in_answer(world: World) -> None:
    query = _query(world, kind="adverse_event", diary_entry=None, adverse_event=world.event)
    client = client_for(world.investigator)
    assert client.get(_detail(query, "correct")).status_code == 200
    data = {
        "term": "Headache",
        "side_effect": "headache",
        "onset_date": START.isoformat(),
        "end_date": "",
        "severity": "moderate",
        "serious": "no",
        "related": "possible",
        "action": "none",
        "outcome": "recovering",
        "reason": "Chart says moderate",
    }
    response = client.post(_detail(query, "correct"), data)
    assert response.status_code == 302, _text(response)
    world.event.refresh_from_db()
    assert world.event.severity == "moderate"
    assert query.messages.filter(kind=MessageKind.CORRECTION).count() == 1


def test_a_bad_correction_answers_422_and_links_nothing(world: World) -> None:
    query = _query(world)
    client = client_for(world.coordinator)
    for data in ({"item_pain": "500", "reason": "x"}, {"item_pain": "20"}, {"item_pain": "abc"}):
        assert client.post(_detail(query, "correct"), data).status_code == 422
    assert not query.messages.filter(kind=MessageKind.CORRECTION).exists()


def test_a_query_on_an_answer_has_no_correction_page(world: World) -> None:
    query = _query(world, kind="pgic_answer", diary_entry=None, pgic_answer=world.pgic)
    client = client_for(world.coordinator)
    assert client.get(_detail(query, "correct")).status_code == 422
    assert "Correct the diary entry" not in _text(client.get(_detail(query)))
    page = _text(client.get(_detail(query)))
    assert "PGIC answer at visit 2" in page
    assert "period" not in page.lower()


def test_a_locked_study_shows_no_form_and_refuses_every_step(world: World) -> None:
    query = _query(world, actor=world.statistician)
    study_lock(
        study=world.study, reason="Analysis", actor=world.administrator, override_reason=LEFT_OPEN
    )
    site, raiser = client_for(world.coordinator), client_for(world.statistician)
    base = f"/studies/{world.study.slug}/participants/{world.participant.code}/"

    for client in (site, raiser):
        page = _text(client.get(_detail(query)))
        assert "locked for analysis" in page
        assert '<form method="post" action="/studies' not in page
        assert "Raise a query" not in _text(client.get(base))
    assert "Correct the diary entry" not in _text(site.get(_detail(query)))
    assert "Raise the query" not in _text(site.get(_raise_url(world)))

    assert site.post(_detail(query, "answer"), {"answer-text": "x"}).status_code == 423
    assert raiser.post(_detail(query, "close"), {"close-text": "x"}).status_code == 423
    assert (
        raiser.post(_raise_url(world), {"text": "x", "participant_field": "age"}).status_code == 423
    )
    assert (
        site.post(_detail(query, "correct"), {"item_pain": "20", "reason": "x"}).status_code == 423
    )
    assert query.messages.count() == 1


def test_the_admin_shows_queries_read_only(world: World, admin_user: User) -> None:
    query = _query(world)
    client = client_for(admin_user)
    for path in ("/admin/queries/dataquery/", "/admin/queries/querymessage/"):
        assert client.get(path).status_code == 200
    assert client.get(f"/admin/queries/dataquery/{query.pk}/change/").status_code == 200
    assert client.get("/admin/queries/dataquery/add/").status_code == 403
