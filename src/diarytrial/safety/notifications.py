"""E-mails about adverse events. Sent once the transaction commits; a failure to send is logged
and does not undo what was recorded. No message names an arm, a kit or a dose level.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail

from diarytrial.studies.access import memberships_current
from diarytrial.studies.models import Role, Study, StudyMembership

logger = logging.getLogger(__name__)


def investigator_emails(study: Study) -> list[str]:
    """The addresses of the study's investigators whose role is current (not past its end)."""
    memberships = (
        StudyMembership.objects.filter(
            study=study, role=Role.INVESTIGATOR, active=True, user__is_active=True
        )
        .exclude(user__email="")
        .select_related("user")
    )
    return sorted({m.user.email for m in memberships_current(memberships)})


def serious_event_notify(
    *,
    study_slug: str,
    participant_code: str,
    site_code: str,
    term: str,
    onset_date: str,
    severity: str,
    outcome: str,
    recorded_by: str,
    recipients: list[str],
) -> None:
    """Tell the study's investigators that a serious adverse event was recorded."""
    if not recipients:
        return
    try:
        send_mail(
            subject=f"[diarytrial] Serious adverse event in {study_slug}: {participant_code}",
            message=(
                f"A serious adverse event was recorded for participant {participant_code} at "
                f"site {site_code} of study {study_slug} by {recorded_by}.\n\n"
                f"Event: {term}\nOnset: {onset_date}\nSeverity: {severity}\n"
                f"Outcome: {outcome}\n\n"
                f"Please review it in diarytrial and report it as the protocol and the "
                f"regulations require. This message says nothing about the participant's "
                f"treatment: if the allocation is needed for the participant's care, use "
                f"emergency unblinding."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:
        logger.exception(
            "could not e-mail the investigators about a serious adverse event of %s in %s",
            participant_code,
            study_slug,
        )
