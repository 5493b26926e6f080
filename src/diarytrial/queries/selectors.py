"""Reading data queries: the study's list with its filters, one query and its thread, the
open queries of a record, and the lock check. Reads only; nothing here names an arm, and an
end-of-period answer is named by its visit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from diarytrial.diary.models import BlindingGuess, DiaryEntry, PgicAnswer
from diarytrial.participants.models import Participant
from diarytrial.queries.errors import QueryNotFoundError
from diarytrial.queries.models import (
    NOT_CLOSED,
    DataQuery,
    ParticipantField,
    QueryKind,
    QueryMessage,
    QueryStatus,
)
from diarytrial.safety.models import AdverseEvent
from diarytrial.studies.models import Site, Study
from diarytrial.studies.readiness import ReadinessItem

_RELATED = (
    "study",
    "participant",
    "participant__site",
    "participant__study",
    "raised_by",
    "diary_entry",
    "adverse_event",
    "pgic_answer",
    "blinding_guess",
)


def query_about_words(query: DataQuery) -> str:
    """What `query` is about, in words: "Diary of 2026-03-01", "PGIC answer at visit 3"."""
    if query.kind == QueryKind.DIARY_ENTRY and query.diary_entry is not None:
        return f"Diary of {query.diary_entry.diary_date.isoformat()}"
    if query.kind == QueryKind.ADVERSE_EVENT and query.adverse_event is not None:
        event = query.adverse_event
        return f"Adverse event {event.term} (onset {event.onset_date.isoformat()})"
    if query.kind == QueryKind.PGIC_ANSWER and query.pgic_answer is not None:
        return f"PGIC answer at visit {query.pgic_answer.visit}"
    if query.kind == QueryKind.BLINDING_GUESS and query.blinding_guess is not None:
        return f"Blinding question answer at visit {query.blinding_guess.visit}"
    field = ParticipantField(query.participant_field).label if query.participant_field else ""
    return f"Participant record: {field}"


def query_list(
    *,
    study: Study,
    sites: Iterable[Site] | QuerySet[Site],
    status: str | None = None,
    site: Site | None = None,
    participant_code: str | None = None,
) -> QuerySet[DataQuery]:
    """The queries of `study` at `sites` (the reader's), newest first, with what each is about
    and how many messages its thread has (``message_count``), filtered when asked."""
    queries = DataQuery.objects.filter(study=study, participant__site__in=sites)
    if status:
        queries = queries.filter(status=status)
    if site is not None:
        queries = queries.filter(participant__site=site)
    if participant_code:
        queries = queries.filter(participant__code=participant_code.strip().upper())
    return (
        queries.select_related(*_RELATED)
        .annotate(message_count=Count("messages"))
        .order_by("-updated_at", "-id")
    )


def query_get(*, study: Study, pk: int, sites: Iterable[Site] | QuerySet[Site]) -> DataQuery:
    """Query `pk` of `study` at one of `sites`; QueryNotFoundError otherwise (another site's
    query is "not found", as a number that does not exist)."""
    found = (
        DataQuery.objects.filter(study=study, pk=pk, participant__site__in=sites)
        .select_related(*_RELATED)
        .first()
    )
    if found is None:
        raise QueryNotFoundError(
            f"There is no query {pk} at your sites of study {study.slug!r}.",
            extra={"study": study.slug, "query": pk},
        )
    return found


def query_thread(query: DataQuery) -> list[QueryMessage]:
    """The messages of `query`, oldest first, with their authors and linked corrections."""
    return list(
        QueryMessage.objects.filter(query=query)
        .select_related("author", "correction")
        .order_by("written_at", "id")
    )


def queries_of_record(
    *,
    participant: Participant,
    diary_entry: DiaryEntry | None = None,
    adverse_event: AdverseEvent | None = None,
    pgic_answer: PgicAnswer | None = None,
    blinding_guess: BlindingGuess | None = None,
    include_closed: bool = False,
) -> list[DataQuery]:
    """The queries of `participant` (all of them, or those about the one record given), open
    and answered first unless `include_closed`."""
    queries = DataQuery.objects.filter(participant=participant)
    for name, record in (
        ("diary_entry", diary_entry),
        ("adverse_event", adverse_event),
        ("pgic_answer", pgic_answer),
        ("blinding_guess", blinding_guess),
    ):
        if record is not None:
            queries = queries.filter(**{name: record})
    if not include_closed:
        queries = queries.filter(status__in=NOT_CLOSED)
    return list(queries.select_related(*_RELATED).order_by("-updated_at", "-id"))


@dataclass(frozen=True)
class QueryCounts:
    """How many queries of a scope wait for the site (open) and for their raiser (answered)."""

    open: int
    answered: int

    @property
    def not_closed(self) -> int:
        return self.open + self.answered


def query_counts(study: Study, sites: Sequence[Site] | None = None) -> QueryCounts:
    """The open and answered queries of `study` (at `sites`, when given), in one query."""
    queries = DataQuery.objects.filter(study=study)
    if sites is not None:
        queries = queries.filter(participant__site__in=[site.pk for site in sites])
    counts = queries.aggregate(
        open=Count("pk", filter=Q(status=QueryStatus.OPEN)),
        answered=Count("pk", filter=Q(status=QueryStatus.ANSWERED)),
    )
    return QueryCounts(open=counts["open"], answered=counts["answered"])


def open_queries_lock_check(study: Study, sites: Sequence[Site] | None) -> ReadinessItem:
    """The lock checklist's item: queries not closed (open or answered) hold the lock back."""
    counts = query_counts(study, sites)
    if counts.not_closed == 0:
        what = "Every data query is closed."
    else:
        what = (
            f"{counts.open} wait for the site's answer and {counts.answered} for their raiser "
            f"to close them: the site answers (correcting the record where needed) on the "
            f"query's page, and the member who raised each query closes it or re-opens it."
        )
    return ReadinessItem(
        key="open_queries",
        label="Data queries not closed",
        count=counts.not_closed,
        what_to_do=what,
    )
