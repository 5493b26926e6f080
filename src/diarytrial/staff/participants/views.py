"""Staff pages of participants: the list, a participant's page, and the forms that take a
participant along the trial (screening, enrolment, randomization, completion, withdrawal,
emergency unblinding).

Every view checks the role with `study_role_required`, finds the participant among the sites the
reader may see (a participant of another site is "not found", 404), parses its form and calls
one service. A refusal of the service is shown on the form; success redirects (POST, redirect,
GET) to the participant's page with a message.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from diarytrial.core.errors import InvalidInputError
from diarytrial.core.listing import csv_download, download_name, listing_page
from diarytrial.participants.forms import (
    CompletionForm,
    ConfirmForm,
    EmergencyUnblindingForm,
    EnrolmentForm,
    ParticipantFilterForm,
    ScreeningForm,
    TimezoneForm,
    WithdrawalForm,
)
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.pages import (
    CARE_ROLES,
    REFUSALS,
    UNBLINDING_ROLES,
    detail_url,
    participant_of_reader,
)
from diarytrial.participants.selectors import (
    participant_today,
)
from diarytrial.participants.services import (
    participant_complete,
    participant_enrol,
    participant_screen,
    participant_timezone_change,
    participant_transition_check,
    participant_withdraw,
)
from diarytrial.randomization.services import participant_randomize
from diarytrial.randomization.signing import (
    emergency_unblinding_signatures,
    participant_unblind_emergency_signed,
)
from diarytrial.staff.participants.overview import (
    PARTICIPANT_COLUMNS,
    ParticipantListRow,
    participant_csv_cells,
    participant_list_filter,
    participant_list_rows,
    participant_page,
    visit_numbers,
)
from diarytrial.studies.access import ALL_ROLES, StudyRequest, sites_visible_to, study_role_required
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol
from diarytrial.studies.zones import staff_today, staff_zone

Status = ParticipantStatus


def _render_form(
    request: StudyRequest, template: str, participant: Participant, form: object, **extra: object
) -> HttpResponse:
    return render(request, template, {"participant": participant, "form": form, **extra})


def _participant_lines(
    request: StudyRequest,
) -> tuple[ParticipantFilterForm, list[ParticipantListRow] | None]:
    """The list's query form and, when it reads, the rows that match it, in its order."""
    form = ParticipantFilterForm(request.GET, visits=visit_numbers(study=request.study))
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    lines = participant_list_rows(
        study=request.study,
        sites=sites_visible_to(request.user, request.study),
        statuses=data["status"] or None,
    )
    return form, participant_list_filter(
        lines,
        code=data["code"],
        visit=data["visit"],
        compliance_below=data["compliance_below"],
        sort=data["sort"] or "code",
    )


@require_safe
@study_role_required(*ALL_ROLES)
def participant_list(request: StudyRequest, study: str) -> HttpResponse:
    """The participants of the reader's sites, searched, filtered and sorted, a page at a time;
    htmx swaps only the table. A query that cannot be read answers 400 with what is wrong (to
    htmx, a redirect to the whole page, which shows it)."""
    form, lines = _participant_lines(request)
    partial = "HX-Request" in request.headers and "HX-History-Restore-Request" not in (
        request.headers
    )
    context: dict[str, object] = {
        "form": form,
        "page": None,
        "filtered": False,
        "care_roles": CARE_ROLES,
    }
    if lines is None:
        response = render(request, "participants/list.html", context, status=400)
        if partial:
            response["HX-Redirect"] = request.get_full_path()
    else:
        context["page"] = listing_page(lines, form.cleaned_data["page"])
        context["filtered"] = any(
            form.cleaned_data[name] for name in ("code", "status", "visit", "compliance_below")
        )
        template = "participants/_table.html" if partial else "participants/list.html"
        response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@study_role_required(*ALL_ROLES)
def participant_csv(request: StudyRequest, study: str) -> HttpResponse:
    """The participants that match the list's query, every page, as CSV (the same columns for
    every role: the list holds no allocation)."""
    form, lines = _participant_lines(request)
    if lines is None:
        raise form.refusal()
    return csv_download(
        filename=download_name(
            study_slug=request.study.slug,
            what="participants",
            day=staff_today(sites=sites_visible_to(request.user, request.study)),
        ),
        header=PARTICIPANT_COLUMNS,
        rows=participant_csv_cells(lines),
    )


