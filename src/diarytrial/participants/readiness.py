"""The participants app's lock check: participants still in the trial (docs/guide-staff.md).

A participant who was enrolled (enrolled, randomized or active) must end as *completed* or
*withdrawn* before the lock, so that every record says how their participation ended. People
only screened (eligible or not, never enrolled) are not counted: they never started, have no
diary and are left out of the trial dataset, so nothing about them waits for the lock.
"""

from __future__ import annotations

from collections.abc import Sequence

from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.studies.models import Site, Study
from diarytrial.studies.readiness import ReadinessItem

OPEN_STATUSES = (
    ParticipantStatus.ENROLLED,
    ParticipantStatus.RANDOMIZED,
    ParticipantStatus.ACTIVE,
)
"""Statuses of a participant who started the trial and has not left it yet."""


def participants_open_check(study: Study, sites: Sequence[Site] | None) -> ReadinessItem:
    """Participants of `study` (at `sites`) enrolled but neither completed nor withdrawn."""
    rows = Participant.objects.filter(study=study, status__in=OPEN_STATUSES)
    if sites is not None:
        rows = rows.filter(site__in=list(sites))
    return ReadinessItem(
        key="open_participants",
        label="Participants neither completed nor withdrawn",
        count=rows.count(),
        what_to_do=(
            "Open each participant still enrolled, randomized or active and mark them "
            "completed after their last diary day, or withdrawn with the reason."
        ),
    )
