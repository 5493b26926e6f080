"""What the monitoring app stores: when each site's daily digest goes out, who gets it, and
the log of digests sent. Settings and an operational log, never trial data."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.timezone import now

from diarytrial.studies.models import Site, StudyMembership


class DigestSchedule(models.Model):
    """When `site`'s daily digest is sent: a clock time in the site's own time zone.

    A site without a schedule gets no digest; an administrator sets it on the digest page.
    """

    site = models.OneToOneField(Site, on_delete=models.PROTECT, related_name="digest_schedule")
    timezone = models.CharField(
        max_length=64, help_text="The site's IANA time zone, e.g. America/Los_Angeles."
    )
    send_at = models.TimeField(
        default=dt.time(7, 30), help_text="Local clock time at the site, e.g. 07:30."
    )
    updated_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"digest of {self.site} at {self.send_at:%H:%M} {self.timezone}"


class DigestSubscription(models.Model):
    """A staff member's own choice to get the daily digest of their sites, or not.

    Without a row, coordinators get it and investigators do not (they may opt in).
    """

    membership = models.OneToOneField(
        StudyMembership, on_delete=models.PROTECT, related_name="digest_subscription"
    )
    subscribed = models.BooleanField()
    updated_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"digest {'on' if self.subscribed else 'off'} for membership {self.membership_id}"


class DigestStatus(models.TextChoices):
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    NOTHING = "nothing", "Nothing to report"
    NO_RECIPIENTS = "no_recipients", "Nobody to send it to"
    FAILED = "failed", "Failed"


class DigestDelivery(models.Model):
    """One site's digest of one local date: made once, whichever worker comes first."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="digest_deliveries")
    local_date = models.DateField(help_text="The site's local date the digest is for.")
    status = models.CharField(max_length=16, choices=DigestStatus.choices)
    recipients = models.PositiveIntegerField(default=0)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-local_date", "site_id")
        constraints = (
            models.UniqueConstraint(
                fields=["site", "local_date"], name="monitoring_digest_one_per_site_and_day"
            ),
        )

    def __str__(self) -> str:
        return f"digest of {self.site_id} for {self.local_date}: {self.status}"
