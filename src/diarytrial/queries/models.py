"""A data query (a discrepancy note): a question a staff member asks about one record of a
participant, and its thread of messages.

The record is named by explicit nullable foreign keys, one per kind of record, and a check
constraint that exactly the one matching `kind` is set (a participant query names a field of
the participant instead). Explicit keys rather than a generic relation: the database keeps
each reference valid (PROTECT), a record's open queries are one indexed filter, and the
constraint makes a query about two records, or about none, impossible to store.

A query on an end-of-period answer names the visit of the blinded visit calendar the answer
closes (the answer's own ``visit``), never a period.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from diarytrial.audit.models import AuditEvent
from diarytrial.diary.models import BlindingGuess, DiaryEntry, PgicAnswer
from diarytrial.participants.models import Participant
from diarytrial.safety.models import AdverseEvent
from diarytrial.studies.models import Study

TEXT_MAX_LENGTH = 4000
"""The longest message of a thread, in characters."""


class QueryKind(models.TextChoices):
    """What the query is about; each kind but ``participant`` has its own foreign key."""

    DIARY_ENTRY = "diary_entry", "Diary entry"
    ADVERSE_EVENT = "adverse_event", "Adverse event"
    PGIC_ANSWER = "pgic_answer", "PGIC answer"
    BLINDING_GUESS = "blinding_guess", "Blinding question answer"
    PARTICIPANT = "participant", "Participant record"


class ParticipantField(models.TextChoices):
    """The parts of a participant's record a query may name."""

    TIMEZONE = "timezone", "Time zone"
    START_DATE = "start_date", "Start date"
    CONSENT = "consent", "Consent"
    ELIGIBILITY = "eligibility", "Screening answers"
    AGE = "age", "Age"
    OPIOID_USE = "opioid_use", "Opioid use"
    DOSE_LEVEL = "dose_level", "Dose level"
    STATUS = "status", "Status (completion or withdrawal)"


class QueryStatus(models.TextChoices):
    """Open: waits for the site. Answered: waits for the raiser. Closed: resolved."""

    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


NOT_CLOSED = (QueryStatus.OPEN, QueryStatus.ANSWERED)
"""The statuses that keep a study from being ready to lock."""

# The foreign key each kind sets; the others stay empty.
TARGET_FIELDS: dict[str, str] = {
    QueryKind.DIARY_ENTRY: "diary_entry",
    QueryKind.ADVERSE_EVENT: "adverse_event",
    QueryKind.PGIC_ANSWER: "pgic_answer",
    QueryKind.BLINDING_GUESS: "blinding_guess",
}


def _exactly_one_target() -> Q:
    """Each kind sets its own key (or, for a participant, names a field) and nothing else."""
    condition = Q()
    for kind in QueryKind:
        own = TARGET_FIELDS.get(kind)
        matches = Q(kind=kind)
        for name in TARGET_FIELDS.values():
            matches &= Q(**{f"{name}__isnull": name != own})
        if own is None:
            matches &= Q(participant_field__in=ParticipantField.values)
        else:
            matches &= Q(participant_field="")
        condition |= matches
    return condition


class DataQuery(models.Model):
    """A question about one record of a participant; its messages form the thread."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="data_queries")
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="data_queries"
    )
    kind = models.CharField(max_length=20, choices=QueryKind.choices)
    diary_entry = models.ForeignKey(
        DiaryEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="data_queries"
    )
    adverse_event = models.ForeignKey(
        AdverseEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="data_queries"
    )
    pgic_answer = models.ForeignKey(
        PgicAnswer, null=True, blank=True, on_delete=models.PROTECT, related_name="data_queries"
    )
    blinding_guess = models.ForeignKey(
        BlindingGuess,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="data_queries",
    )
    participant_field = models.CharField(
        max_length=20,
        blank=True,
        choices=ParticipantField.choices,
        help_text="For a query on the participant's record: the field it is about.",
    )
    status = models.CharField(max_length=10, choices=QueryStatus.choices, default=QueryStatus.OPEN)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now, help_text="When the thread last changed.")

    class Meta:
        ordering = ("-raised_at", "-id")
        verbose_name = "data query"
        verbose_name_plural = "data queries"
        indexes = (models.Index(fields=["study", "status"], name="queries_study_status"),)
        constraints = (
            models.CheckConstraint(
                condition=Q(kind__in=QueryKind.values), name="queries_dataquery_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=QueryStatus.values), name="queries_dataquery_status_known"
            ),
            models.CheckConstraint(
                condition=_exactly_one_target(), name="queries_dataquery_one_target"
            ),
        )

    def __str__(self) -> str:
        return f"query {self.pk}"


class MessageKind(models.TextChoices):
    """One step of a thread."""

    RAISE = "raise", "raised"
    ANSWER = "answer", "answered"
    CLOSE = "close", "closed"
    REOPEN = "reopen", "re-opened"
    CORRECTION = "correction", "corrected"


class QueryMessage(models.Model):
    """One message of a query's thread: who wrote what, when, and at which step.

    A ``correction`` message records a correction made in answer to the query: it links the
    audit event of the correction (what changed, old and new values, the reason).
    """

    query = models.ForeignKey(DataQuery, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=10, choices=MessageKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    written_at = models.DateTimeField(default=now, editable=False)
    correction = models.ForeignKey(
        AuditEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The audit event of a correction made in answer to the query.",
    )

    class Meta:
        ordering = ("query", "written_at", "id")
        constraints = (
            models.CheckConstraint(
                condition=Q(kind__in=MessageKind.values), name="queries_message_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(kind=MessageKind.CORRECTION, correction__isnull=False)
                | (~Q(kind=MessageKind.CORRECTION) & Q(correction__isnull=True)),
                name="queries_message_correction_linked",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} of query {self.query_id}"
