"""Staff pages of the safety app, on a participant: record, change or remove an adverse event,
and change the blinded dose level; and a side effect reported in the diary, to confirm as an
adverse event or dismiss (the study-wide lists are in ``listings.py``).

For coordinators and investigators (`CARE_ROLES`), of the participant's site (another site's
participant is "not found"). Each view parses its form and calls one service; a refusal is shown
on the form, success goes back to the participant's page with a message. Nothing here reads
allocation: a dose change sets a level, never an amount.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from diarytrial.core.errors import NotFoundError, PermissionDeniedError
from diarytrial.diary.selectors import diary_entry_get
from diarytrial.participants.models import Participant
from diarytrial.participants.pages import CARE_ROLES, REFUSALS, detail_url, participant_of_reader
from diarytrial.participants.selectors import (
    participant_protocol,
    participant_today,
)
from diarytrial.safety.forms import (
    OTHER,
    AdverseEventChangeForm,
    AdverseEventForm,
    AdverseEventSignForm,
    CandidateConfirmForm,
    DismissForm,
    DoseChangeForm,
    ReasonForm,
)
from diarytrial.safety.models import AdverseEvent
from diarytrial.safety.selectors import (
    SideEffectCandidate,
    adverse_event_list,
    side_effect_candidate_get,
)
from diarytrial.safety.services import (
    adverse_event_record,
    adverse_event_remove,
    adverse_event_update,
    dose_level_change,
    side_effect_candidate_confirm,
    side_effect_candidate_dismiss,
)
from diarytrial.safety.signing import adverse_event_sign, adverse_event_signatures
from diarytrial.studies.access import StudyRequest, study_role_required
from diarytrial.studies.models import Role
from diarytrial.studies.zones import staff_zone


def _event(participant: Participant, event_id: int) -> AdverseEvent:
    for event in adverse_event_list(participant=participant, include_removed=True):
        if event.pk == event_id:
            return event
    raise NotFoundError(
        f"Participant {participant.code} has no adverse event {event_id}.",
        extra={"participant": participant.code, "event": event_id},
    )


def _posted(request: StudyRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def adverse_event_new(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """Record an adverse event; from the diary, a reported side effect comes pre-filled."""
    found = participant_of_reader(request, participant)
    protocol = participant_protocol(found)
    entry = None
    initial: dict[str, object] = {}
    reported = request.GET.get("diary_date", "")
    if reported:
        try:
            entry = diary_entry_get(participant=found, diary_date=dt.date.fromisoformat(reported))
        except ValueError:
            entry = None
        if entry is not None:
            initial = {"side_effect": request.GET.get("side_effect", ""), "onset_date": reported}
    form = AdverseEventForm(
        _posted(request),
        initial=initial,
        side_effects=protocol.diary.side_effects,
        today=participant_today(found),
    )
    if form.is_valid():
        values = form.values()
        try:
            event = adverse_event_record(
                participant=found,
                actor=request.user,
                from_diary_entry=entry if values["side_effect"] else None,
                **values,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            serious = " It is serious: the investigators are e-mailed." if event.serious else ""
            messages.success(request, f"Adverse event {event.term} recorded.{serious}")
            return redirect(detail_url(found))
    return render(
        request,
        "safety/adverse_event_form.html",
        {"participant": found, "form": form, "entry": entry, "other": OTHER, "event": None},
    )


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def adverse_event_page(
    request: StudyRequest, study: str, participant: str, event: int
) -> HttpResponse:
    """An adverse event with its signatures (each checked against the event now); an
    investigator signs it off here, with password (and code) and the meaning of the signature."""
    found = participant_of_reader(request, participant)
    current = _event(found, event)
    investigator = request.membership.role == Role.INVESTIGATOR
    if request.method == "POST" and not investigator:
        raise PermissionDeniedError(
            "Only an investigator signs off an adverse event; you can read its signatures here.",
            extra={"participant": found.code, "event": event},
        )
    may_sign = investigator and current.status == "recorded" and request.study.locked_at is None
    form = AdverseEventSignForm(_posted(request), signer=request.user)
    if form.is_valid():
        try:
            adverse_event_sign(event=current, participant=found, credentials=form.credentials())
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Adverse event {current.term} is signed off.")
            return redirect(
                reverse(
                    "safety:adverse_event",
                    kwargs={"study": request.study.slug, "participant": found.code, "event": event},
                )
            )
    signatures = adverse_event_signatures(participant=found, events=[current])[current.pk]
    return render(
        request,
        "safety/adverse_event.html",
        {
            "participant": found,
            "event": current,
            "form": form,
            "may_sign": may_sign,
            "signatures": signatures,
            "page_zone": staff_zone(site=found.site),
        },
    )


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def adverse_event_change(
    request: StudyRequest, study: str, participant: str, event: int
) -> HttpResponse:
    """Change a recorded adverse event, saying why (old and new values go to the audit trail)."""
    found = participant_of_reader(request, participant)
    current = _event(found, event)
    form = AdverseEventChangeForm(
        _posted(request),
        initial=AdverseEventForm.initial_of(current),
        side_effects=participant_protocol(found).diary.side_effects,
        today=participant_today(found),
    )
    if form.is_valid():
        try:
            adverse_event_update(
                event=current,
                changes=form.values(),
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Adverse event {current.term} changed.")
            return redirect(detail_url(found))
    return render(
        request,
        "safety/adverse_event_form.html",
        {"participant": found, "form": form, "entry": None, "other": OTHER, "event": current},
    )


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def adverse_event_remove_page(
    request: StudyRequest, study: str, participant: str, event: int
) -> HttpResponse:
    """Remove an event recorded in error; it stays in the records, marked removed, with why."""
    found = participant_of_reader(request, participant)
    current = _event(found, event)
    form = ReasonForm(_posted(request))
    if form.is_valid():
        try:
            adverse_event_remove(
                event=current, reason=form.cleaned_data["reason"], actor=request.user
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Adverse event {current.term} removed.")
            return redirect(detail_url(found))
    return render(
        request,
        "safety/adverse_event_remove.html",
        {"participant": found, "form": form, "event": current},
    )


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def dose_change(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """Lower or restore the participant's blinded dose level, saying why."""
    found = participant_of_reader(request, participant)
    levels = participant_protocol(found).dosing.levels
    form = DoseChangeForm(
        _posted(request),
        levels=levels,
        current=found.dose_level,
        today=participant_today(found),
    )
    if form.is_valid():
        try:
            change = dose_level_change(
                participant=found,
                level=form.cleaned_data["level"],
                reason=form.cleaned_data["reason"],
                effective_on=form.cleaned_data["effective_on"],
                actor=request.user,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"{found.code} takes dose level {change.level} from "
                f"{change.effective_on.isoformat()}; the pharmacist's next kit follows it.",
            )
            return redirect(detail_url(found))
    return render(
        request,
        "safety/dose_change.html",
        {"participant": found, "form": form, "levels": levels},
    )


