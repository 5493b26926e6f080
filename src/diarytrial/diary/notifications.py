"""E-mails the diary sends to staff. Sent once the transaction commits, never before; a failure
to send is logged and does not undo what was recorded. No message names an arm.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.mail import send_mail
from django.db.models import Q

from diarytrial.participants.models import Participant
from diarytrial.studies.access import memberships_current
from diarytrial.studies.models import Role, StudyMembership

logger = logging.getLogger(__name__)


def site_coordinator_emails(participant: Participant) -> list[str]:
    """The addresses of the coordinators with a current role who cover `participant`'s site.

    A coordinator covers the sites their membership lists, or every site when it lists none.
    """
    memberships = (
        StudyMembership.objects.filter(
            study_id=participant.study_id,
            role=Role.COORDINATOR,
            active=True,
            user__is_active=True,
        )
        .filter(Q(sites=participant.site_id) | Q(sites__isnull=True))
        .exclude(user__email="")
        .select_related("user")
        .distinct()
    )
    return sorted({m.user.email for m in memberships_current(memberships)})


def very_unpleasant_notify(
    *,
    study_slug: str,
    participant_code: str,
    site_code: str,
    diary_date: str,
    side_effects: Sequence[str],
    recipients: list[str],
) -> None:
    """Tell the site's coordinators that a participant rated side effects "very unpleasant"."""
    if not recipients:
        return
    listed = ", ".join(side_effects)
    try:
        send_mail(
            subject=(
                f"[diarytrial] {participant_code} ({study_slug}): very unpleasant side effect"
            ),
            message=(
                f"Participant {participant_code} at site {site_code} of study {study_slug} "
                f"reported in the diary of {diary_date} as very unpleasant: {listed}.\n\n"
                f"Please contact the participant and consider whether a blinded dose change "
                f"is needed, and whether this is an adverse event to record. Nothing was "
                f"changed automatically: the participant's dose level stays as it is until a "
                f"coordinator changes it."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:
        # The entry is committed; a mail failure must not make the participant's phone retry.
        logger.exception(
            "could not e-mail the coordinators about a very unpleasant side effect of %s in %s",
            participant_code,
            study_slug,
        )
