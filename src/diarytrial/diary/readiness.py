"""The diary app's lock check: end-of-period answers that are missing for good.

At every visit of the blinded visit calendar after the first, the phone asks the PGIC (where
the protocol asks it) and the blinding guess, from the visit's day for `QUESTIONS_DUE_DAYS`
more days, of a participant randomized, active, completed or withdrawn whose diary reaches
the visit (`diary.selectors.tonight.diary_questions_due`, the same rule). An answer is
*missing* once those days have run out (the participant's today is after the last of them)
without it. Each missing answer counts one: a visit without both answers counts two.

The item is shown on the lock checklist but does not hold the lock back (``blocks_lock`` is
False): once its days have run out the phone never asks the question again, so the answer is
missing data the analysis reports, not work that can be finished before the lock. Nothing
here reads allocation or periods: visits fall on the same days for every sequence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Max

from diarytrial.diary.models import BlindingGuess, PgicAnswer
from diarytrial.diary.selectors.days import last_diary_day
from diarytrial.diary.selectors.tonight import QUESTION_STATUSES
from diarytrial.diary.selectors.visits import answer_visits
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_today
from diarytrial.protocol.visits import QUESTIONS_DUE_DAYS
from diarytrial.studies.models import Site, Study
from diarytrial.studies.readiness import ReadinessItem
from diarytrial.studies.selectors import protocol_version_load


def end_of_period_answers_missing(study: Study, sites: Sequence[Site] | None) -> int:
    """How many PGIC and blinding-guess answers of `study` (at `sites`) are missing for good.

    Four queries, whatever the number of participants: the participants with the end of their
    planned schedule, the protocol versions they started on, the PGIC answers, the guesses.
    """
    rows = (
        Participant.objects.filter(study=study, status__in=QUESTION_STATUSES)
        .annotate(schedule_end=Max("phases__end"))
        .filter(schedule_end__isnull=False, start_date__isnull=False)
        .select_related("protocol_version")
    )
    if sites is not None:
        rows = rows.filter(site__in=list(sites))
    participants = list(rows)
    if not participants:
        return 0
    ids = [participant.pk for participant in participants]
    pgic_done: dict[int, set[int]] = defaultdict(set)
    for participant_id, number in PgicAnswer.objects.filter(participant__in=ids).values_list(
        "participant_id", "visit"
    ):
        pgic_done[participant_id].add(number)
    guess_done: dict[int, set[int]] = defaultdict(set)
    for participant_id, number in BlindingGuess.objects.filter(participant__in=ids).values_list(
        "participant_id", "visit"
    ):
        guess_done[participant_id].add(number)
    missing = 0
    for participant in participants:
        protocol = protocol_version_load(participant.protocol_version).protocol
        today = participant_today(participant)
        last = last_diary_day(participant, participant.schedule_end)
        for visit in answer_visits(participant=participant, protocol=protocol):
            if not visit.asked(last) or visit.last_answer_day >= today:
                continue
            if visit.pgic and visit.number not in pgic_done[participant.pk]:
                missing += 1
            if visit.number not in guess_done[participant.pk]:
                missing += 1
    return missing


def end_of_period_answers_missing_check(
    study: Study, sites: Sequence[Site] | None
) -> ReadinessItem:
    """The lock checklist's item of `end_of_period_answers_missing` (does not block the lock)."""
    return ReadinessItem(
        key="missing_end_of_period_answers",
        label="Missing end-of-period answers (PGIC, blinding guess)",
        count=end_of_period_answers_missing(study, sites),
        what_to_do=(
            "Nothing can be done on the phone any more: these answers were not given in the "
            f"{QUESTIONS_DUE_DAYS + 1} days after their visit. They stay missing in the "
            "dataset; check that the analysis plan says how missing answers are handled."
        ),
        blocks_lock=False,
    )
