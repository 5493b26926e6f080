"""Staff pages of data queries: the study's list (filters, pages), raising a query about a
record, a query's thread with its answer, close and re-open forms, and the correction of the
record in answer to a query.

Roles as in `diarytrial.queries.access`. A query of a participant at another of the study's
sites is "not found" for a coordinator limited to their sites. On a locked study no form is
shown and every write is refused (423). Each POST calls one service; a refusal is shown on the
form with its status (422, 409, 423).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from diarytrial.core.errors import ApplicationError, NotFoundError
from diarytrial.diary.forms import DiaryCorrectionForm
from diarytrial.diary.models import BlindingGuess, DiaryEntry, PgicAnswer
from diarytrial.diary.overview import diary_entry_page
from diarytrial.diary.selectors import blinding_guess_list, diary_entry_get, pgic_answer_list
from diarytrial.participants.models import Participant
from diarytrial.participants.pages import REFUSALS, participant_of_reader
from diarytrial.participants.selectors import participant_protocol, participant_today
from diarytrial.queries.access import ANSWER_ROLES, RAISE_ROLES, READ_ROLES
from diarytrial.queries.errors import QueryTargetInvalidError
from diarytrial.queries.forms import (
    QueryFilterForm,
    QueryMessageForm,
    QueryRaiseForm,
    answer_form,
    close_form,
    reopen_form,
)
from diarytrial.queries.models import DataQuery, QueryKind, QueryStatus
from diarytrial.queries.selectors import query_about_words, query_get, query_list, query_thread
from diarytrial.queries.services import (
    query_adverse_event_update,
    query_answer,
    query_close,
    query_diary_entry_correct,
    query_raise,
    query_reopen,
)
from diarytrial.safety.forms import OTHER, AdverseEventChangeForm, AdverseEventForm
from diarytrial.safety.models import AdverseEvent
from diarytrial.safety.selectors import adverse_event_list
from diarytrial.studies.access import StudyRequest, sites_visible_to, study_role_required
from diarytrial.studies.page_zone import page_site_set
from diarytrial.studies.zones import staff_zone

PAGE_SIZE = 50
CORRECTABLE = (QueryKind.DIARY_ENTRY, QueryKind.ADVERSE_EVENT)


def _query(request: StudyRequest, pk: int) -> DataQuery:
    query = query_get(
        study=request.study, pk=pk, sites=sites_visible_to(request.user, request.study)
    )
    page_site_set(request, query.participant.site)  # the page's times: in its site's zone
    return query


def query_url(query: DataQuery) -> str:
    return reverse("queries:detail", kwargs={"study": query.study.slug, "query": query.pk})


def _record_url(query: DataQuery, *, care: bool) -> str:
    """The staff page of the record the query is about, with its history: the diary entry's
    or the adverse event's page for the site team (`care`), else the participant's page."""
    study, code = query.study.slug, query.participant.code
    if care and query.kind == QueryKind.DIARY_ENTRY and query.diary_entry is not None:
        day = query.diary_entry.diary_date.isoformat()
        return reverse("diary:correct", kwargs={"study": study, "participant": code, "day": day})
    if care and query.kind == QueryKind.ADVERSE_EVENT and query.adverse_event is not None:
        return reverse(
            "safety:adverse_event_change",
            kwargs={"study": study, "participant": code, "event": query.adverse_event.pk},
        )
    return reverse("participants:detail", kwargs={"study": study, "participant": code})


@require_safe
@study_role_required(*READ_ROLES)
def query_list_page(request: StudyRequest, study: str) -> HttpResponse:
    """The study's queries at the reader's sites, newest activity first, 50 a page."""
    sites = list(sites_visible_to(request.user, request.study))
    form = QueryFilterForm(request.GET, sites=sites)
    if not form.is_valid():
        return render(
            request, "queries/list.html", {"form": form, "page": None, "rows": []}, status=400
        )
    status = form.cleaned_data["status"]
    queries = query_list(
        study=request.study,
        sites=sites,
        status=None if status == "all" else status,
        site=form.selected_site(),
        participant_code=form.cleaned_data["participant"],
    )
    if not status:
        queries = queries.exclude(status=QueryStatus.CLOSED)
    page = Paginator(queries, PAGE_SIZE).get_page(form.cleaned_data["page"] or 1)
    rows = [(query, query_about_words(query)) for query in page.object_list]
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "queries/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "filters": filters.urlencode(),
            "page_zone": staff_zone(sites=sites),
        },
    )


def _record_for(participant: Participant, about: str, record: str) -> dict[str, object]:
    """The record `about` + `record` (a date, an event number, a visit) of `participant`, as
    the keyword `query_raise` takes; NotFoundError when the participant has none such."""
    missing = NotFoundError(
        f"Participant {participant.code} has no {about.replace('_', ' ')} {record!r} to ask about.",
        extra={"participant": participant.code},
    )
    if about == QueryKind.DIARY_ENTRY:
        try:
            day = dt.date.fromisoformat(record)
        except ValueError:
            raise missing from None
        entry: DiaryEntry | None = diary_entry_get(participant=participant, diary_date=day)
        if entry is None:
            raise missing
        return {"diary_entry": entry}
    if not record.isdigit() or len(record) > 9:
        raise missing
    number = int(record)
    if about == QueryKind.ADVERSE_EVENT:
        events: list[AdverseEvent] = adverse_event_list(
            participant=participant, include_removed=True
        )
        found_event = next((event for event in events if event.pk == number), None)
        if found_event is None:
            raise missing
        return {"adverse_event": found_event}
    answers: list[PgicAnswer] | list[BlindingGuess] = (
        pgic_answer_list(participant=participant)
        if about == QueryKind.PGIC_ANSWER
        else blinding_guess_list(participant=participant)
    )
    found_answer = next((answer for answer in answers if answer.visit == number), None)
    if found_answer is None:
        raise missing
    key = "pgic_answer" if about == QueryKind.PGIC_ANSWER else "blinding_guess"
    return {key: found_answer}


@require_http_methods(["GET", "POST"])
@study_role_required(*RAISE_ROLES)
def query_raise_page(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """Raise a query about a record of the participant: ``?about=diary_entry&record=<date>``,
    ``adverse_event&record=<number>``, ``pgic_answer`` or ``blinding_guess&record=<visit>``;
    ``about=participant`` (the default) asks about a field of their record."""
    found = participant_of_reader(request, participant)
    about = request.GET.get("about", QueryKind.PARTICIPANT)
    if about not in QueryKind.values:
        raise QueryTargetInvalidError(
            f"A query is about one of: {', '.join(QueryKind.values)} (got {about[:40]!r}).",
            extra={"participant": found.code},
        )
    records = (
        {}
        if about == QueryKind.PARTICIPANT
        else _record_for(found, about, request.GET.get("record", "")[:40])
    )
    form = QueryRaiseForm(
        request.POST if request.method == "POST" else None,
        about_participant=about == QueryKind.PARTICIPANT,
    )
    preview = DataQuery(participant=found, kind=about, **records)
    status = 200
    if form.is_valid():
        try:
            query = query_raise(
                participant=found,
                kind=about,
                text=form.cleaned_data["text"],
                participant_field=form.cleaned_data.get("participant_field", ""),
                actor=request.user,
                **records,  # type: ignore[arg-type]
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
            status = error.http_status
        else:
            messages.success(request, f"Query {query.pk} raised; the site is asked to answer.")
            return redirect(query_url(query))
    elif request.method == "POST":
        status = 422
    return render(
        request,
        "queries/raise.html",
        {
            "participant": found,
            "form": form,
            "about": "" if about == QueryKind.PARTICIPANT else query_about_words(preview),
        },
        status=status,
    )


def _detail(
    request: StudyRequest,
    query: DataQuery,
    *,
    status: int = 200,
    bound: QueryMessageForm | None = None,
    refusal: str = "",
) -> HttpResponse:
    role = request.membership.role
    care = role in ANSWER_ROLES
    is_raiser = query.raised_by_id == request.user.pk and role in RAISE_ROLES
    unlocked = request.study.locked_at is None
    forms = {"answer": answer_form(), "close": close_form(), "reopen": reopen_form()}
    if bound is not None and bound.prefix is not None:
        forms[bound.prefix] = bound
    return render(
        request,
        "queries/detail.html",
        {
            "query": query,
            "about": query_about_words(query),
            "record_url": _record_url(query, care=care),
            "history_url": (
                _record_url(query, care=care)
                if query.kind == QueryKind.DIARY_ENTRY and care
                else _record_url(query, care=False)
            )
            + "#history",
            "thread": query_thread(query),
            "can_answer": unlocked and role in ANSWER_ROLES and query.status == QueryStatus.OPEN,
            "can_close": unlocked and is_raiser and query.status != QueryStatus.CLOSED,
            "can_reopen": unlocked and is_raiser and query.status != QueryStatus.OPEN,
            "can_correct": unlocked
            and role in ANSWER_ROLES
            and query.kind in CORRECTABLE
            and query.status != QueryStatus.CLOSED,
            "forms": forms,
            "refusal": refusal,
        },
        status=status,
    )


@require_safe
@study_role_required(*READ_ROLES)
def query_detail(request: StudyRequest, study: str, query: int) -> HttpResponse:
    """A query: what it is about, its thread, and the forms the reader may use."""
    return _detail(request, _query(request, query))


def _step(
    request: StudyRequest, query: DataQuery, form: QueryMessageForm, done: str
) -> HttpResponse:
    """Run the step of a thread whose form is `form`; its service comes from the form's prefix."""
    service = {"answer": query_answer, "close": query_close, "reopen": query_reopen}[
        form.prefix or ""
    ]
    if not form.is_valid():
        return _detail(request, query, status=422, bound=form)
    try:
        service(query=query, text=form.cleaned_data["text"], actor=request.user)
    except REFUSALS as error:
        return _detail(request, query, status=error.http_status, refusal=error.message)
    messages.success(request, done)
    return redirect(query_url(query))


