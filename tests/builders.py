"""``make_*`` builders: state for tests, made through the services as the application makes it."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from pathlib import Path

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

import diarytrial.protocol
from diarytrial.accounts.services import totp_device_confirm, totp_device_start
from diarytrial.devices.auth import DEVICE_COOKIE
from diarytrial.devices.models import Device
from diarytrial.devices.services import enrolment_link_issue, enrolment_link_redeem
from diarytrial.diary.models import DiaryEntry
from diarytrial.diary.services import diary_entry_submit
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.selectors import participant_protocol
from diarytrial.participants.services import participant_enrol, participant_screen
from diarytrial.protocol import load_example, window_bounds
from diarytrial.randomization.models import AllocationList, Dispensing, KitBatch
from diarytrial.randomization.selectors import kit_to_dispense
from diarytrial.randomization.services import (
    allocation_list_generate,
    kit_dispense,
    kit_inventory_generate,
    participant_randomize,
)
from diarytrial.safety.models import AdverseEvent
from diarytrial.safety.services import adverse_event_record
from diarytrial.studies.models import Role, Site, Study, StudyMembership
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol
from diarytrial.studies.services import membership_grant, site_create, study_create_from_protocol

EXAMPLE_STUDY_ID = "ldn_fibromyalgia"

LEFT_OPEN = "a test of the locked study: its open participants and reports are left so on purpose"
"""The override reason of a test that locks a study whose lock checklist is not done."""


def example_protocol_path(name: str = "ldn-fibromyalgia") -> Path:
    """The protocol file shipped with diarytrial (also reachable as examples/NAME.toml)."""
    return Path(diarytrial.protocol.__file__).parent / "examples" / f"{name}.toml"


def make_protocol_text(
    *, study_id: str = EXAMPLE_STUDY_ID, title: str | None = None, note: str = ""
) -> str:
    """The LDN example's text, with another study id, another title or a trailing comment."""
    text = load_example("ldn-fibromyalgia").text
    text = text.replace(f'id = "{EXAMPLE_STUDY_ID}"', f'id = "{study_id}"', 1)
    if title is not None:
        original = load_example("ldn-fibromyalgia").protocol.study.title
        text = text.replace(f'title = "{original}"', f'title = "{title}"', 1)
    if note:
        text += f"\n# {note}\n"
    return text


def make_user(*, username: str = "coordinator", password: str | None = None) -> User:
    """A staff user; without `password` one that cannot sign in with a password."""
    return User.objects.create_user(username=username, password=password)


def make_study(
    *,
    study_id: str = EXAMPLE_STUDY_ID,
    text: str | None = None,
    created_by: User | None = None,
) -> Study:
    """A study created from the LDN example protocol (or `text`) through the service."""
    return study_create_from_protocol(
        text=make_protocol_text(study_id=study_id) if text is None else text,
        source="ldn-fibromyalgia.toml",
        created_by=created_by,
    )


def make_site(
    *, study: Study, code: str = "stanford", name: str | None = None, timezone: str = "UTC"
) -> Site:
    """A site of `study` in `timezone` (its staff pages' zone), added through the service."""
    return site_create(
        study=study, code=code, name=name or code.title(), actor=None, timezone=timezone
    )


