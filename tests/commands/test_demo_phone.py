"""The demo's phone try-out: an open study whose participant's diary window is open now."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from tests.builders import make_user

from diarytrial.demo.phone import phone_tryout
from diarytrial.devices.services import enrolment_link_redeem
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.protocol import load_example, window_bounds, zone_where_it_is
from diarytrial.studies.models import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("hour", range(24))
def test_the_zone_where_it_is_eight_in_the_evening_at_any_hour(hour: int) -> None:
    now = dt.datetime(2026, 3, 29, hour, 59, tzinfo=dt.UTC)

    assert now.astimezone(ZoneInfo(zone_where_it_is(20, now))).hour == 20


def test_the_tryout_participant_can_fill_tonights_diary_now() -> None:
    staff = {role: make_user(username=role.value) for role in Role}
    protocol = load_example("ldn-fibromyalgia")

    tryout = phone_tryout(protocol=protocol, staff=staff)

    participant = Participant.objects.get(code=tryout.participant_code)
    assert participant.study.slug == "ldn_phone_tryout"
    assert participant.status == ParticipantStatus.ENROLLED
    zone = ZoneInfo(tryout.timezone)
    today = timezone.now().astimezone(zone).date()
    assert participant.start_date == today
    opens, closes = window_bounds(today, zone, protocol.protocol.diary)
    assert opens <= timezone.now() < closes
    assert enrolment_link_redeem(token=tryout.token).device.participant == participant
