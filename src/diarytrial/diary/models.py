"""A participant's nightly diary: one entry per diary date, its answers and side effects, each
upload that produced it, and the end-of-period questions (PGIC, blinding guess), answered at
the visits of the blinded visit calendar (``protocol.visits``), the same for every sequence.

Nothing here names an arm. Entries are written by ``diary.services`` only and never deleted; a
correction changes the answers and the audit trail keeps the old values.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from diarytrial.participants.models import Participant
from diarytrial.studies.models import Site


class EntryStatus(models.TextChoices):
    """Whether the answers are the participant's own, or were corrected by staff."""

    SUBMITTED = "submitted", "Submitted"
    CORRECTED = "corrected", "Corrected by staff"


class Unpleasantness(models.TextChoices):
    """How unpleasant a ticked side effect was; the trial dataset's values."""

    NOT_AT_ALL = "not_at_all", "Not at all unpleasant"
    SOMEWHAT = "somewhat", "Somewhat unpleasant"
    VERY = "very", "Very unpleasant"


class SubmissionKind(models.TextChoices):
    """What an upload did to its entry."""

    CREATED = "created", "Created the entry"
    CORRECTED = "corrected", "Replaced the answers (the participant's own correction)"


class GuessChoice(models.TextChoices):
    """A participant's guess of what they took since the visit before."""

    DRUG = "drug", "The study drug"
    PLACEBO = "placebo", "Placebo"
    DONT_KNOW = "dont_know", "Don't know"


class DiaryEntry(models.Model):
    """The diary of one participant for one diary date (the local date its window opened)."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="diary_entries"
    )
    diary_date = models.DateField(help_text="The local date on which the entry's window opened.")
    client_id = models.UUIDField(
        unique=True, help_text="The id the device gave the upload that created the entry."
    )
    timezone = models.CharField(
        max_length=64, help_text="The participant's IANA time zone the window was computed in."
    )
    received_at = models.DateTimeField(
        help_text="Server time (UTC) the answers in effect were received; the server decides."
    )
    completed_at_device = models.DateTimeField(
        null=True, blank=True, help_text="When the device says it was completed (its own clock)."
    )
    device_utc_offset = models.SmallIntegerField(
        null=True,
        blank=True,
        help_text="Minutes east of UTC the device wrote with its time: its own time zone.",
    )
    device_clock_difference = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Seconds from the server's receipt to the device's time (negative: before).",
    )
    device_time_differs = models.BooleanField(
        default=False,
        help_text="The device's time cannot be right (after the receipt, or before the window "
        "opened) or its time zone is not the participant's; the entry is kept all the same.",
    )
    late = models.BooleanField(
        default=False,
        help_text="Completed inside its window but received after it closed (offline sync).",
    )
    capsule_taken = models.BooleanField(
        null=True, blank=True, help_text="The participant says they took the study capsule."
    )
    status = models.CharField(
        max_length=10, choices=EntryStatus.choices, default=EntryStatus.SUBMITTED
    )
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ("participant", "diary_date")
        verbose_name_plural = "diary entries"
        constraints = (
            models.UniqueConstraint(
                fields=["participant", "diary_date"], name="diary_diaryentry_one_per_date"
            ),
            models.CheckConstraint(
                condition=Q(status__in=EntryStatus.values), name="diary_diaryentry_status_known"
            ),
        )
        indexes = (
            # The study dashboard counts a few weeks of every participant's entries by date
            # (monitoring.selectors); the unique (participant, date) index serves one at a time.
            models.Index(fields=["diary_date", "participant", "late"], name="diary_entry_by_date"),
        )

    def __str__(self) -> str:
        return f"diary {self.diary_date} of {self.participant_id}"


class DiaryAnswer(models.Model):
    """The answer to one diary item, on the item's scale."""

    entry = models.ForeignKey(DiaryEntry, on_delete=models.PROTECT, related_name="answers")
    item = models.CharField(max_length=40, help_text="The protocol's diary item id.")
    value = models.FloatField()

    class Meta:
        ordering = ("entry", "item")
        constraints = (
            models.UniqueConstraint(
                fields=["entry", "item"], name="diary_diaryanswer_one_per_item"
            ),
        )

    def __str__(self) -> str:
        return f"{self.item}={self.value:g} ({self.entry_id})"


class SideEffectReport(models.Model):
    """A side effect ticked in the entry's checklist, with how unpleasant it was."""

    entry = models.ForeignKey(DiaryEntry, on_delete=models.PROTECT, related_name="side_effects")
    side_effect = models.CharField(max_length=40, help_text="The protocol's side-effect id.")
    unpleasantness = models.CharField(max_length=10, choices=Unpleasantness.choices)

    class Meta:
        ordering = ("entry", "side_effect")
        constraints = (
            models.UniqueConstraint(
                fields=["entry", "side_effect"], name="diary_sideeffectreport_one_per_effect"
            ),
            models.CheckConstraint(
                condition=Q(unpleasantness__in=Unpleasantness.values),
                name="diary_sideeffectreport_unpleasantness_known",
            ),
        )

    def __str__(self) -> str:
        return f"{self.side_effect} ({self.unpleasantness}) in {self.entry_id}"


