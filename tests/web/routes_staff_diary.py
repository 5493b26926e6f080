"""Route-matrix rows of the staff pages on the diary: side effects reported in the diary
(confirm or dismiss) and the correction of a diary entry. Coordinators and investigators only;
a coordinator gets 404 for a participant of their other site."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.urls import reverse
from tests.builders import make_entry, make_participant
from tests.web.matrix import (
    CARE,
    COORDINATOR,
    MatrixWorld,
    RouteCase,
    participant_url,
    study_page,
    study_url,
)

from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_today


def _with_a_night(world: MatrixWorld, site: int, side_effects: dict[str, str]) -> Participant:
    """A participant who started a week ago and reported `side_effects` on their first night."""
    participant = make_participant(study=world.study, site=world.sites[site])
    start = participant_today(participant) - dt.timedelta(days=7)
    participant = make_participant(study=world.study, site=world.sites[site], start_date=start)
    make_entry(participant=participant, diary_date=start, side_effects=side_effects)
    return participant


def _decision_url(name: str, *, site: int) -> Callable[[MatrixWorld], str]:
    def url(world: MatrixWorld) -> str:
        participant = _with_a_night(world, site, {"headache": "very"})
        assert participant.start_date is not None
        return reverse(
            name,
            kwargs={
                "study": world.study.slug,
                "participant": participant.code,
                "side_effect": "headache",
                "first": participant.start_date.isoformat(),
            },
        )

    return url


def _correct_url(world: MatrixWorld) -> str:
    participant = _with_a_night(world, 0, {})
    assert participant.start_date is not None
    return reverse(
        "diary:correct",
        kwargs={
            "study": world.study.slug,
            "participant": participant.code,
            "day": participant.start_date.isoformat(),
        },
    )


ROUTES: dict[str, RouteCase] = {
    "side_effects:list": RouteCase(
        url=study_url("side_effects:list"), expected=study_page(allowed=CARE)
    ),
    # At the coordinator's other site: 404 for them, as every participant page.
    "side_effects:confirm": RouteCase(
        url=_decision_url("side_effects:confirm", site=1),
        expected={**study_page(allowed=CARE), COORDINATOR: 404},
    ),
    "side_effects:dismiss": RouteCase(
        url=_decision_url("side_effects:dismiss", site=0), expected=study_page(allowed=CARE)
    ),
    "diary:entries": RouteCase(
        url=participant_url("diary:entries", site=1),
        expected={**study_page(allowed=CARE), COORDINATOR: 404},
    ),
    "diary:correct": RouteCase(url=_correct_url, expected=study_page(allowed=CARE)),
}
