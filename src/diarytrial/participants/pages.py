"""What every staff page of a participant shares, whichever app it belongs to.

The pages of a participant (their page in ``staff/participants``, and the diary, safety and
phone pages of the other apps) find the participant among the reader's sites, show a
service's refusal on the form and return to the participant's page; the roles that care for
participants and that may unblind one are named here once.
"""

from __future__ import annotations

from django.urls import reverse

from diarytrial.core.errors import ConflictError, InvalidInputError
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_get
from diarytrial.studies.access import StudyRequest, sites_visible_to
from diarytrial.studies.errors import StudyLockedError
from diarytrial.studies.models import Role
from diarytrial.studies.page_zone import page_site_set

CARE_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR)
"""Who screens, enrols, randomizes, withdraws and records completion."""
UNBLINDING_ROLES = (Role.INVESTIGATOR, Role.PHARMACIST)
"""Who may unblind one participant in an emergency."""

REFUSALS = (InvalidInputError, ConflictError, StudyLockedError)
"""Refusals of a service that the person can act on: shown on the form."""


def participant_of_reader(request: StudyRequest, code: str) -> Participant:
    """The participant `code` at one of the reader's sites; else ParticipantNotFoundError (404).

    Every staff page of a participant finds them through this (the other apps' too), so the
    page shows its times in the participant's site's zone (`page_site_set`)."""
    participant = participant_get(
        study=request.study, code=code, sites=sites_visible_to(request.user, request.study)
    )
    page_site_set(request, participant.site)
    return participant


def detail_url(participant: Participant) -> str:
    """The participant's page, where every form of a participant returns."""
    return reverse(
        "participants:detail",
        kwargs={"study": participant.study.slug, "participant": participant.code},
    )