class DiarySubmission(models.Model):
    """One upload from the participant's device, kept so that a repeated upload is recognised.

    The first upload creates the entry; a later one for the same date inside its window
    replaces the answers. Its `content` is the upload as received (normalized).
    """

    entry = models.ForeignKey(DiaryEntry, on_delete=models.PROTECT, related_name="submissions")
    client_id = models.UUIDField(unique=True)
    kind = models.CharField(max_length=10, choices=SubmissionKind.choices)
    received_at = models.DateTimeField()
    completed_at_device = models.DateTimeField(null=True, blank=True)
    late = models.BooleanField(default=False)
    content = models.JSONField(help_text="answers, side_effects and capsule_taken as uploaded.")

    class Meta:
        ordering = ("entry", "received_at", "id")

    def __str__(self) -> str:
        return f"upload {self.client_id}"


class DiaryWeekTally(models.Model):
    """How many entries one participant has in one calendar week (Monday to Sunday), how many
    of them late, and the latest.

    Kept by the service that records a new entry, in the same transaction (an entry is never
    deleted, and a correction replaces its answers, not the entry): the study dashboard sums
    these rows, one per participant and week, for its compliance by week and the whole weeks
    of its 28 nights, instead of counting every entry. Each participant writes only their own
    rows, so recording entries of different participants at once never waits on a shared
    counter.

    `nights` and `late_nights` say which days of the week have an entry (bit 0 Monday to bit 6
    Sunday), so the nights of a week that only partly falls among the dashboard's nights are
    counted from the tally too. The participant's site (which never changes) is kept beside
    them, so that the sums of a site's tallies read this table alone.
    """

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    week = models.DateField(help_text="The Monday of the week (of diary dates).")
    entries = models.PositiveIntegerField(help_text="Entries with a diary date in the week.")
    late = models.PositiveIntegerField(help_text="Of those, the late ones.")
    last_entry = models.DateField(help_text="The latest diary date among them.")
    nights = models.PositiveSmallIntegerField(
        default=0, help_text="The days with an entry: bit 0 Monday ... bit 6 Sunday."
    )
    late_nights = models.PositiveSmallIntegerField(
        default=0, help_text="The days with a late entry, likewise."
    )

    class Meta:
        ordering = ("participant", "week")
        constraints = (
            models.UniqueConstraint(
                fields=["participant", "week"], name="diary_week_tally_one_per_week"
            ),
        )
        indexes = (
            # The dashboard sums a few weeks of every participant's tallies (PostgreSQL reads
            # the sums from the index alone).
            models.Index(
                fields=["week", "site"],
                include=["participant", "entries", "late", "last_entry", "nights", "late_nights"],
                name="diary_week_tally_by_site",
            ),
        )

    def __str__(self) -> str:
        return f"{self.entries} entries in the week of {self.week} of {self.participant_id}"


class PgicAnswer(models.Model):
    """The Patient Global Impression of Change given at one visit.

    The visit, not the treatment period: visits fall on the same days for every sequence, the
    end of a period does not. Which period (if any) a visit closes follows from the sequence.
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="pgic_answers"
    )
    visit = models.PositiveSmallIntegerField(
        help_text="The visit of the visit calendar the answer closes (2, 3, ...: not the first)."
    )
    score = models.PositiveSmallIntegerField(
        help_text="1 very much improved ... 4 no change ... 7 very much worse (PGIC_LABELS)."
    )
    answered_on = models.DateField(help_text="Diary date of the answer.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the participant answered on their device.",
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ("participant", "visit")
        constraints = (
            models.UniqueConstraint(
                fields=["participant", "visit"], name="diary_pgicanswer_one_per_visit"
            ),
            models.CheckConstraint(condition=Q(visit__gte=2), name="diary_pgicanswer_visit_2_on"),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=7), name="diary_pgicanswer_score_1_to_7"
            ),
        )

    def __str__(self) -> str:
        return f"PGIC visit {self.visit} of {self.participant_id}"


class BlindingGuess(models.Model):
    """What the participant believes they took since the visit before `visit`."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="blinding_guesses"
    )
    visit = models.PositiveSmallIntegerField(
        help_text="The visit of the visit calendar the answer closes (2, 3, ...: not the first)."
    )
    guess = models.CharField(max_length=10, choices=GuessChoice.choices)
    answered_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ("participant", "visit")
        constraints = (
            models.UniqueConstraint(
                fields=["participant", "visit"], name="diary_blindingguess_one_per_visit"
            ),
            models.CheckConstraint(
                condition=Q(visit__gte=2), name="diary_blindingguess_visit_2_on"
            ),
            models.CheckConstraint(
                condition=Q(guess__in=GuessChoice.values), name="diary_blindingguess_guess_known"
            ),
        )

    def __str__(self) -> str:
        return f"blinding guess visit {self.visit} of {self.participant_id}"
