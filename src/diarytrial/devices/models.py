"""A participant's phone and the link that bound it.

Neither table keeps a usable secret: the enrolment link's token and the device's token exist
in clear only in the link the coordinator hands over and in the phone's cookie; the database
keeps their SHA-256, so a copy of the database opens no diary. Nothing is deleted: a lost phone
is revoked, and the audit trail says who did it and why.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.timezone import now

from diarytrial.participants.models import Participant


class Device(models.Model):
    """One phone (browser) bound to one participant until it is revoked."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="devices")
    token_hash = models.CharField(
        max_length=64, unique=True, help_text="SHA-256 of the token in the phone's cookie."
    )
    label = models.CharField(
        max_length=200, blank=True, help_text="What the browser said it was, when enrolled."
    )
    created_at = models.DateTimeField(default=now, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    pin_hash = models.CharField(
        max_length=128, blank=True, help_text="The optional 4-digit PIN, hashed; empty: none."
    )
    pin_failures = models.PositiveSmallIntegerField(
        default=0, help_text="Wrong PINs since the last right one; the 5th revokes the device."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("participant", "created_at", "id")

    def __str__(self) -> str:
        return f"device {self.pk} of {self.participant_id}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def has_pin(self) -> bool:
        return bool(self.pin_hash)


class EnrolmentLink(models.Model):
    """A single-use, expiring link that binds the phone which opens it to the participant."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="enrolment_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    device = models.OneToOneField(
        Device,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrolment_link",
        help_text="The device the link bound, once used.",
    )
    revoked_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when a newer link replaced this unused one."
    )

    class Meta:
        ordering = ("participant", "created_at", "id")

    def __str__(self) -> str:
        return f"enrolment link {self.pk} of {self.participant_id}"
