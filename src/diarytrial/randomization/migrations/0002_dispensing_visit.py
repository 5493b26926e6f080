"""A kit is dispensed at a visit of the blinded visit calendar, not for a treatment period.

``Dispensing.period`` becomes ``Dispensing.visit``, with one dispensing per participant and
visit. A dispensing recorded for a period is given the visit that opens the period for the
participant's sequence (for equal periods and n-of-1 designs, the visit number of the period's
start). Should two kits have been recorded for the same period, the later ones take the next
visits of the period that have none; the migration stops, saying which participant, when there
is no such visit.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models
from django.db.models import Q

from diarytrial.protocol import parse_protocol
from diarytrial.protocol.visits import visit_calendar


def _period_visits(text: str, sequence_code: str) -> dict[int, list[int]]:
    """Per treatment period, the visits whose stretch falls in it, first the one opening it."""
    protocol = parse_protocol(text, source="protocol version").protocol
    sequence = protocol.sequence_from_code(sequence_code)
    calendar = visit_calendar(protocol)
    visits: dict[int, list[int]] = {}
    day = 0
    for template in protocol.phase_templates(sequence):
        if template.kind == "baseline":
            continue
        if template.kind == "treatment" and template.period is not None:
            visits[template.period] = [
                visit.number
                for visit in calendar.visits
                if visit.stretch is not None
                and day < visit.stretch.first_day <= day + template.days
            ]
        day += template.days
    return visits


def forwards(apps: Any, schema_editor: Any) -> None:
    Dispensing = apps.get_model("randomization", "Dispensing")
    AllocationSlot = apps.get_model("randomization", "AllocationSlot")
    plans: dict[int, dict[int, list[int]]] = {}
    taken: dict[int, set[int]] = {}
    rows = Dispensing.objects.select_related("participant__protocol_version").order_by(
        "participant_id", "period", "dispensed_at", "id"
    )
    for dispensing in rows:
        participant = dispensing.participant
        if participant.pk not in plans:
            slot = AllocationSlot.objects.get(used_by=participant)
            plans[participant.pk] = _period_visits(
                participant.protocol_version.text, slot.sequence_code
            )
        used = taken.setdefault(participant.pk, set())
        free = [v for v in plans[participant.pk].get(dispensing.period, []) if v not in used]
        if not free:
            raise RuntimeError(
                f"Participant {participant.code} has more kits recorded for period "
                f"{dispensing.period} than the period has visits; record which visit each kit "
                f"was dispensed at before migrating."
            )
        dispensing.visit = free[0]
        used.add(free[0])
        dispensing.save(update_fields=["visit"])


class Migration(migrations.Migration):
    dependencies = [
        ("randomization", "0001_initial"),
        ("participants", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="dispensing",
            name="visit",
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
        migrations.RemoveConstraint(
            model_name="dispensing", name="randomization_dispensing_period_gte_1"
        ),
        migrations.RemoveField(model_name="dispensing", name="period"),
        migrations.AlterField(
            model_name="dispensing",
            name="visit",
            field=models.PositiveSmallIntegerField(
                help_text="The visit that dispensed the kit, from 1 (visit 1 is the last "
                "baseline day)."
            ),
        ),
        migrations.AddConstraint(
            model_name="dispensing",
            constraint=models.CheckConstraint(
                condition=Q(visit__gte=1), name="randomization_dispensing_visit_gte_1"
            ),
        ),
        migrations.AddConstraint(
            model_name="dispensing",
            constraint=models.UniqueConstraint(
                fields=("participant", "visit"), name="randomization_dispensing_one_per_visit"
            ),
        ),
    ]
