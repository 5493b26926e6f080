"""Adverse events recorded by staff. Blinded: nothing here names an arm or a kit's contents.

An event is never deleted: removing one (recorded in error, a duplicate) changes its status and
keeps the reason. A side effect reported in the diary becomes an event when the coordinator
confirms it; `SideEffectReview` keeps that decision, or the dismissal. Dose changes are the
participants app's `DoseLevelChange` rows, written through ``safety.services.dose_level_change``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.timezone import now

from diarytrial.diary.models import DiaryEntry, Unpleasantness
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


class ReviewDecision(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed as an adverse event"
    DISMISSED = "dismissed", "Dismissed"


class SideEffectReview(models.Model):
    """The coordinator's decision on one diary side effect of one participant (one episode).

    The episode is the participant's reports of `side_effect` from `first_reported` to
    `last_reported` as they stood when it was decided (`reports`: date and unpleasantness of
    each). Confirmed, it names the adverse event recorded from it; dismissed, it says why. A
    decision is final: removing the event later does not bring the reports back.
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="side_effect_reviews"
    )
    side_effect = models.CharField(max_length=40, help_text="The protocol's checklist id.")
    first_reported = models.DateField(help_text="Diary date of the episode's first report.")
    last_reported = models.DateField(help_text="Diary date of its last report when decided.")
    worst = models.CharField(
        max_length=10,
        choices=Unpleasantness.choices,
        help_text="The most unpleasant report of the episode when decided.",
    )
    reports = models.JSONField(
        default=list, help_text="[{diary_date, unpleasantness}] of the reports decided on."
    )
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices)
    adverse_event = models.OneToOneField(
        AdverseEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="side_effect_review",
    )
    reason = models.TextField(
        blank=True, help_text="Why it was dismissed; notes on a confirmation."
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ("participant", "side_effect", "first_reported")
        constraints = (
            models.UniqueConstraint(
                fields=["participant", "side_effect", "first_reported"],
                name="safety_review_one_per_episode",
            ),
            models.CheckConstraint(
                condition=Q(decision__in=ReviewDecision.values), name="safety_review_decision_known"
            ),
            models.CheckConstraint(
                condition=Q(worst__in=Unpleasantness.values), name="safety_review_worst_known"
            ),
            models.CheckConstraint(
                condition=Q(decision=ReviewDecision.CONFIRMED, adverse_event__isnull=False)
                | (
                    Q(decision=ReviewDecision.DISMISSED, adverse_event__isnull=True) & ~Q(reason="")
                ),
                name="safety_review_confirmed_with_event_dismissed_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(last_reported__gte=F("first_reported")),
                name="safety_review_last_after_first",
            ),
        )

    def __str__(self) -> str:
        return f"review of {self.side_effect} from {self.first_reported} ({self.decision})"
