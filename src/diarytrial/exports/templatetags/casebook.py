"""The casebook's sign-off on the participant's page: ``{% load casebook %}`` then
``{% casebook_signatures participant=p %}``. A template tag, so that the participant's page
(``staff``, beside this app) shows it without importing this app; the content a casebook
signature binds is composed here (``exports.signing``)."""

from __future__ import annotations

from typing import Any

from django import template

from diarytrial.exports.signing import casebook_signatures as checked_signatures
from diarytrial.participants.models import Participant
from diarytrial.participants.pages import CARE_ROLES
from diarytrial.studies.zones import staff_zone

register = template.Library()


@register.inclusion_tag("exports/_casebook_panel.html", takes_context=True)
def casebook_signatures(context: template.Context, *, participant: Participant) -> dict[str, Any]:
    """The panel's context: the casebook's signatures, and the link for the roles who care."""
    request = context.get("request")
    membership = getattr(request, "membership", None)
    return {
        "request": request,
        "participant": participant,
        "signatures": checked_signatures(participant),
        "link": membership is not None and membership.role in CARE_ROLES,
        "page_zone": staff_zone(site=participant.site),
    }
