"""A participant, their screening, consent, dose level and planned schedule.

Nothing here names an arm: every field of these models may be shown to blinded staff. The
allocated sequence lives in the randomization app, readable by unblinded roles only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from diarytrial.studies.models import ProtocolVersion, Site, Study, validate_timezone


class ParticipantStatus(models.TextChoices):
    """Where a participant is in the trial; the values are the trial dataset's statuses."""

    SCREENED = "screened", "Screened"
    ENROLLED = "enrolled", "Enrolled"
    RANDOMIZED = "randomized", "Randomized"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


ENROLLED_STATUSES: tuple[str, ...] = (
    ParticipantStatus.ENROLLED,
    ParticipantStatus.RANDOMIZED,
    ParticipantStatus.ACTIVE,
    ParticipantStatus.COMPLETED,
)
"""Statuses that a participant reaches only through enrolment (start date and dose level set)."""


class Participant(models.Model):
    """One person in one study, from screening on. Never deleted: withdrawal keeps the data."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="participants")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="participants")
    code = models.CharField(
        max_length=12, help_text="Random code such as P-7Q3M: reveals neither order nor count."
    )
    protocol_version = models.ForeignKey(
        ProtocolVersion,
        on_delete=models.PROTECT,
        related_name="participants",
        help_text="The protocol version the participant started on; amendments do not move it.",
    )
    timezone = models.CharField(
        max_length=64,
        validators=[validate_timezone],
        help_text="IANA time zone the participant's diary days are counted in.",
    )
    opioid_use = models.BooleanField(help_text="Uses opioids at screening (may set start dose).")
    age = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Years, at screening.")
    status = models.CharField(
        max_length=12, choices=ParticipantStatus.choices, default=ParticipantStatus.SCREENED
    )
    eligible = models.BooleanField(help_text="The screening answers make the person eligible.")
    ineligibility_reason = models.TextField(blank=True)
    start_date = models.DateField(
        null=True, blank=True, help_text="First baseline day (study day 1), a diary date."
    )
    start_dose_level = models.CharField(max_length=40, blank=True)
    dose_level = models.CharField(
        max_length=40, blank=True, help_text="Current blinded dose level (protocol level id)."
    )
    enrolled_at = models.DateTimeField(null=True, blank=True)
    randomized_at = models.DateTimeField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    emergency_unblinded_at = models.DateTimeField(
        null=True, blank=True, help_text="First emergency unblinding; the analysis flags it."
    )
    created_at = models.DateTimeField(default=now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ("study", "code")
        constraints = (
            models.UniqueConstraint(
                fields=["study", "code"], name="participants_participant_unique_code"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ParticipantStatus.values),
                name="participants_participant_status_known",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        status=ParticipantStatus.WITHDRAWN,
                        withdrawn_on__isnull=False,
                    )
                    & ~Q(withdrawal_reason="")
                )
                | (~Q(status=ParticipantStatus.WITHDRAWN) & Q(withdrawn_on__isnull=True)),
                name="participants_participant_withdrawal_dated_with_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=ENROLLED_STATUSES)
                | (Q(start_date__isnull=False) & ~Q(dose_level="") & Q(enrolled_at__isnull=False)),
                name="participants_participant_enrolled_has_start",
            ),
            models.CheckConstraint(
                condition=Q(eligible=True) | Q(status__in=["screened", "withdrawn"]),
                name="participants_participant_only_eligible_enrol",
            ),
        )

    def __str__(self) -> str:
        return self.code


class EligibilityAnswer(models.Model):
    """One screening answer to an eligibility question of the participant's protocol."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="eligibility_answers"
    )
    question_id = models.CharField(max_length=40, help_text="The protocol's eligibility id.")
    answer = models.BooleanField()
    eligible = models.BooleanField(help_text="This answer is the one the protocol requires.")

    class Meta:
        ordering = ("participant", "id")
        constraints = (
            models.UniqueConstraint(
                fields=["participant", "question_id"],
                name="participants_eligibilityanswer_one_per_question",
            ),
        )

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.question_id}"


class Consent(models.Model):
    """Informed consent on one version of the consent form; re-consent adds a row."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consents")
    form_version = models.CharField(max_length=50, help_text="The consent form's version.")
    consented_on = models.DateField()
    obtained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ("participant", "consented_on", "id")

    def __str__(self) -> str:
        return f"consent {self.form_version} of {self.participant_id}"


class DoseLevelChange(models.Model):
    """The blinded dose level from `effective_on` on; the first row is the start level."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="dose_level_changes"
    )
    effective_on = models.DateField(help_text="First diary date at this level.")
    level = models.CharField(max_length=40)
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("participant", "effective_on", "id")

    def __str__(self) -> str:
        return f"dose level {self.level} from {self.effective_on}"


class PhaseKind(models.TextChoices):
    BASELINE = "baseline", "Baseline"
    TREATMENT = "treatment", "Treatment"
    WASHOUT = "washout", "Washout"


class ParticipantPhase(models.Model):
    """One planned phase of a randomized participant, without its arm (blinded)."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="phases")
    index = models.PositiveSmallIntegerField(help_text="0, 1, ... in calendar order.")
    kind = models.CharField(max_length=10, choices=PhaseKind.choices)
    period = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="0 for baseline, 1.. for treatment, empty for washout."
    )
    block = models.PositiveSmallIntegerField(null=True, blank=True)
    start = models.DateField()
    end = models.DateField(help_text="Last diary date of the phase (inclusive).")

    class Meta:
        ordering = ("participant", "index")
        constraints = (
            models.UniqueConstraint(
                fields=["participant", "index"], name="participants_participantphase_unique_index"
            ),
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")),
                name="participants_participantphase_end_after_start",
            ),
        )
        indexes = (
            # The end of each participant's schedule (its last phase's end), read for
            # thousands of participants at once by the dashboard and the lock checklist: one
            # probe of this index each, with no table read.
            models.Index("participant", models.F("end").desc(), name="participant_phase_by_end"),
        )

    def __str__(self) -> str:
        return f"phase {self.index} ({self.kind}) of {self.participant_id}"
