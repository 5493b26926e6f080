"""Staff pages of the diary, on a participant: their entries, and the correction of one entry
after its window closed (`diary_entry_correct`, with a reason).

For coordinators and investigators (`CARE_ROLES`) of the participant's site; another site's
participant is "not found". Nothing here names an arm.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from diarytrial.core.errors import NotFoundError
from diarytrial.diary.forms import DiaryCorrectionForm
from diarytrial.diary.overview import EntryPage, diary_entry_page, diary_entry_rows
from diarytrial.diary.services import diary_entry_correct
from diarytrial.participants.models import Participant
from diarytrial.participants.pages import CARE_ROLES, REFUSALS, participant_of_reader
from diarytrial.studies.access import StudyRequest, study_role_required


def _entry_page(participant: Participant, day: str) -> EntryPage:
    try:
        diary_date = dt.date.fromisoformat(day)
    except ValueError:
        diary_date = None
    page = (
        None
        if diary_date is None
        else diary_entry_page(participant=participant, diary_date=diary_date)
    )
    if page is None:
        raise NotFoundError(
            f"Participant {participant.code} has no diary entry for {day}; a night the "
            f"participant did not fill stays missing.",
            extra={"participant": participant.code},
        )
    return page


@require_safe
@study_role_required(*CARE_ROLES)
def diary_entries(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """The participant's diary entries, newest first, each with a link to correct it."""
    found = participant_of_reader(request, participant)
    return render(
        request,
        "diary/entries.html",
        {"participant": found, "rows": diary_entry_rows(participant=found)},
    )


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def diary_correct(request: StudyRequest, study: str, participant: str, day: str) -> HttpResponse:
    """Correct the answers of one night after its window closed, saying why."""
    found = participant_of_reader(request, participant)
    page = _entry_page(found, day)
    form = DiaryCorrectionForm(request.POST if request.method == "POST" else None, items=page.items)
    if form.is_valid():
        try:
            diary_entry_correct(
                entry=page.entry,
                answers=form.answers(),
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"The diary of {page.entry.diary_date.isoformat()} of {found.code} is corrected.",
            )
            return redirect(
                reverse(
                    "diary:correct",
                    kwargs={
                        "study": found.study.slug,
                        "participant": found.code,
                        "day": page.entry.diary_date.isoformat(),
                    },
                )
            )
    return render(request, "diary/correct.html", {"participant": found, "page": page, "form": form})
