"""The safety app's lock checks (docs/guide-staff.md, "Locking the database").

- *Side effects awaiting review*: the open candidates of `side_effect_candidates`, episodes
  of side effects ticked in the diary that no adverse event and no review has decided. After
  the lock nobody can decide them any more.
- *Adverse events without an outcome*: recorded (not removed) events whose outcome is
  ``unknown``, or that are still ongoing (no end date) with the outcome ``recovering``: both
  say the follow-up is not finished. An event ongoing with ``not recovered`` is a final outcome
  (the participant had not recovered when follow-up ended) and is not counted.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q

from diarytrial.safety.models import AdverseEvent, EventStatus, Outcome
from diarytrial.safety.selectors import side_effect_candidates
from diarytrial.studies.models import Site, Study
from diarytrial.studies.readiness import ReadinessItem

OUTCOME_MISSING = Q(outcome=Outcome.UNKNOWN) | Q(end_date__isnull=True, outcome=Outcome.RECOVERING)
"""An adverse event whose follow-up is not finished (see the module's docstring)."""


def _sites(study: Study, sites: Sequence[Site] | None) -> Sequence[Site]:
    return list(Site.objects.filter(study=study)) if sites is None else sites


def side_effects_open_check(study: Study, sites: Sequence[Site] | None) -> ReadinessItem:
    """Side effects of the diary that wait for a decision (confirm as adverse event or dismiss)."""
    return ReadinessItem(
        key="side_effects_awaiting_review",
        label="Side effects awaiting review",
        count=len(side_effect_candidates(study=study, sites=_sites(study, sites))),
        what_to_do=(
            "On the side effects page, confirm each reported side effect as an adverse event "
            "or dismiss it with a reason."
        ),
    )


def adverse_events_open_check(study: Study, sites: Sequence[Site] | None) -> ReadinessItem:
    """Recorded adverse events whose outcome is unknown, or ongoing and still recovering."""
    rows = AdverseEvent.objects.filter(
        OUTCOME_MISSING, participant__study=study, status=EventStatus.RECORDED
    )
    if sites is not None:
        rows = rows.filter(participant__site__in=list(sites))
    return ReadinessItem(
        key="adverse_events_without_outcome",
        label="Adverse events without an outcome",
        count=rows.count(),
        what_to_do=(
            "On each participant's page, change the adverse events whose outcome is unknown, "
            "or still recovering without an end date: give the end date and the final outcome."
        ),
    )
