"""E-mail reminders through a real SMTP server on this machine."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from tests.reminders.helpers import FORBIDDEN_WORDS, D, SmtpServer, at

from diarytrial.participants.models import Participant
from diarytrial.reminders.management.commands.worker import tasks_drain
from diarytrial.reminders.models import DeliveryStatus, ReminderDelivery
from diarytrial.reminders.selectors import reminder_spread
from diarytrial.reminders.services import reminder_settings_set
from diarytrial.reminders.tasks import reminders_schedule


def test_the_reminder_arrives_by_smtp_after_the_window_opens_and_names_no_arm(
    participant: Participant, smtp: SmtpServer, clock: time_machine.Traveller
) -> None:
    reminder_settings_set(
        participant=participant, email="ana@example.org", email_enabled=True, push_enabled=False
    )
    opens = at(D, 18)
    clock.move_to(opens + dt.timedelta(seconds=5))
    assert reminders_schedule() == 1
    tasks_drain()
    assert smtp.messages == []  # its spread has not passed yet (unless it is 0)
    clock.move_to(opens + reminder_spread(participant.code) + dt.timedelta(seconds=1))

    tasks_drain()

    [message] = smtp.messages
    assert smtp.collector.recipients == [["ana@example.org"]]
    assert message["Subject"] == "Your diary is open"
    body = message.get_payload(decode=True).decode()
    assert "https://trial.example.org/d/" in body
    assert "open until 03:00 (your time)" in body
    lowered = (body + message["Subject"]).lower()
    assert not [word for word in FORBIDDEN_WORDS if word in lowered]
    assert participant.code not in body
    delivery = ReminderDelivery.objects.get()
    assert (delivery.diary_date, delivery.channel, delivery.status) == (D, "email", "sent")


def test_a_mail_server_that_refuses_marks_the_reminder_failed_and_sends_it_never_again(
    participant: Participant, smtp: SmtpServer, clock: time_machine.Traveller, settings: Any
) -> None:
    reminder_settings_set(
        participant=participant, email="ana@example.org", email_enabled=True, push_enabled=False
    )
    clock.move_to(at(D, 18, 30))
    reminders_schedule()
    settings.EMAIL_PORT = 1  # nothing listens there

    tasks_drain()
    reminders_schedule()
    tasks_drain()

    delivery = ReminderDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.detail.startswith("mail: ")
    assert "example.org" not in delivery.detail
    assert smtp.messages == []