# --- side effects reported in the diary ----------------------------------------------------------


def _candidate(
    request: StudyRequest, code: str, side_effect: str, first: str
) -> tuple[Participant, SideEffectCandidate]:
    found = participant_of_reader(request, code)
    try:
        day = dt.date.fromisoformat(first)
    except ValueError:
        day = None
    candidate = side_effect_candidate_get(
        participant=found, side_effect=side_effect, first_reported=day
    )
    if candidate is not None:
        return found, candidate
    raise NotFoundError(
        f"No side effect {side_effect} reported by {found.code} from {first} is waiting for a "
        f"decision: it was confirmed or dismissed already, or an adverse event covers it.",
        extra={"participant": found.code},
    )


def _back(request: StudyRequest) -> str:
    """Where the decision was asked: "participant" (their page) or "" (the study's list)."""
    asked = request.POST.get("back") if request.method == "POST" else request.GET.get("back")
    return "participant" if asked == "participant" else ""


def _decided_url(request: StudyRequest, participant: Participant) -> str:
    if _back(request) == "participant":
        return detail_url(participant)
    return reverse("side_effects:list", kwargs={"study": participant.study.slug})


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def side_effect_confirm(
    request: StudyRequest, study: str, participant: str, side_effect: str, first: str
) -> HttpResponse:
    """Confirm a diary side effect as an adverse event with onset on its first night."""
    found, candidate = _candidate(request, participant, side_effect, first)
    form = CandidateConfirmForm(
        _posted(request),
        initial={"term": candidate.label},
        onset=candidate.first_reported,
        today=participant_today(found),
    )
    if form.is_valid():
        values = form.values()
        try:
            review = side_effect_candidate_confirm(
                participant=found,
                side_effect=candidate.side_effect,
                first_reported=candidate.first_reported,
                actor=request.user,
                **values,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            event = review.adverse_event
            serious = event is not None and event.serious
            messages.success(
                request,
                f"{candidate.label} of {found.code} recorded as an adverse event from "
                f"{candidate.first_reported.isoformat()}."
                + (" It is serious: the investigators are e-mailed." if serious else ""),
            )
            return redirect(_decided_url(request, found))
    return render(
        request,
        "safety/side_effect_confirm.html",
        {"participant": found, "candidate": candidate, "form": form, "back": _back(request)},
    )


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def side_effect_dismiss(
    request: StudyRequest, study: str, participant: str, side_effect: str, first: str
) -> HttpResponse:
    """Dismiss a diary side effect: not an adverse event, with the reason."""
    found, candidate = _candidate(request, participant, side_effect, first)
    form = DismissForm(_posted(request))
    if form.is_valid():
        try:
            side_effect_candidate_dismiss(
                participant=found,
                side_effect=candidate.side_effect,
                first_reported=candidate.first_reported,
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"{candidate.label} of {found.code} from "
                f"{candidate.first_reported.isoformat()} dismissed: not an adverse event.",
            )
            return redirect(_decided_url(request, found))
    return render(
        request,
        "safety/side_effect_dismiss.html",
        {"participant": found, "candidate": candidate, "form": form, "back": _back(request)},
    )
