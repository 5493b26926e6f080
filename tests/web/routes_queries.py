"""Route-matrix rows of the data query pages. The list and a query's thread: coordinators,
investigators, the statistician and the administrator; raising: the first three; answering
and correcting: the site team; closing and re-opening: whoever raises (the steps only post:
GET answers 405 to those roles). A coordinator gets 404 for a participant or a query of their
other site."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth.models import User
from django.urls import reverse
from tests.builders import make_entry, make_participant
from tests.web.matrix import (
    ADMINISTRATOR,
    CARE,
    COORDINATOR,
    INVESTIGATOR,
    STATISTICIAN,
    MatrixWorld,
    RouteCase,
    participant_url,
    study_page,
    study_url,
)

from diarytrial.participants.selectors import participant_today
from diarytrial.queries.models import DataQuery, QueryKind
from diarytrial.queries.services import query_raise

RAISE = (COORDINATOR, INVESTIGATOR, STATISTICIAN)
READ = (*RAISE, ADMINISTRATOR)


def _query(world: MatrixWorld, site: int) -> DataQuery:
    """A query on the first night of a participant at the world's site `site`, a week ago."""
    participant = make_participant(study=world.study, site=world.sites[site])
    start = participant_today(participant) - dt.timedelta(days=7)
    participant = make_participant(study=world.study, site=world.sites[site], start_date=start)
    entry = make_entry(participant=participant, diary_date=start)
    statistician = world.users[STATISTICIAN]
    assert isinstance(statistician, User)
    return query_raise(
        participant=participant,
        kind=QueryKind.DIARY_ENTRY,
        diary_entry=entry,
        text="Is this right?",
        actor=statistician,
    )


def _query_url(name: str, *, site: int) -> Callable[[MatrixWorld], str]:
    def url(world: MatrixWorld) -> str:
        query = _query(world, site)
        return reverse(name, kwargs={"study": world.study.slug, "query": query.pk})

    return url


ROUTES: dict[str, RouteCase] = {
    "queries:list": RouteCase(url=study_url("queries:list"), expected=study_page(allowed=READ)),
    "queries:raise": RouteCase(
        url=participant_url("queries:raise", site=1),
        expected={**study_page(allowed=RAISE), COORDINATOR: 404},
    ),
    "queries:detail": RouteCase(
        url=_query_url("queries:detail", site=1),
        expected={**study_page(allowed=READ), COORDINATOR: 404},
    ),
    "queries:answer": RouteCase(
        url=_query_url("queries:answer", site=0), expected=study_page(allowed=CARE, status=405)
    ),
    "queries:close": RouteCase(
        url=_query_url("queries:close", site=0), expected=study_page(allowed=RAISE, status=405)
    ),
    "queries:reopen": RouteCase(
        url=_query_url("queries:reopen", site=0), expected=study_page(allowed=RAISE, status=405)
    ),
    "queries:correct": RouteCase(
        url=_query_url("queries:correct", site=0), expected=study_page(allowed=CARE)
    ),
}
