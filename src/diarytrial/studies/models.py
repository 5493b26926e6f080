"""A study and the versions of its protocol; a version, once recorded, never changes."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


def validate_timezone(value: str) -> None:
    """Refuse a name that is not an IANA time zone, e.g. ``Europe/London``."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{value!r} is not an IANA time zone; write it as Region/City, e.g. "
            f"America/Los_Angeles or Europe/London",
            code="invalid_timezone",
        ) from None


class Study(models.Model):
    """One trial, identified by its protocol's ``study.id``."""

    slug = models.SlugField(
        max_length=40, unique=True, help_text="The protocol's study.id, e.g. ldn_fibromyalgia."
    )
    title = models.CharField(max_length=500, help_text="The current protocol's study.title.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Both are set by their own audited services (unblinding, database lock), never by hand.
    unblinded_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the study was unblinded; from then on the statistician sees allocation.",
    )
    locked_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the study database was locked for analysis.",
    )
    lock_override_reason = models.TextField(
        blank=True,
        editable=False,
        help_text="Why the database was locked although items of the lock checklist were "
        "still open; empty for a lock with nothing open (and while unlocked).",
    )

    class Meta:
        ordering = ("slug",)
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.slug


class ProtocolVersion(models.Model):
    """The exact text of one version of a study's protocol file; the highest number is current."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="protocol_versions")
    number = models.PositiveIntegerField(help_text="1 for the original protocol, then 2, 3, ...")
    text = models.TextField(help_text="The protocol file exactly as it was read (TOML).")
    sha256 = models.CharField(max_length=64, help_text="Hex SHA-256 of the text as UTF-8.")
    source = models.CharField(max_length=255, help_text="The file name it was read from.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # PROTECT: a trial record keeps who made it, so such a user is deactivated, never deleted.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when recorded from the command line.",
    )

    class Meta:
        ordering = ("study", "number")
        constraints = (
            models.UniqueConstraint(
                fields=["study", "number"], name="studies_protocolversion_unique_number"
            ),
            models.UniqueConstraint(
                fields=["study", "sha256"], name="studies_protocolversion_unique_sha256"
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="studies_protocolversion_number_gte_1"
            ),
        )

    def __str__(self) -> str:
        return f"{self.study.slug} protocol v{self.number}"


class Role(models.TextChoices):
    """Staff roles. Participants are not staff: they use the diary with their own device."""

    COORDINATOR = "coordinator", "Coordinator"
    INVESTIGATOR = "investigator", "Investigator"
    PHARMACIST = "pharmacist", "Pharmacist"
    STATISTICIAN = "statistician", "Statistician"
    ADMINISTRATOR = "administrator", "Administrator"


class Site(models.Model):
    """A place where participants are enrolled; coordinators work at one or more sites."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="sites")
    code = models.SlugField(max_length=40, help_text="Short code, e.g. stanford.")
    name = models.CharField(max_length=200)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="The site's IANA time zone: staff pages show dates and times in it.",
    )

    class Meta:
        ordering = ("study", "code")
        constraints = (
            models.UniqueConstraint(fields=["study", "code"], name="studies_site_unique_code"),
        )

    def __str__(self) -> str:
        return f"{self.study.slug}/{self.code}"


class StudyMembership(models.Model):
    """A staff user's role in a study, and the sites it covers (all sites when none listed)."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="study_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    sites = models.ManyToManyField(Site, blank=True, related_name="memberships")
    active = models.BooleanField(default=True)
    ends_on = models.DateField(
        null=True, blank=True, help_text="The last day the role is held; empty: no end date."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("study", "user_id")
        constraints = (
            models.UniqueConstraint(
                fields=["study", "user"], name="studies_membership_one_role_per_study"
            ),
        )

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} in {self.study.slug}"