@study_role_required(*ANSWER_ROLES)
@require_POST
def query_answer_page(request: StudyRequest, study: str, query: int) -> HttpResponse:
    """The site answers the query (`query_answer`)."""
    found = _query(request, query)
    return _step(request, found, answer_form(request.POST), f"Query {found.pk} answered.")


@study_role_required(*RAISE_ROLES)
@require_POST
def query_close_page(request: StudyRequest, study: str, query: int) -> HttpResponse:
    """Its raiser closes the query (`query_close`)."""
    found = _query(request, query)
    return _step(request, found, close_form(request.POST), f"Query {found.pk} closed.")


@study_role_required(*RAISE_ROLES)
@require_POST
def query_reopen_page(request: StudyRequest, study: str, query: int) -> HttpResponse:
    """Its raiser re-opens the query (`query_reopen`)."""
    found = _query(request, query)
    return _step(request, found, reopen_form(request.POST), f"Query {found.pk} re-opened.")


def _posted(request: StudyRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _correct_diary(request: StudyRequest, query: DataQuery) -> HttpResponse:
    entry = query.diary_entry
    assert entry is not None
    page = diary_entry_page(participant=query.participant, diary_date=entry.diary_date)
    assert page is not None
    form = DiaryCorrectionForm(_posted(request), items=page.items)
    status = 422 if request.method == "POST" else 200
    if form.is_valid():
        try:
            query_diary_entry_correct(
                query=query,
                answers=form.answers(),
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
            status = error.http_status
        else:
            messages.success(
                request,
                f"The diary of {entry.diary_date.isoformat()} is corrected; the correction is "
                f"linked to query {query.pk}. Answer the query to say what was done.",
            )
            return redirect(query_url(query))
    context = {
        "participant": query.participant,
        "page": page,
        "form": form,
        "query": query,
        "query_url": query_url(query),
    }
    return render(request, "diary/correct.html", context, status=status)


def _correct_adverse_event(request: StudyRequest, query: DataQuery) -> HttpResponse:
    event = query.adverse_event
    assert event is not None
    participant = query.participant
    form = AdverseEventChangeForm(
        _posted(request),
        initial=AdverseEventForm.initial_of(event),
        side_effects=participant_protocol(participant).diary.side_effects,
        today=participant_today(participant),
    )
    status = 422 if request.method == "POST" else 200
    if form.is_valid():
        try:
            query_adverse_event_update(
                query=query,
                changes=form.values(),
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
            status = error.http_status
        else:
            messages.success(
                request,
                f"Adverse event {event.term} changed; the change is linked to query {query.pk}. "
                f"Answer the query to say what was done.",
            )
            return redirect(query_url(query))
    context = {
        "participant": participant,
        "form": form,
        "entry": None,
        "other": OTHER,
        "event": event,
        "query": query,
        "query_url": query_url(query),
    }
    return render(request, "safety/adverse_event_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@study_role_required(*ANSWER_ROLES)
def query_correct_page(request: StudyRequest, study: str, query: int) -> HttpResponse:
    """Correct the diary entry or change the adverse event a query is about; the correction is
    linked on the query's thread. The form is the record's own, and carries the query in its
    address."""
    found = _query(request, query)
    if found.kind not in CORRECTABLE:
        raise QueryTargetInvalidError(
            f"Query {found.pk} concerns the {QueryKind(found.kind).label.lower()}; correct it on "
            f"the participant's page, then answer the query saying what was done.",
            extra={"query": found.pk},
        )
    if found.status == QueryStatus.CLOSED:
        raise ApplicationError(
            f"Query {found.pk} is closed; ask its raiser to re-open it first.",
            extra={"query": found.pk},
        )
    if found.kind == QueryKind.DIARY_ENTRY:
        return _correct_diary(request, found)
    return _correct_adverse_event(request, found)
