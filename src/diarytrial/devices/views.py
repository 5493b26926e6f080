"""Staff pages of the devices app: a participant's phones, a new enrolment link (its URL and QR
code shown once), revoking a phone. Coordinators and investigators; a coordinator only for the
participants of their sites (another site's participant is 404)."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from diarytrial.core.errors import ConflictError, InvalidInputError
from diarytrial.devices.forms import RevokeForm
from diarytrial.devices.models import Device
from diarytrial.devices.selectors import device_list, enrolment_link_open
from diarytrial.devices.services import LINK_LIFETIME_HOURS, device_revoke, enrolment_link_issue
from diarytrial.participants.models import Participant
from diarytrial.participants.pages import CARE_ROLES, participant_of_reader
from diarytrial.studies.access import StudyRequest, study_role_required
from diarytrial.studies.errors import StudyLockedError

REFUSALS = (InvalidInputError, ConflictError, StudyLockedError)


def _list_url(participant: Participant) -> str:
    return reverse(
        "devices:list", kwargs={"study": participant.study.slug, "participant": participant.code}
    )


@require_safe
@study_role_required(*CARE_ROLES)
def device_list_page(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """The participant's phones (active and revoked) and whether a link is waiting."""
    found = participant_of_reader(request, participant)
    return render(
        request,
        "devices/list.html",
        {
            "participant": found,
            "devices": device_list(participant=found),
            "open_link": enrolment_link_open(participant=found),
            "lifetime_hours": LINK_LIFETIME_HOURS,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def enrolment_link_page(request: StudyRequest, study: str, participant: str) -> HttpResponse:
    """GET: what a link does; POST: a new link, its URL and QR code shown on this page only."""
    found = participant_of_reader(request, participant)
    context: dict[str, object] = {
        "participant": found,
        "lifetime_hours": LINK_LIFETIME_HOURS,
    }
    if request.method == "POST":
        try:
            issued = enrolment_link_issue(participant=found, actor=request.user)
        except REFUSALS as error:
            context["error"] = error.message
        else:
            url = request.build_absolute_uri(reverse("phone:enrol", args=[issued.token]))
            context.update(
                link=issued.link,
                url=url,
                qr_svg=segno.make(url, error="m").svg_inline(
                    scale=5, border=2, title="QR code of the enrolment link"
                ),
            )
    return render(request, "devices/link.html", context)


@require_http_methods(["GET", "POST"])
@study_role_required(*CARE_ROLES)
def device_revoke_page(
    request: StudyRequest, study: str, participant: str, device: int
) -> HttpResponse:
    """Revoke one of the participant's phones, with a reason."""
    found = participant_of_reader(request, participant)
    phone = Device.objects.filter(participant=found, pk=device).first()
    if phone is None:
        raise Http404("no such device of this participant")
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            device_revoke(device=phone, actor=request.user, reason=form.cleaned_data["reason"])
        except REFUSALS as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, f"The phone is revoked: it can no longer open {found.code}'s diary."
            )
            return redirect(_list_url(found))
    return render(
        request, "devices/revoke.html", {"participant": found, "device": phone, "form": form}
    )
