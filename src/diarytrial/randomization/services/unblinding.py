"""Emergency unblinding of one participant: recorded, and the investigators notified."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from diarytrial.core.moments import moment_text
from diarytrial.participants.errors import ReasonRequiredError
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_protocol
from diarytrial.participants.services import (
    participant_lock,
    participant_mark_emergency_unblinded,
)
from diarytrial.randomization.errors import (
    NotRandomizedError,
)
from diarytrial.randomization.models import (
    AllocationSlot,
)
from diarytrial.studies.access import memberships_current, require_role
from diarytrial.studies.models import Role, Study, StudyMembership
from diarytrial.studies.services import require_unlocked

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmergencyUnblinding:
    """What an emergency unblinding reveals, to the person who asked for it only."""

    participant_code: str
    sequence_code: str
    arms: tuple[str, ...]
    arm_names: tuple[str, ...]
    unblinded_at: dt.datetime


def _investigator_emails(study: Study) -> list[str]:
    memberships = (
        StudyMembership.objects.filter(
            study=study, role=Role.INVESTIGATOR, active=True, user__is_active=True
        )
        .exclude(user__email="")
        .select_related("user")
    )
    return sorted({m.user.email for m in memberships_current(memberships)})


def _notify_investigators(
    *,
    study_slug: str,
    participant_code: str,
    actor: str,
    at: dt.datetime,
    zone: str,
    reason: str,
    recipients: list[str],
) -> None:
    if not recipients:
        return
    try:
        send_mail(
            subject=f"[diarytrial] Emergency unblinding in {study_slug}: {participant_code}",
            message=(
                f"Participant {participant_code} of study {study_slug} was unblinded in an "
                f"emergency by {actor} at {moment_text(at, zone)} (the site's time).\n\n"
                f"Reason: {reason}\n\n"
                f"The allocation is not in this message: it was shown to {actor} only. The "
                f"participant is flagged as unblinded for the analysis, and the unblinding is "
                f"in the audit trail."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:
        # The unblinding is committed and its result shown; a mail failure must not hide it.
        logger.exception(
            "could not e-mail the investigators about the emergency unblinding of %s in %s",
            participant_code,
            study_slug,
        )


@transaction.atomic
def participant_unblind_emergency(
    *, participant: Participant, reason: str, actor: User
) -> EmergencyUnblinding:
    """Reveal `participant`'s sequence at once, in an emergency, to an investigator or the
    pharmacist of the study (PermissionDeniedError for anyone else); a reason is required.

    Recorded as an UNBLIND audit event (without the sequence), the participant flagged
    (``emergency_unblinded_at``) for the analysis, and the study's investigators e-mailed once
    the transaction commits.
    """
    require_unlocked(participant.study)
    text = reason.strip()
    if not text:
        raise ReasonRequiredError(
            f"Say why participant {participant.code} must be unblinded: the reason is kept in "
            f"the audit trail and sent to the investigators."
        )
    require_role(actor, participant.study, Role.INVESTIGATOR, Role.PHARMACIST)
    locked = participant_lock(participant)
    slot = (
        AllocationSlot.objects.filter(randomization__participant=locked)
        .values_list("sequence_code", flat=True)
        .first()
    )
    if slot is None:
        raise NotRandomizedError(
            f"Participant {locked.code} is not randomized: there is no allocation to reveal; "
            f"they take no study medication yet.",
            extra={"participant": locked.code},
        )
    protocol = participant_protocol(locked)
    arms = protocol.sequence_from_code(slot)
    participant_mark_emergency_unblinded(participant=locked, reason=text, actor=actor)
    at = timezone.now()
    recipients = _investigator_emails(locked.study)
    study_slug, code, actor_name = locked.study.slug, locked.code, actor.get_username()
    site_zone = locked.site.timezone
    transaction.on_commit(
        lambda: _notify_investigators(
            study_slug=study_slug,
            participant_code=code,
            actor=actor_name,
            at=at,
            zone=site_zone,
            reason=text,
            recipients=recipients,
        )
    )
    if participant is not locked:
        participant.emergency_unblinded_at = locked.emergency_unblinded_at
    return EmergencyUnblinding(
        participant_code=code,
        sequence_code=slot,
        arms=arms,
        arm_names=tuple(protocol.arm(arm).name for arm in arms),
        unblinded_at=at,
    )
