"""Reads of the devices app (staff pages)."""

from __future__ import annotations

from django.utils import timezone

from diarytrial.devices.models import Device, EnrolmentLink
from diarytrial.devices.tokens import token_hash
from diarytrial.participants.models import Participant, ParticipantStatus

ENROLLABLE = (ParticipantStatus.ENROLLED, ParticipantStatus.RANDOMIZED, ParticipantStatus.ACTIVE)
"""The statuses in which a phone may be set up for the diary."""


def device_list(*, participant: Participant) -> list[Device]:
    """The participant's phones, newest first, revoked ones included."""
    return list(Device.objects.filter(participant=participant).order_by("-created_at", "-id"))


def enrolment_link_open(*, participant: Participant) -> EnrolmentLink | None:
    """The participant's link that still works (unused, not replaced, not expired), if any."""
    return (
        EnrolmentLink.objects.filter(
            participant=participant,
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


def enrolment_link_usable(*, token: str) -> bool:
    """Whether the enrolment link `token` would bind a phone now (the redeem service decides;
    this only spares the participant a button that cannot work)."""
    if not 20 <= len(token) <= 100:
        return False
    return EnrolmentLink.objects.filter(
        token_hash=token_hash(token),
        used_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
        participant__status__in=ENROLLABLE,
    ).exists()


def enrolment_link_study_locked(*, token: str) -> bool:
    """Whether `token` is a link of a study whose database is locked (it can bind no phone)."""
    if not 20 <= len(token) <= 100:
        return False
    return EnrolmentLink.objects.filter(
        token_hash=token_hash(token), participant__study__locked_at__isnull=False
    ).exists()
