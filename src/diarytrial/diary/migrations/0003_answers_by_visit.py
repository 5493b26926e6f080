"""The PGIC answers and blinding guesses are kept by visit of the visit calendar, not by period.

An answer recorded about a treatment period moves to the visit on that period's last day; going
back, an answer moves to the period its visit closes, and an answer at a visit that closes no
period (which the period column cannot hold) stops the migration with a message.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models
from django.db.models import Q

from diarytrial.protocol import parse_protocol
from diarytrial.protocol.visits import VisitCalendar, visit_calendar

ANSWERS = ("PgicAnswer", "BlindingGuess")


def _calendar(participant: Any, calendars: dict[int, VisitCalendar]) -> VisitCalendar:
    version = participant.protocol_version
    if version.pk not in calendars:
        protocol = parse_protocol(version.text, source=version.source).protocol
        calendars[version.pk] = visit_calendar(protocol)
    return calendars[version.pk]


def _treatment_ends(apps: Any, participant: Any) -> dict[int, Any]:
    """The participant's treatment periods with their last diary dates."""
    phases = apps.get_model("participants", "ParticipantPhase").objects.filter(
        participant_id=participant.pk, kind="treatment", period__isnull=False
    )
    return {phase.period: phase.end for phase in phases}


def periods_to_visits(apps: Any, schema_editor: Any) -> None:
    calendars: dict[int, VisitCalendar] = {}
    for name in ANSWERS:
        for answer in apps.get_model("diary", name).objects.select_related(
            "participant__protocol_version"
        ):
            participant = answer.participant
            calendar = _calendar(participant, calendars)
            end = _treatment_ends(apps, participant).get(answer.period)
            days = {visit.treatment_day: visit.number for visit in calendar.visits}
            day = None if end is None else calendar.treatment_day_of(end, participant.start_date)
            if day not in days:
                raise RuntimeError(
                    f"{name} {answer.pk} of participant {participant.code} is about period "
                    f"{answer.period}, whose last day is no visit of the visit calendar"
                )
            answer.visit = days[day]
            answer.save(update_fields=["visit"])


def visits_to_periods(apps: Any, schema_editor: Any) -> None:
    calendars: dict[int, VisitCalendar] = {}
    for name in ANSWERS:
        for answer in apps.get_model("diary", name).objects.select_related(
            "participant__protocol_version"
        ):
            participant = answer.participant
            calendar = _calendar(participant, calendars)
            visit = calendar.visit(answer.visit)
            periods = {end: period for period, end in _treatment_ends(apps, participant).items()}
            date = (
                None
                if visit is None
                else calendar.date_of(visit.treatment_day, participant.start_date)
            )
            if date not in periods:
                raise RuntimeError(
                    f"{name} {answer.pk} of participant {participant.code} was given at visit "
                    f"{answer.visit}, which closes no treatment period; the answers by period "
                    "cannot hold it"
                )
            answer.period = periods[date]
            answer.save(update_fields=["period"])


def _visit_field(*, null: bool) -> models.PositiveSmallIntegerField[int | None, int | None]:
    return models.PositiveSmallIntegerField(
        null=null,
        help_text="The visit of the visit calendar the answer closes (2, 3, ...: not the first).",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("diary", "0002_entry_device_time"),
        ("participants", "0001_initial"),
        ("studies", "0003_study_unblinded_at_locked_at"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="pgicanswer", name="diary_pgicanswer_one_per_period"
        ),
        migrations.RemoveConstraint(
            model_name="blindingguess", name="diary_blindingguess_one_per_period"
        ),
        migrations.AlterField(
            model_name="pgicanswer",
            name="period",
            field=models.PositiveSmallIntegerField(
                null=True, help_text="The treatment period the answer closes."
            ),
        ),
        migrations.AlterField(
            model_name="blindingguess",
            name="period",
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.AddField(model_name="pgicanswer", name="visit", field=_visit_field(null=True)),
        migrations.AddField(
            model_name="blindingguess", name="visit", field=_visit_field(null=True)
        ),
        migrations.RunPython(periods_to_visits, visits_to_periods, elidable=False),
        migrations.RemoveField(model_name="pgicanswer", name="period"),
        migrations.RemoveField(model_name="blindingguess", name="period"),
        migrations.AlterField(
            model_name="pgicanswer", name="visit", field=_visit_field(null=False)
        ),
        migrations.AlterField(
            model_name="blindingguess", name="visit", field=_visit_field(null=False)
        ),
        migrations.AlterModelOptions(
            name="pgicanswer", options={"ordering": ("participant", "visit")}
        ),
        migrations.AlterModelOptions(
            name="blindingguess", options={"ordering": ("participant", "visit")}
        ),
        migrations.AddConstraint(
            model_name="pgicanswer",
            constraint=models.UniqueConstraint(
                fields=["participant", "visit"], name="diary_pgicanswer_one_per_visit"
            ),
        ),
        migrations.AddConstraint(
            model_name="pgicanswer",
            constraint=models.CheckConstraint(
                condition=Q(visit__gte=2), name="diary_pgicanswer_visit_2_on"
            ),
        ),
        migrations.AddConstraint(
            model_name="blindingguess",
            constraint=models.UniqueConstraint(
                fields=["participant", "visit"], name="diary_blindingguess_one_per_visit"
            ),
        ),
        migrations.AddConstraint(
            model_name="blindingguess",
            constraint=models.CheckConstraint(
                condition=Q(visit__gte=2), name="diary_blindingguess_visit_2_on"
            ),
        ),
    ]
