"""What a participant chose about reminders, where to reach them, and what was sent.

The e-mail address is personal data kept for reminders only: it is not part of the trial
dataset, no export reads it, and the audit trail records that it was set or changed, never the
address itself. Nothing here names an arm.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from diarytrial.devices.models import Device
from diarytrial.participants.models import Participant


class ReminderSettings(models.Model):
    """A participant's choice of reminders; no row means no reminders (they are opt-in)."""

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="reminder_settings"
    )
    email = models.EmailField(
        blank=True, help_text="Where e-mail reminders go; used for nothing else."
    )
    email_enabled = models.BooleanField(default=False)
    push_enabled = models.BooleanField(
        default=False, help_text="Send Web Push reminders to the participant's subscribed phones."
    )
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name_plural = "reminder settings"

    def __str__(self) -> str:
        return f"reminder settings of {self.participant_id}"


class PushSubscription(models.Model):
    """A browser's Web Push subscription, made on one of the participant's devices."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="push_subscriptions"
    )
    device = models.ForeignKey(
        Device,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="push_subscriptions",
        help_text="The phone that subscribed; its revocation stops the pushes.",
    )
    endpoint = models.URLField(max_length=2048, unique=True)
    p256dh = models.CharField(max_length=200, help_text="The browser's public key (base64url).")
    auth = models.CharField(max_length=100, help_text="The browser's auth secret (base64url).")
    created_at = models.DateTimeField(default=now, editable=False)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("participant", "created_at", "id")

    def __str__(self) -> str:
        return f"push subscription {self.pk} of {self.participant_id}"


class CalendarFeed(models.Model):
    """The secret address of a participant's calendar feed; only its SHA-256 is kept."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("participant", "created_at", "id")
        constraints = (
            models.UniqueConstraint(
                fields=["participant"],
                condition=Q(revoked_at__isnull=True),
                name="reminders_calendarfeed_one_active",
            ),
        )

    def __str__(self) -> str:
        return f"calendar feed {self.pk} of {self.participant_id}"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    PUSH = "push", "Web Push"


class DeliveryStatus(models.TextChoices):
    """Where one reminder is: waiting for its time, being sent, or done one way or another."""

    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Not sent (no longer needed)"
    FAILED = "failed", "Could not be sent"


class ReminderDelivery(models.Model):
    """One reminder of one diary date on one channel: made once, sent at most once.

    The unique constraint is what keeps two schedulers or two workers from sending it twice:
    the scheduler that creates the row enqueues its task, and the worker that moves it from
    ``scheduled`` to ``sending`` sends it.
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="reminder_deliveries"
    )
    diary_date = models.DateField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.SCHEDULED
    )
    scheduled_for = models.DateTimeField(help_text="The window's opening plus the spread.")
    created_at = models.DateTimeField(default=now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True, help_text="Why skipped or failed.")

    class Meta:
        ordering = ("participant", "diary_date", "channel")
        verbose_name_plural = "reminder deliveries"
        constraints = (
            models.UniqueConstraint(
                fields=["participant", "diary_date", "channel"],
                name="reminders_reminderdelivery_once",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values),
                name="reminders_reminderdelivery_channel_known",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values),
                name="reminders_reminderdelivery_status_known",
            ),
        )

    def __str__(self) -> str:
        return f"{self.channel} reminder of {self.diary_date} to {self.participant_id}"
