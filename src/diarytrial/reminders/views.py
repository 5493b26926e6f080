"""The calendar feed's view: no cookie, the secret in the address decides."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from diarytrial.reminders.feed import calendar_ics
from diarytrial.reminders.selectors import calendar_feed_participant


@require_GET
def calendar(request: HttpRequest, token: str) -> HttpResponse:
    """The participant's diary calendar (text/calendar); 404 for a wrong or revoked address."""
    participant = calendar_feed_participant(token=token)
    if participant is None:
        raise Http404("There is no calendar at this address; make a new link in the diary.")
    response = HttpResponse(calendar_ics(participant), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="diary.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