def make_member(
    *,
    study: Study,
    role: Role,
    sites: list[Site] | None = None,
    username: str | None = None,
    password: str | None = None,
) -> StudyMembership:
    """A new staff user with `role` in `study` (limited to `sites`), granted through the service.

    The username defaults to the role's name; ``membership.user`` is the user.
    """
    user = make_user(username=username or role.value, password=password)
    return membership_grant(study=study, user=user, role=role, sites=sites, actor=None)


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The device's code for now (or for `steps_ahead` 30-second steps later), as an app shows it.

    A code is accepted once: after one was used, give the next (``steps_ahead=1``), which the
    server still accepts for clock drift.
    """
    code = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0 - device.step * steps_ahead,
        digits=device.digits,
        drift=device.drift,
    )
    return f"{code:0{device.digits}d}"


def make_totp_device(user: User) -> TOTPDevice:
    """A confirmed TOTP device of `user`, set up through the services with the current code."""
    device = totp_device_start(user=user)
    if not totp_device_confirm(device=device, code=totp_code(device)):
        raise RuntimeError("the TOTP device refused its own current code")
    device.refresh_from_db()
    return device


def _eligible_answers(study: Study) -> dict[str, bool]:
    protocol = protocol_version_load(study_current_protocol(study)).protocol
    return {question.id: question.eligible_answer for question in protocol.eligibility}


def make_participant(
    *,
    study: Study,
    site: Site | None = None,
    status: ParticipantStatus = ParticipantStatus.ENROLLED,
    opioid_use: bool = False,
    eligible: bool = True,
    start_date: dt.date | None = None,
    tz: str = "America/Los_Angeles",
    actor: User | None = None,
) -> Participant:
    """A participant taken through the services up to `status` (screened, enrolled, randomized).

    The site defaults to the study's first (made when it has none); every eligibility answer
    is the eligible one unless `eligible` is False (then the first is not). Consent is given on
    `start_date`, which defaults to the participant's today. ``randomized`` needs an allocation
    list of the participant's stratum (see `make_allocation`).
    """
    if site is None:
        site = Site.objects.filter(study=study).order_by("code").first() or make_site(study=study)
    answers = _eligible_answers(study)
    if not eligible and answers:
        first = next(iter(answers))
        answers[first] = not answers[first]
    participant = participant_screen(
        study=study, site=site, answers=answers, timezone=tz, opioid_use=opioid_use, actor=actor
    )
    if status == ParticipantStatus.SCREENED:
        return participant
    day = start_date or timezone.now().astimezone(zoneinfo.ZoneInfo(tz)).date()
    consenter, _ = User.objects.get_or_create(username="consent-taker")
    participant_enrol(
        participant=participant,
        consent_form_version="1.0",
        consented_on=min(day, timezone.now().astimezone(zoneinfo.ZoneInfo(tz)).date()),
        obtained_by=consenter,
        start_date=day,
        actor=actor,
    )
    if status == ParticipantStatus.ENROLLED:
        return participant
    if status != ParticipantStatus.RANDOMIZED:
        raise ValueError(f"make_participant goes up to randomized, not {status}")
    participant_randomize(participant=participant, actor=actor)
    return participant


def make_allocation(
    *,
    study: Study,
    stratum: str = "opioid_use=false",
    size: int = 20,
    seed: int = 20130201,
    actor: User | None = None,
) -> AllocationList:
    """The allocation list of `stratum` (at least `size` slots), generated through the service."""
    return allocation_list_generate(study=study, stratum=stratum, size=size, seed=seed, actor=actor)


def make_kits(
    *, study: Study, per_arm_and_level: int = 3, seed: int = 7, actor: User | None = None
) -> KitBatch:
    """`per_arm_and_level` kits of every arm and dose level, generated through the service."""
    return kit_inventory_generate(
        study=study, per_arm_and_level=per_arm_and_level, seed=seed, actor=actor
    )


def make_dispensing(
    *, participant: Participant, visit: int = 1, actor: User | None = None
) -> Dispensing:
    """The kit `kit_to_dispense` names, dispensed to `participant` at `visit` (needs kits)."""
    kit = kit_to_dispense(participant=participant, visit=visit)
    return kit_dispense(participant=participant, visit=visit, kit=kit, actor=actor)


def client_for(user: User) -> Client:
    """A test client signed in as `user` (without the sign-in form)."""
    client = Client()
    client.force_login(user)
    return client


def make_entry(
    *,
    participant: Participant,
    diary_date: dt.date | None = None,
    answers: dict[str, float] | None = None,
    side_effects: dict[str, str] | None = None,
    capsule_taken: bool | None = True,
    client_id: uuid.UUID | None = None,
    received_at: dt.datetime | None = None,
) -> DiaryEntry:
    """A diary entry submitted through the service, one hour after `diary_date`'s window opened.

    `diary_date` defaults to the participant's start date; every item is answered at the middle
    of its scale unless `answers` says otherwise (the given answers replace those defaults).
    """
    protocol = participant_protocol(participant)
    day = diary_date or participant.start_date
    if day is None:
        raise ValueError("make_entry needs an enrolled participant or a diary_date")
    opens, _ = window_bounds(day, zoneinfo.ZoneInfo(participant.timezone), protocol.diary)
    moment = received_at or opens + dt.timedelta(hours=1)
    values = {item.id: (item.lowest + item.highest) / 2 for item in protocol.diary.items}
    values.update(answers or {})
    return diary_entry_submit(
        participant=participant,
        client_id=client_id or uuid.uuid4(),
        answers=values,
        side_effects=side_effects or {},
        capsule_taken=capsule_taken,
        completed_at_device=moment - dt.timedelta(minutes=2),
        received_at=moment,
    )


def make_adverse_event(
    *,
    participant: Participant,
    term: str = "Headache",
    side_effect: str = "headache",
    onset_date: dt.date | None = None,
    severity: str = "mild",
    serious: bool = False,
    related: str = "possible",
    action: str = "none",
    outcome: str = "recovering",
    end_date: dt.date | None = None,
    actor: User | None = None,
) -> AdverseEvent:
    """An adverse event recorded through the service; onset defaults to the start date."""
    onset = onset_date or participant.start_date
    if onset is None:
        raise ValueError("make_adverse_event needs an enrolled participant or an onset_date")
    return adverse_event_record(
        participant=participant,
        term=term,
        side_effect=side_effect,
        onset_date=onset,
        end_date=end_date,
        severity=severity,
        serious=serious,
        related=related,
        action=action,
        outcome=outcome,
        actor=actor,
    )


def make_device(participant: Participant, *, user_agent: str = "Test phone") -> tuple[Device, str]:
    """A phone bound to `participant` through an enrolment link: the device and its raw token."""
    coordinator, _ = User.objects.get_or_create(username="link-issuer")
    issued = enrolment_link_issue(participant=participant, actor=coordinator)
    bound = enrolment_link_redeem(token=issued.token, user_agent=user_agent)
    return bound.device, bound.token


def device_client(participant: Participant, **client_options: bool) -> Client:
    """A test client carrying a new device cookie of `participant` (no staff session)."""
    _, token = make_device(participant)
    client = Client(**client_options)
    client.cookies[DEVICE_COOKIE] = token
    return client
