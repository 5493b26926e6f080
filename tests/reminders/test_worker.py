"""``diarytrial worker --once`` and ``diarytrial vapid_keys``, end to end through the CLI."""

from __future__ import annotations

import base64

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django_tasks_db.models import DBTaskResult
from tests.reminders.helpers import D, SmtpServer, at, unb64url

from diarytrial.cli import main
from diarytrial.participants.models import Participant
from diarytrial.reminders.models import DeliveryStatus, ReminderDelivery
from diarytrial.reminders.services import reminder_settings_set


# Committed for real: a management command closes its database connections when it ends.
@pytest.mark.django_db(transaction=True)
def test_worker_once_schedules_and_sends_tonights_reminder(
    participant: Participant,
    smtp: SmtpServer,
    clock: time_machine.Traveller,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reminder_settings_set(
        participant=participant, email="ana@example.org", email_enabled=True, push_enabled=False
    )
    clock.move_to(at(D, 18, 11))

    assert main(["worker", "--once"]) == 0
    assert main(["worker", "--once"]) == 0  # a second round (cron every minute) sends nothing

    assert "scheduled the reminders of 1 participant(s)" in capsys.readouterr().out
    assert len(smtp.messages) == 1
    assert ReminderDelivery.objects.get().status == DeliveryStatus.SENT
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_vapid_keys_prints_a_matching_key_pair(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vapid_keys"]) == 0

    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    private = int.from_bytes(unb64url(lines["VAPID_PRIVATE_KEY"]), "big")
    derived = ec.derive_private_key(private, ec.SECP256R1()).public_key()
    assert (
        lines["VAPID_PUBLIC_KEY"]
        == base64.urlsafe_b64encode(
            derived.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )
        .rstrip(b"=")
        .decode()
    )
