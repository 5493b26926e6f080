"""The data queries panel other apps' staff pages show on a record: its queries not closed,
each with a link, and the links to raise one. ``{% load data_queries %}`` then
``{% queries_panel participant=p %}`` (the participant's page: every query of the participant,
and raising one about their record or an end-of-period answer), or with ``diary_entry=`` or
``adverse_event=`` (the queries of that record, and raising one about it).

A template tag, so that the pages of the apps below this one (participants, diary, safety)
show queries without importing this app. Readers outside `READ_ROLES` see nothing.
"""

from __future__ import annotations

from typing import Any

from django import template

from diarytrial.diary.models import DiaryEntry
from diarytrial.diary.selectors import blinding_guess_list, pgic_answer_list
from diarytrial.participants.models import Participant
from diarytrial.queries.access import RAISE_ROLES, READ_ROLES
from diarytrial.queries.models import QueryKind
from diarytrial.queries.selectors import queries_of_record, query_about_words
from diarytrial.safety.models import AdverseEvent

register = template.Library()


@register.inclusion_tag("queries/_panel.html", takes_context=True)
def queries_panel(
    context: template.Context,
    *,
    participant: Participant,
    diary_entry: DiaryEntry | None = None,
    adverse_event: AdverseEvent | None = None,
) -> dict[str, Any]:
    """The panel's context: nothing for a reader outside `READ_ROLES`."""
    request = context.get("request")
    membership = getattr(request, "membership", None)
    if membership is None or membership.role not in READ_ROLES:
        return {"show": False}
    queries = queries_of_record(
        participant=participant, diary_entry=diary_entry, adverse_event=adverse_event
    )
    raising = participant.study.locked_at is None and membership.role in RAISE_ROLES
    raise_links: list[tuple[str, str, str]] = []  # (label, about, record)
    if raising:
        if diary_entry is not None:
            day = diary_entry.diary_date.isoformat()
            raise_links.append(("Raise a query on this diary entry", QueryKind.DIARY_ENTRY, day))
        elif adverse_event is not None:
            raise_links.append(
                (
                    "Raise a query on this adverse event",
                    QueryKind.ADVERSE_EVENT,
                    str(adverse_event.pk),
                )
            )
        else:
            raise_links.append(
                ("Raise a query on the participant's record", QueryKind.PARTICIPANT, "")
            )
            for answer in pgic_answer_list(participant=participant):
                raise_links.append(
                    (
                        f"Raise a query on the PGIC answer at visit {answer.visit}",
                        QueryKind.PGIC_ANSWER,
                        str(answer.visit),
                    )
                )
            for guess in blinding_guess_list(participant=participant):
                raise_links.append(
                    (
                        f"Raise a query on the blinding question answer at visit {guess.visit}",
                        QueryKind.BLINDING_GUESS,
                        str(guess.visit),
                    )
                )
    return {
        "show": True,
        "request": request,
        "page_zone": context.get("page_zone"),
        "participant": participant,
        "rows": [(query, query_about_words(query)) for query in queries],
        "raise_links": raise_links,
        "whole_record": diary_entry is None and adverse_event is None,
    }
