"""When reminders are scheduled and sent: the window's opening in the participant's own time
zone plus their spread; once a night and channel; never once tonight's entry is in."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import time_machine
from django_tasks_db.models import DBTaskResult
from tests.builders import LEFT_OPEN, make_allocation, make_entry, make_member, make_participant
from tests.reminders.helpers import DST_DAY, START, D, SmtpServer, at

from diarytrial.participants.models import Participant
from diarytrial.participants.services import participant_withdraw
from diarytrial.reminders.management.commands.worker import tasks_drain
from diarytrial.reminders.models import DeliveryStatus, ReminderDelivery
from diarytrial.reminders.selectors import reminder_spread, reminders_due
from diarytrial.reminders.services import reminder_settings_set
from diarytrial.reminders.tasks import _schedule_one, reminders_schedule, reminders_send
from diarytrial.studies.models import Role
from diarytrial.studies.services import study_lock

LONDON = zoneinfo.ZoneInfo("Europe/London")


def _email_on(participant: Participant, address: str = "ana@example.org") -> None:
    reminder_settings_set(
        participant=participant, email=address, email_enabled=True, push_enabled=False
    )


def test_nothing_is_due_before_the_window_opens_and_everything_once_it_has(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    _email_on(participant)
    clock.move_to(at(D, 17, 59))
    assert reminders_schedule() == 0

    clock.move_to(at(D, 18, 0))
    assert reminders_schedule() == 1

    delivery = ReminderDelivery.objects.get()
    assert delivery.scheduled_for == at(D, 18) + reminder_spread(participant.code)
    task = DBTaskResult.objects.get()
    assert task.run_after == delivery.scheduled_for
    assert task.args_kwargs["args"] == [participant.pk, D.isoformat()]


def test_the_scheduler_running_every_minute_or_twice_at_once_schedules_one_reminder(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    _email_on(participant)
    clock.move_to(at(D, 18, 1))
    [due] = list(reminders_due(now=at(D, 18, 1)))

    assert reminders_schedule() == 1
    assert reminders_schedule() == 0
    clock.move_to(at(D, 18, 2))
    assert reminders_schedule() == 0
    # A second scheduler that had read the same participant before the first one wrote:
    assert _schedule_one(due) is False

    assert ReminderDelivery.objects.count() == 1
    assert DBTaskResult.objects.count() == 1


def test_two_workers_running_the_same_reminder_send_it_once(
    participant: Participant, smtp: SmtpServer, clock: time_machine.Traveller
) -> None:
    _email_on(participant)
    clock.move_to(at(D, 18, 11))
    reminders_schedule()

    first = reminders_send(participant_id=participant.pk, diary_date=D)
    second = reminders_send(participant_id=participant.pk, diary_date=D)
    tasks_drain()

    assert first == {"email": "sent"}
    assert second == {}
    assert len(smtp.messages) == 1


def test_no_reminder_once_tonights_entry_is_in(
    participant: Participant, smtp: SmtpServer, clock: time_machine.Traveller
) -> None:
    _email_on(participant)
    clock.move_to(at(D, 18, 0))
    reminders_schedule()
    clock.move_to(at(D, 18, 1))
    make_entry(participant=participant, diary_date=D, received_at=at(D, 18, 1))

    clock.move_to(at(D, 18, 11))
    tasks_drain()

    delivery = ReminderDelivery.objects.get()
    assert (delivery.status, delivery.detail) == (DeliveryStatus.SKIPPED, "tonight's entry is in")
    assert smtp.messages == []
    # Next night the entry of D does not count: the reminder goes out.
    clock.move_to(at(D + dt.timedelta(days=1), 18, 11))
    assert reminders_schedule() == 1


def test_an_entry_made_before_the_scheduler_runs_means_nothing_is_scheduled(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    _email_on(participant)
    clock.move_to(at(D, 18, 5))
    make_entry(participant=participant, diary_date=D, received_at=at(D, 18, 4))

    assert reminders_schedule() == 0
    assert not ReminderDelivery.objects.exists()


def test_nothing_goes_out_after_the_window_closed(
    participant: Participant, smtp: SmtpServer, clock: time_machine.Traveller
) -> None:
    _email_on(participant)
    clock.move_to(at(D, 18, 5))
    reminders_schedule()

    clock.move_to(at(D + dt.timedelta(days=1), 3, 0))  # the worker was down all night
    tasks_drain()

    delivery = ReminderDelivery.objects.get()
    assert (delivery.status, delivery.detail) == (DeliveryStatus.SKIPPED, "the window had closed")
    assert smtp.messages == []


def test_a_participant_who_withdrew_gets_nothing(
    participant: Participant, smtp: SmtpServer, clock: time_machine.Traveller
) -> None:
    _email_on(participant)
    clock.move_to(at(D, 18, 5))
    reminders_schedule()
    participant_withdraw(participant=participant, reason="moved away", on=D, actor=None)

    clock.move_to(at(D, 18, 11))
    tasks_drain()
    clock.move_to(at(D + dt.timedelta(days=1), 18, 11))
    reminders_schedule()

    delivery = ReminderDelivery.objects.get()
    assert (delivery.status, delivery.detail) == (
        DeliveryStatus.SKIPPED,
        "the participant is withdrawn",
    )
    assert smtp.messages == []


def test_turning_e_mail_off_after_scheduling_stops_tonights_reminder(
    participant: Participant, smtp: SmtpServer, clock: time_machine.Traveller
) -> None:
    _email_on(participant)
    clock.move_to(at(D, 18, 1))
    reminders_schedule()
    reminder_settings_set(
        participant=participant, email=None, email_enabled=False, push_enabled=False
    )

    clock.move_to(at(D, 18, 11))
    tasks_drain()

    assert ReminderDelivery.objects.get().status == DeliveryStatus.SKIPPED
    assert smtp.messages == []


def test_no_reminders_outside_the_schedule_nor_in_a_locked_study(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    _email_on(participant)
    clock.move_to(at(START - dt.timedelta(days=1), 18, 5))
    assert reminders_schedule() == 0  # before the first diary day

    make_allocation(study=participant.study)
    randomized = make_participant(study=participant.study, start_date=START, status="randomized")  # type: ignore[arg-type]
    _email_on(randomized, "ben@example.org")
    last = randomized.phases.order_by("-index").first()
    assert last is not None
    clock.move_to(at(last.end, 18, 5))
    assert [d.participant for d in reminders_due(now=at(last.end, 18, 5))] == [
        participant,
        randomized,
    ]
    clock.move_to(at(last.end + dt.timedelta(days=1), 18, 5))
    assert [
        d.participant for d in reminders_due(now=at(last.end + dt.timedelta(days=1), 18, 5))
    ] == [participant]

    administrator = make_member(study=participant.study, role=Role.ADMINISTRATOR).user
    study_lock(
        study=participant.study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN
    )
    assert reminders_schedule() == 0


def test_the_spread_is_fixed_per_participant_and_within_the_minutes_set(settings: object) -> None:
    codes = [f"P-{n:04d}" for n in range(400)]
    spreads = [reminder_spread(code, minutes=10) for code in codes]

    assert spreads == [reminder_spread(code, minutes=10) for code in codes]
    assert all(dt.timedelta(0) <= s <= dt.timedelta(minutes=10) for s in spreads)
    assert len(set(spreads)) > 250  # seconds apart (601 possible), not a few minutes
    by_minute = [sum(1 for s in spreads if s // dt.timedelta(minutes=1) == m) for m in range(10)]
    assert min(by_minute) > 20  # every minute gets its share
    assert reminder_spread("P-0001", minutes=0) == dt.timedelta(0)


def test_daylight_saving_and_other_time_zones_get_the_local_opening(
    participant: Participant, clock: time_machine.Traveller
) -> None:
    _email_on(participant)
    londoner = make_participant(study=participant.study, start_date=START, tz="Europe/London")
    _email_on(londoner, "cat@example.org")

    # London's 18:00 (GMT) is 10:00 in Los Angeles, where the window is closed.
    clock.move_to(at(D, 18, 1, tz=LONDON))
    assert reminders_schedule() == 1
    # Standard time in Los Angeles: 18:00 PST is 02:00 UTC the next day (London has D's).
    clock.move_to(at(D, 18, 1))
    assert reminders_schedule() == 1
    # After the change on 9 March: 18:00 PDT is 01:00 UTC, inside London's window of 9 March.
    clock.move_to(at(DST_DAY, 18, 1))
    assert reminders_schedule() == 2
    # London's clocks go forward on 30 March: 18:00 BST is 17:00 UTC.
    bst = dt.date(2025, 3, 30)
    clock.move_to(at(bst, 18, 1, tz=LONDON))
    assert reminders_schedule() == 1

    opened = {
        (d.participant.timezone, d.diary_date): d.scheduled_for
        - reminder_spread(d.participant.code)
        for d in ReminderDelivery.objects.select_related("participant")
    }
    assert opened == {
        ("America/Los_Angeles", D): dt.datetime(2025, 3, 5, 2, 0, tzinfo=dt.UTC),
        ("America/Los_Angeles", DST_DAY): dt.datetime(2025, 3, 10, 1, 0, tzinfo=dt.UTC),
        ("Europe/London", D): dt.datetime(2025, 3, 4, 18, 0, tzinfo=dt.UTC),
        ("Europe/London", DST_DAY): dt.datetime(2025, 3, 9, 18, 0, tzinfo=dt.UTC),
        ("Europe/London", bst): dt.datetime(2025, 3, 30, 17, 0, tzinfo=dt.UTC),
    }
