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

import datetime as dt
import zoneinfo
from collections.abc import Sequence

from django.db import connections
from django.db.models import Case, DateField, Value, When
from django.utils import timezone

from diarytrial.diary.models import BlindingGuess, PgicAnswer
from diarytrial.diary.selectors.tonight import QUESTION_STATUSES
from diarytrial.diary.selectors.visits import answer_visit_offsets
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import schedule_end_of
from diarytrial.protocol.visits import QUESTIONS_DUE_DAYS
from diarytrial.studies.models import ProtocolVersion, Site, Study
from diarytrial.studies.readiness import ReadinessItem
from diarytrial.studies.selectors import protocol_version_load


def _plus_days(vendor: str, column: str, days: int) -> str:
    """SQL for the date `days` after the date `column` (PostgreSQL adds days to a date; SQLite
    keeps dates as ISO text, which its date() function moves and which compare as dates)."""
    if vendor == "sqlite":
        return f"date({column}, '{int(days):+d} days')"
    return f"({column} + {int(days)})"


def end_of_period_answers_missing(
    study: Study, sites: Sequence[Site] | None, *, now: dt.datetime | None = None
) -> int:
    """How many PGIC and blinding-guess answers of `study` (at `sites`) are missing for good.

    Counted by the database, whatever the number of participants (three queries: the protocol
    versions and time zones of the participants, their protocols, then the count). A
    participant's visits whose days ran out within their diary are always the first few of
    their visits (a later visit's days run out later, and falls later in the diary): the count
    finds the last of them for each participant (by protocol version, time zone and start),
    then counts the answers given up to it on the index of answers by participant and visit.
    """
    moment = now or timezone.now()
    participants = Participant.objects.filter(
        study=study, status__in=QUESTION_STATUSES, start_date__isnull=False
    )
    if sites is not None:
        participants = participants.filter(site__in=list(sites))
    participants = participants.annotate(schedule_end=schedule_end_of()).order_by()
    pairs = list(participants.values_list("protocol_version_id", "timezone").distinct())
    if not pairs:
        return 0
    protocols = {
        version.pk: protocol_version_load(version).protocol
        for version in ProtocolVersion.objects.filter(pk__in={version for version, _ in pairs})
    }
    visits = {version: answer_visit_offsets(protocol) for version, protocol in protocols.items()}
    if not any(visits.values()):  # no visit closes a stretch: no question is ever asked
        return 0
    connection = connections[Participant.objects.db]
    vendor = connection.vendor
    # Each participant's today, from their time zone (participant_today).
    todays = {zone: moment.astimezone(zoneinfo.ZoneInfo(zone)).date() for _, zone in pairs}
    participants = participants.annotate(
        today=Case(
            *(When(timezone=zone, then=Value(day)) for zone, day in todays.items()),
            output_field=DateField(),
        )
    )
    # The last visit whose answering days ran out within the diary (the later visits first),
    # and the answers due up to it; by protocol version.
    last_visit, due, pgic_given, params, due_params = [], [], [], [], []
    for version, offsets in visits.items():
        for index in range(len(offsets) - 1, -1, -1):
            number, offset, _pgic = offsets[index]
            day = _plus_days(vendor, "s", offset)
            ran_out = _plus_days(vendor, "s", offset + QUESTIONS_DUE_DAYS)
            last_visit.append(
                f"WHEN version = %s AND {ran_out} < t AND {day} <= e"
                f" AND (w IS NULL OR {day} < w) AND (c IS NULL OR {day} <= c)"
                f" THEN {int(number)}"
            )
            params.append(version)
            answers = sum(1 + pgic for _n, _o, pgic in offsets[: index + 1])
            due.append(f"WHEN version = %s AND last_visit = {int(number)} THEN {answers}")
            due_params.append(version)
        asked = ", ".join(str(int(number)) for number, _o, pgic in offsets if pgic) or "NULL"
        pgic_given.append(
            f"WHEN version = %s THEN (SELECT COUNT(*) FROM {{pgic}} a"
            f" WHERE a.participant_id = k.id AND a.visit <= k.last_visit AND a.visit IN ({asked}))"
        )
    base, base_params = participants.values_list(
        "pk",
        "protocol_version_id",
        "start_date",
        "withdrawn_on",
        "completed_on",
        "schedule_end",
        "today",
    ).query.sql_with_params()
    quote = connection.ops.quote_name
    sql = (
        f"""
        WITH p (id, version, s, w, c, e, t) AS MATERIALIZED ({base}),
        k AS MATERIALIZED (
            SELECT id, version, CASE {" ".join(last_visit)} ELSE 0 END AS last_visit
            FROM p WHERE e IS NOT NULL
        )
        SELECT
            COALESCE(SUM(CASE {" ".join(due)} ELSE 0 END), 0),
            COALESCE(SUM(CASE {" ".join(pgic_given)} ELSE 0 END), 0),
            COALESCE(SUM((SELECT COUNT(*) FROM {{guesses}} g
                WHERE g.participant_id = k.id AND g.visit <= k.last_visit)), 0)
        FROM k WHERE last_visit > 0
        """
    ).replace("{pgic}", quote(PgicAnswer._meta.db_table))
    sql = sql.replace("{guesses}", quote(BlindingGuess._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*base_params, *params, *due_params, *visits])
        expected, pgic, guesses = cursor.fetchone()
    return int(expected) - int(pgic) - int(guesses)


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
