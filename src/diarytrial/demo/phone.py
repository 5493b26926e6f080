"""The demo's phone try-out: a second, open study with one participant whose diary window is
open now, and a link that sets up the browser that opens it as that participant's phone.

The demo trial itself ends locked and unblinded, so nobody can fill a diary in it; this study
is where one tries the participant's side (enrolment, tonight's diary, offline sending) while
the demo serves the web app.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.utils import timezone

from diarytrial.devices.services import enrolment_link_issue
from diarytrial.participants.selectors import participant_today
from diarytrial.participants.services import participant_enrol, participant_screen
from diarytrial.protocol import ProtocolFile, zone_where_it_is
from diarytrial.studies.models import Role
from diarytrial.studies.services import membership_grant, site_create, study_create_from_protocol

TRYOUT_ID = "ldn_phone_tryout"


@dataclass(frozen=True)
class PhoneTryout:
    """The try-out participant and the secret of their enrolment link."""

    study_slug: str
    participant_code: str
    timezone: str
    token: str


def phone_tryout(*, protocol: ProtocolFile, staff: dict[Role, User]) -> PhoneTryout:
    """Create the try-out study and participant (enrolled today) and an enrolment link."""
    administrator, coordinator = staff[Role.ADMINISTRATOR], staff[Role.COORDINATOR]
    text = protocol.text.replace(f'id = "{protocol.protocol.study.id}"', f'id = "{TRYOUT_ID}"', 1)
    if text == protocol.text:
        raise ValueError('the demo protocol must name its study id as id = "..."')
    study = study_create_from_protocol(
        text=text, source="demo phone try-out", created_by=administrator
    )
    zone = zone_where_it_is(20, timezone.now())  # the window (18:00-03:00) is open
    # The site keeps the participant's zone, so its staff pages show the try-out's dates as the
    # participant lives them (consent "today" is the day of their screening).
    site = site_create(
        study=study,
        code="stanford",
        name="Stanford pain clinic",
        actor=administrator,
        timezone=zone,
    )
    # The set-up gives the new study its administrator, who then gives the others their roles.
    membership_grant(study=study, user=administrator, role=Role.ADMINISTRATOR, actor=None)
    for role, user in staff.items():
        if role != Role.ADMINISTRATOR:
            membership_grant(study=study, user=user, role=role, actor=administrator)
    participant = participant_screen(
        study=study,
        site=site,
        answers={q.id: q.eligible_answer for q in protocol.protocol.eligibility},
        timezone=zone,
        opioid_use=False,
        age=45,
        actor=coordinator,
    )
    today = participant_today(participant)
    participant_enrol(
        participant=participant,
        consent_form_version="1.0",
        consented_on=today,
        obtained_by=coordinator,
        start_date=today,
        actor=coordinator,
    )
    issued = enrolment_link_issue(participant=participant, actor=coordinator)
    return PhoneTryout(
        study_slug=study.slug, participant_code=participant.code, timezone=zone, token=issued.token
    )
