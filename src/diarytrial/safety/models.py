"""Adverse events recorded by staff. Blinded: nothing here names an arm or a kit's contents.

An event is never deleted: removing one (recorded in error, a duplicate) changes its status and
keeps the reason. Dose changes are the participants app's `DoseLevelChange` rows, written
through ``safety.services.dose_level_change``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.timezone import now

from diarytrial.diary.models import DiaryEntry
from diarytrial.participants.models import Participant


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class Relatedness(models.TextChoices):
    """How likely the study medication caused the event, as the investigator judges it."""

    NOT_RELATED = "not_related", "Not related"
    UNLIKELY = "unlikely", "Unlikely"
    POSSIBLE = "possible", "Possible"
    PROBABLE = "probable", "Probable"
    DEFINITE = "definite", "Definite"


class ActionTaken(models.TextChoices):
    """What was done with the study medication because of the event."""

    NONE = "none", "None"
    DOSE_REDUCED = "dose_reduced", "Dose reduced"
    INTERRUPTED = "interrupted", "Interrupted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Outcome(models.TextChoices):
    RECOVERED = "recovered", "Recovered"
    RECOVERING = "recovering", "Recovering"
    NOT_RECOVERED = "not_recovered", "Not recovered"
    UNKNOWN = "unknown", "Unknown"


class EventStatus(models.TextChoices):
    RECORDED = "recorded", "Recorded"
    REMOVED = "removed", "Removed"


class AdverseEvent(models.Model):
    """One adverse event of one participant, as staff confirmed it."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="adverse_events"
    )
    term = models.CharField(max_length=200, help_text="The reported term, e.g. Headache.")
    side_effect = models.CharField(
        max_length=40, blank=True, help_text="The protocol's checklist id, when it is one."
    )
    onset_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty while ongoing.")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    serious = models.BooleanField(help_text="A serious adverse event (SAE).")
    related = models.CharField(max_length=12, choices=Relatedness.choices)
    action = models.CharField(max_length=12, choices=ActionTaken.choices)
    outcome = models.CharField(max_length=14, choices=Outcome.choices)
    status = models.CharField(
        max_length=10, choices=EventStatus.choices, default=EventStatus.RECORDED
    )
    removal_reason = models.TextField(blank=True)
    from_diary_entry = models.ForeignKey(
        DiaryEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adverse_events",
        help_text="The diary entry whose side-effect report this event confirms.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ("participant", "onset_date", "id")
        constraints = (
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="safety_ae_severity_known"
            ),
            models.CheckConstraint(
                condition=Q(related__in=Relatedness.values), name="safety_ae_related_known"
            ),
            models.CheckConstraint(
                condition=Q(action__in=ActionTaken.values), name="safety_ae_action_known"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="safety_ae_outcome_known"
            ),
            models.CheckConstraint(
                condition=Q(status=EventStatus.RECORDED, removal_reason="")
                | (Q(status=EventStatus.REMOVED) & ~Q(removal_reason="")),
                name="safety_ae_removed_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("onset_date")),
                name="safety_ae_ends_after_onset",
            ),
            models.UniqueConstraint(
                fields=["from_diary_entry", "side_effect"],
                condition=Q(from_diary_entry__isnull=False, status=EventStatus.RECORDED),
                name="safety_ae_one_per_diary_report",
            ),
        )

    def __str__(self) -> str:
        return f"AE {self.pk}: {self.term}"