@require_safe
@study_role_required(*ALL_ROLES)
def participant_detail(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """A participant as the reader may see them: status, schedule, kits, doses, history."""
    page = participant_page(
        participant=participant_of_reader(request, participant),
        user=request.user,
        membership=request.membership,
    )
    return render(
        request,
        "participants/detail.html",
        {"page": page, "page_zone": staff_zone(site=page.participant.site)},
    )


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def participant_screen_page(request: StudyRequest, study: str) -> HttpResponse:
    """Screening: the eligibility questions of the study's current protocol."""
    sites = sites_visible_to(request.user, request.study)
    protocol = protocol_version_load(study_current_protocol(request.study)).protocol
    form = ScreeningForm(
        request.POST if request.method == "POST" else None,
        sites=sites,
        questions=protocol.eligibility,
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            screened = participant_screen(
                study=request.study,
                site=sites.get(code=data["site"]),
                answers=form.answers(),
                timezone=data["timezone"],
                opioid_use=data["opioid_use"] == "yes",
                age=data["age"],
                actor=request.user,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            if screened.eligible:
                messages.success(
                    request,
                    f"Participant {screened.code} is screened and eligible. Enrol them once "
                    f"they have signed the consent form.",
                )
            else:
                messages.warning(
                    request,
                    f"Participant {screened.code} is screened and not eligible. "
                    f"{screened.ineligibility_reason}",
                )
            return redirect(detail_url(screened))
    return render(request, "participants/screen.html", {"form": form})


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def participant_enrol_page(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """Enrolment: consent and start date (time zone and opioid use come from screening)."""
    found = participant_of_reader(request, participant)
    participant_transition_check(found, Status.ENROLLED)
    form = EnrolmentForm(
        request.POST if request.method == "POST" else None, today=participant_today(found)
    )
    if found.eligible and form.is_valid():
        data = form.cleaned_data
        try:
            participant_enrol(
                participant=found,
                consent_form_version=data["consent_form_version"],
                consented_on=data["consented_on"],
                obtained_by=request.user,
                start_date=data["start_date"],
                actor=request.user,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"Participant {found.code} is enrolled; study day 1 is "
                f"{data['start_date'].isoformat()}, at dose level {found.dose_level}.",
            )
            return redirect(detail_url(found))
    return _render_form(request, "participants/enrol.html", found, form)


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def participant_randomize_page(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """Randomization: one button. The result says "randomized", never the sequence."""
    found = participant_of_reader(request, participant)
    participant_transition_check(found, Status.RANDOMIZED)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            participant_randomize(participant=found, actor=request.user)
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"Participant {found.code} is randomized. Their planned phases are below; the "
                f"pharmacist dispenses their first kit.",
            )
            return redirect(detail_url(found))
    return _render_form(request, "participants/randomize.html", found, form)


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def participant_complete_page(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """Completion: the date the participant finished."""
    found = participant_of_reader(request, participant)
    participant_transition_check(found, Status.COMPLETED)
    form = CompletionForm(
        request.POST if request.method == "POST" else None, today=participant_today(found)
    )
    if form.is_valid():
        try:
            participant_complete(participant=found, on=form.cleaned_data["on"], actor=request.user)
        except REFUSALS as error:
            form.add_error("on", error.message)
        else:
            messages.success(request, f"Participant {found.code} completed the trial.")
            return redirect(detail_url(found))
    return _render_form(request, "participants/complete.html", found, form)


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def participant_withdraw_page(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """Withdrawal: date and reason; the participant's data are kept."""
    found = participant_of_reader(request, participant)
    participant_transition_check(found, Status.WITHDRAWN)
    form = WithdrawalForm(
        request.POST if request.method == "POST" else None, today=participant_today(found)
    )
    if form.is_valid():
        try:
            participant_withdraw(
                participant=found,
                reason=form.cleaned_data["reason"],
                on=form.cleaned_data["on"],
                actor=request.user,
            )
        except InvalidInputError as error:  # the reason is checked by the form: the date
            form.add_error("on", error.message)
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Participant {found.code} is withdrawn; their data stay.")
            return redirect(detail_url(found))
    return _render_form(request, "participants/withdraw.html", found, form)


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def participant_timezone_page(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """A participant who moved: their diary windows follow the new time zone from now on."""
    found = participant_of_reader(request, participant)
    form = TimezoneForm(request.POST if request.method == "POST" else None, current=found.timezone)
    if form.is_valid():
        try:
            participant_timezone_change(
                participant=found,
                timezone=form.cleaned_data["timezone"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"{found.code}'s diary now follows {found.timezone.replace('_', ' ')} time.",
            )
            return redirect(detail_url(found))
    return _render_form(request, "participants/timezone.html", found, form)


def _unblinding_session_key(participant: Participant) -> str:
    return f"diarytrial.emergency_unblinding.{participant.study.slug}.{participant.code}"


@never_cache
@require_http_methods(["GET", "POST"])
@study_role_required(*UNBLINDING_ROLES)
def participant_unblind_page(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """Emergency unblinding: a warning, the reason; the result is shown once, on the next page."""
    found = participant_of_reader(request, participant)
    form = EmergencyUnblindingForm(
        request.POST if request.method == "POST" else None, signer=request.user
    )
    if form.is_valid():
        try:
            result, _ = participant_unblind_emergency_signed(
                participant=found,
                reason=form.cleaned_data["reason"],
                credentials=form.credentials(),
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            # Kept in the session until the result page shows it, once (POST, redirect, GET).
            request.session[_unblinding_session_key(found)] = {
                "sequence_code": result.sequence_code,
                "arm_names": list(result.arm_names),
                "unblinded_at": result.unblinded_at.isoformat(),
            }
            return redirect(
                reverse(
                    "participants:unblind_result",
                    kwargs={"study": request.study.slug, "participant": found.code},
                )
            )
    return _render_form(request, "participants/unblind.html", found, form)


@never_cache
@require_safe
@study_role_required(*UNBLINDING_ROLES)
def participant_unblind_result(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """The sequence revealed by an emergency unblinding, shown once and then forgotten."""
    found = participant_of_reader(request, participant)
    result = request.session.pop(_unblinding_session_key(found), None)
    if result is None:
        messages.info(
            request,
            f"The result of an emergency unblinding of {found.code} is shown once only, right "
            f"after it; the unblinding is recorded in the history below. If you need the "
            f"treatment again, unblind again (that is recorded too).",
        )
        return redirect(detail_url(found))
    result["unblinded_at"] = dt.datetime.fromisoformat(result["unblinded_at"])
    return render(
        request,
        "participants/unblind_result.html",
        {
            "participant": found,
            "result": result,
            "signatures": emergency_unblinding_signatures(participant=found)[-1:],
            "page_zone": staff_zone(site=found.site),
        },
    )
