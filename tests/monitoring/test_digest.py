"""The daily digest: what it says, who gets it, when it goes out, and its settings page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django_tasks_db.models import DBTaskResult
from tests.builders import (
    LEFT_OPEN,
    client_for,
    make_entry,
    make_member,
    make_participant,
    make_site,
    make_study,
)
from tests.reminders.helpers import SmtpServer, smtp_server

from diarytrial.audit.models import AuditEvent
from diarytrial.cli import main
from diarytrial.core.errors import InvalidInputError, PermissionDeniedError
from diarytrial.monitoring.digest.selectors import digest_content, digest_recipients
from diarytrial.monitoring.digest.sending import digest_body, digest_subject
from diarytrial.monitoring.digest.services import digest_schedule_set, digest_subscription_set
from diarytrial.monitoring.digest.tasks import digests_schedule
from diarytrial.monitoring.models import DigestDelivery, DigestStatus
from diarytrial.participants.models import Participant
from diarytrial.reminders.management.commands.worker import tasks_drain
from diarytrial.studies import readiness
from diarytrial.studies.models import Role, Site, Study, StudyMembership
from diarytrial.studies.readiness import ReadinessItem
from diarytrial.studies.services import study_lock

START = dt.date(2025, 2, 24)
NOON = dt.datetime(2025, 3, 4, 20, 0, tzinfo=dt.UTC)  # 12:00 on 4 March in Los Angeles
BEFORE = dt.datetime(2025, 3, 4, 15, 29, tzinfo=dt.UTC)  # 07:29 in Los Angeles
AFTER = dt.datetime(2025, 3, 4, 15, 31, tzinfo=dt.UTC)  # 07:31 in Los Angeles
ARM_WORDS = ("ldn", "naltrexone", "placebo", "period", "active", "sequence", "arm")


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpServer]:
    with smtp_server() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = server.host
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.SITE_URL = "https://trial.example.org"
        yield server


@pytest.fixture
def no_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """No lock check registered: the digest's "waiting for review" is empty unless a test
    registers one."""
    monkeypatch.setattr(readiness, "_CHECKS", {})


class Trial:
    def __init__(self) -> None:
        self.study: Study = make_study(study_id="trial_one")
        self.north: Site = make_site(study=self.study, code="north", name="North clinic")
        self.south: Site = make_site(study=self.study, code="south", name="South clinic")
        self.admin = make_member(study=self.study, role=Role.ADMINISTRATOR)
        self.coordinator = self._member(Role.COORDINATOR, "cora", [self.north])
        self.investigator = self._member(Role.INVESTIGATOR, "ivan", [])
        self.south_coordinator = self._member(Role.COORDINATOR, "sam", [self.south])
        self.pharmacist = self._member(Role.PHARMACIST, "phil", [])
        # North: Ana misses the last two nights, Ben keeps every night; South: Cy misses one.
        self.ana = self._diarist(self.north, skip=2)
        self.ben = self._diarist(self.north, skip=0)
        self.cy = self._diarist(self.south, skip=1)

    def _member(self, role: Role, name: str, sites: list[Site]) -> StudyMembership:
        membership = make_member(study=self.study, role=role, sites=sites, username=name)
        membership.user.email = f"{name}@example.org"
        membership.user.save()
        return membership

    def _diarist(self, site: Site, *, skip: int) -> Participant:
        participant = make_participant(study=self.study, site=site, start_date=START)
        last = dt.date(2025, 3, 3)  # last night, in Los Angeles
        day = START
        while day <= last - dt.timedelta(days=skip):
            make_entry(participant=participant, diary_date=day)
            day += dt.timedelta(days=1)
        return participant


@pytest.fixture
def trial(db: None, clock: time_machine.Traveller, no_checks: None) -> Trial:
    return Trial()


def _fake_check(count: int) -> readiness.LockCheck:
    def check(study: Study, sites: Sequence[Site] | None) -> ReadinessItem:
        return ReadinessItem("reviews", "Side effects awaiting review", count, "Open them.")

    return check


def test_content_lists_who_missed_and_what_waits(trial: Trial) -> None:
    readiness.register_lock_check("reviews", _fake_check(3), order=1)
    content = digest_content(site=trial.north)
    assert content.local_date == dt.date(2025, 3, 4)
    assert [(line.code, line.in_a_row) for line in content.missed] == [(trial.ana.code, 2)]
    assert content.missed[0].last_entry == dt.date(2025, 3, 1)
    assert [line.code for line in content.flagged] == [trial.ana.code]
    assert [(item.label, item.count) for item in content.pending] == [
        ("Side effects awaiting review", 3)
    ]
    body = digest_body(content)
    assert f"{trial.ana.code}: 2 nights in a row missed, last entry 2025-03-01" in body
    assert trial.ben.code not in body
    assert trial.cy.code not in body
    assert "Side effects awaiting review: 3. Open them." in body
    assert digest_subject(content) == (
        "trial_one north, 2025-03-04: 1 missed last night, 3 waiting for review"
    )
    text = (digest_subject(content) + body).lower().replace("trial_one", "")
    assert not [word for word in ARM_WORDS if word in text]


def test_south_has_one_missed_night_and_nothing_flagged(trial: Trial) -> None:
    content = digest_content(site=trial.south)
    assert [(line.code, line.in_a_row) for line in content.missed] == [(trial.cy.code, 1)]
    assert content.flagged == ()
    assert "call the participant" not in digest_body(content)


def test_recipients_are_the_site_team_who_want_it(trial: Trial) -> None:
    assert [user.username for user in digest_recipients(site=trial.north)] == ["cora"]
    digest_subscription_set(
        membership=trial.investigator, subscribed=True, actor=trial.investigator.user
    )
    assert [user.username for user in digest_recipients(site=trial.north)] == ["cora", "ivan"]
    assert [user.username for user in digest_recipients(site=trial.south)] == ["ivan", "sam"]
    digest_subscription_set(
        membership=trial.coordinator, subscribed=False, actor=trial.coordinator.user
    )
    assert [user.username for user in digest_recipients(site=trial.north)] == ["ivan"]
    trial.investigator.user.email = ""
    trial.investigator.user.save()
    assert digest_recipients(site=trial.north) == []


def test_subscription_changes_are_audited_and_one_s_own(trial: Trial) -> None:
    digest_subscription_set(
        membership=trial.coordinator, subscribed=False, actor=trial.coordinator.user
    )
    digest_subscription_set(  # no change: no event
        membership=trial.coordinator, subscribed=False, actor=trial.coordinator.user
    )
    digest_subscription_set(
        membership=trial.coordinator, subscribed=True, actor=trial.coordinator.user
    )
    events = AuditEvent.objects.filter(object_type="monitoring.digestsubscription")
    assert [(e.action, e.changes, e.reason) for e in events.order_by("pk")] == [
        (
            "create",
            [{"field": "subscribed", "old": None, "new": False}],
            "was on by default for the role",
        ),
        ("update", [{"field": "subscribed", "old": False, "new": True}], ""),
    ]
    assert {e.actor_label for e in events} == {"cora"}
    with pytest.raises(PermissionDeniedError, match="Only you"):
        digest_subscription_set(
            membership=trial.coordinator, subscribed=False, actor=trial.investigator.user
        )
    with pytest.raises(PermissionDeniedError, match="site team"):
        digest_subscription_set(
            membership=trial.pharmacist, subscribed=True, actor=trial.pharmacist.user
        )


def test_schedule_needs_an_administrator_and_a_real_zone(trial: Trial) -> None:
    admin = trial.admin.user
    digest_schedule_set(
        site=trial.north, timezone_name="America/Los_Angeles", send_at=dt.time(7, 30), actor=admin
    )
    digest_schedule_set(
        site=trial.north,
        timezone_name=" America/Los_Angeles ",
        send_at=dt.time(8, 0, 12),
        actor=admin,
    )
    events = AuditEvent.objects.filter(object_type="monitoring.digestschedule").order_by("pk")
    assert [(e.action, e.changes) for e in events] == [
        (
            "create",
            [
                {"field": "timezone", "old": None, "new": "America/Los_Angeles"},
                {"field": "send_at", "old": None, "new": "07:30"},
            ],
        ),
        ("update", [{"field": "send_at", "old": "07:30", "new": "08:00"}]),
    ]
    for bad in ("Mars/Olympus", "", "../../etc/passwd", "x" * 300, "UTC\x00"):
        with pytest.raises(InvalidInputError, match="not a time zone"):
            digest_schedule_set(
                site=trial.north, timezone_name=bad, send_at=dt.time(7), actor=admin
            )
    with pytest.raises(PermissionDeniedError):
        digest_schedule_set(
            site=trial.north,
            timezone_name="UTC",
            send_at=dt.time(7),
            actor=trial.coordinator.user,
        )


def _schedule_both(trial: Trial) -> None:
    for site in (trial.north, trial.south):
        digest_schedule_set(
            site=site,
            timezone_name="America/Los_Angeles",
            send_at=dt.time(7, 30),
            actor=trial.admin.user,
        )


@pytest.mark.django_db(transaction=True)
def test_digests_go_out_once_at_the_site_s_time(
    clock: time_machine.Traveller, smtp: SmtpServer, no_checks: None
) -> None:
    trial = Trial()
    _schedule_both(trial)
    clock.move_to(BEFORE)
    assert digests_schedule() == 0
    clock.move_to(AFTER)
    assert digests_schedule() == 2
    assert digests_schedule() == 0  # the next minute: already started today
    assert tasks_drain() == 2
    assert {tuple(r) for r in smtp.collector.recipients} == {
        ("cora@example.org",),
        ("sam@example.org",),
    }
    subjects = sorted(str(m["Subject"]).replace("\r\n", "") for m in smtp.messages)
    assert subjects == [
        "trial_one north, 2025-03-04: 1 missed last night, 0 waiting for review",
        "trial_one south, 2025-03-04: 1 missed last night, 0 waiting for review",
    ]
    assert {d.status for d in DigestDelivery.objects.all()} == {DigestStatus.SENT}
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 2
    # The next morning, again once per site.
    clock.move_to(AFTER + dt.timedelta(days=1))
    assert digests_schedule() == 2


@pytest.mark.django_db(transaction=True)
def test_nothing_to_report_sends_nothing(
    clock: time_machine.Traveller, smtp: SmtpServer, no_checks: None
) -> None:
    trial = Trial()
    _schedule_both(trial)
    for night in (dt.date(2025, 3, 2), dt.date(2025, 3, 3)):
        make_entry(participant=trial.ana, diary_date=night)
    make_entry(participant=trial.cy, diary_date=dt.date(2025, 3, 3))
    clock.move_to(AFTER)
    assert digests_schedule() == 2
    tasks_drain()
    assert smtp.messages == []
    assert {d.status for d in DigestDelivery.objects.all()} == {DigestStatus.NOTHING}


@pytest.mark.django_db(transaction=True)
def test_a_locked_study_gets_no_digest(
    clock: time_machine.Traveller, smtp: SmtpServer, no_checks: None
) -> None:
    trial = Trial()
    _schedule_both(trial)
    study_lock(
        study=trial.study,
        reason="end of the trial",
        actor=trial.admin.user,
        override_reason=LEFT_OPEN,
    )
    clock.move_to(AFTER)
    assert digests_schedule() == 0
    assert not DigestDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_worker_once_sends_the_digest(
    clock: time_machine.Traveller,
    smtp: SmtpServer,
    no_checks: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    trial = Trial()
    digest_schedule_set(
        site=trial.north,
        timezone_name="Europe/Berlin",
        send_at=dt.time(16, 0),
        actor=trial.admin.user,
    )
    clock.move_to(dt.datetime(2025, 3, 4, 15, 0, tzinfo=dt.UTC))  # 16:00 in Berlin
    assert main(["worker", "--once"]) == 0
    assert "sent 1 daily digest(s)" in capsys.readouterr().out
    assert [tuple(r) for r in smtp.collector.recipients] == [("cora@example.org",)]
    body = smtp.messages[0].get_payload(decode=True).decode()
    assert "https://trial.example.org/studies/trial_one/digest/" in body


def _page(client: Client, study: Study) -> Any:
    return client.get(f"/studies/{study.slug}/digest/")


def test_page_roles(trial: Trial) -> None:
    for membership, status in (
        (trial.coordinator, 200),
        (trial.investigator, 200),
        (trial.admin, 200),
        (trial.pharmacist, 403),
    ):
        assert _page(client_for(membership.user), trial.study).status_code == status
    page = _page(client_for(trial.coordinator.user), trial.study).content.decode()
    assert "You get the daily digest" in page
    assert "South clinic" not in page  # a coordinator sees their own sites only
    admin_page = _page(client_for(trial.admin.user), trial.study).content.decode()
    assert "Set for north" in admin_page
    assert "Set for south" in admin_page


def test_page_turns_one_s_digest_off_and_on(trial: Trial) -> None:
    client = client_for(trial.coordinator.user)
    url = f"/studies/{trial.study.slug}/digest/subscription/"
    assert client.post(url, {"subscribed": "off"}).status_code == 302
    assert "You do not get the daily digest" in _page(client, trial.study).content.decode()
    assert client.post(url, {"subscribed": "maybe"}).status_code == 302
    assert client.post(url, {"subscribed": "on"}).status_code == 302
    assert "You get the daily digest" in _page(client, trial.study).content.decode()
    assert client_for(trial.pharmacist.user).post(url, {"subscribed": "on"}).status_code == 403


def test_page_sets_a_site_s_time(trial: Trial) -> None:
    client = client_for(trial.admin.user)
    url = f"/studies/{trial.study.slug}/digest/sites/north/"
    ok = client.post(
        url, {"site-north-timezone": "America/New_York", "site-north-send_at": "06:45"}
    )
    assert ok.status_code == 302
    assert "06:45 America/New_York" in _page(client, trial.study).content.decode()
    for data in (
        {"site-north-timezone": "Nowhere/Place", "site-north-send_at": "06:45"},
        {"site-north-timezone": "UTC", "site-north-send_at": "25:99"},
        {"site-north-timezone": "x" * 5000, "site-north-send_at": "06:45"},
        {},
    ):
        bad = client.post(url, data)
        assert bad.status_code == 400
        assert "Please correct" in bad.content.decode()
    assert client.post(f"/studies/{trial.study.slug}/digest/sites/nowhere/", {}).status_code == 404
    assert (
        client_for(trial.coordinator.user)
        .post(url, {"site-north-timezone": "UTC", "site-north-send_at": "06:00"})
        .status_code
        == 403
    )


def test_a_locked_study_s_page_offers_no_form(trial: Trial) -> None:
    study_lock(
        study=trial.study,
        reason="end of the trial",
        actor=trial.admin.user,
        override_reason=LEFT_OPEN,
    )
    for membership in (trial.coordinator, trial.admin):
        page = _page(client_for(membership.user), trial.study).content.decode()
        assert "While the database is locked, no digest is sent." in page
        assert "digest/subscription/" not in page
        assert "digest/sites/" not in page


def test_users_without_email_are_told(trial: Trial) -> None:
    user: User = trial.coordinator.user
    user.email = ""
    user.save()
    page = _page(client_for(user), trial.study).content.decode()
    assert "no e-mail address" in page
