"""A small realistic trial for the export tests, made through the services.

Two sites; six participants who started 42 days ago (baseline 14 days, then period 1), all
randomized and dispensed their first kit, with the same diary entries (a few nights of
baseline and of period 1, one with a side effect) and a PGIC answer and a blinding guess at
visit 2 (treatment day 28, yesterday) given today; one
with a lowered dose and an adverse event; one withdrawn today. Besides them, one enrolled five
days ago and not randomized yet (two nights of diary), and one only screened (not in the
dataset). Arms are renamed so that a scan of the exported bytes
finds them only if they leak: ``kappa_drug`` ("Kappamycin", 4.37 / 2.71 mg) and ``sigma_pill``.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.utils import timezone
from tests.builders import (
    LEFT_OPEN,
    make_allocation,
    make_kits,
    make_member,
    make_participant,
    make_protocol_text,
    make_site,
    make_study,
)

from diarytrial.diary.services import (
    blinding_guess_record,
    diary_entry_submit,
    pgic_answer_record,
)
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.services import participant_withdraw
from diarytrial.randomization.models import AllocationSlot
from diarytrial.randomization.selectors import kit_to_dispense
from diarytrial.randomization.services import kit_dispense, participant_randomize
from diarytrial.safety.services import adverse_event_record, dose_level_change
from diarytrial.studies.models import Role, Site, Study
from diarytrial.studies.services import study_lock

TZ = "America/Los_Angeles"
STUDY_ID = "kappa_trial"
ARM_IDS = ("kappa_drug", "sigma_pill")
ARM_NAMES = ("Kappamycin", "Sigma sugar pill")
DOSES_MG = ("4.37", "2.71")


def kappa_protocol_text(*, study_id: str = STUDY_ID, equal_periods: bool = False) -> str:
    """The LDN example with its arms renamed (and, optionally, periods of 28 days each)."""
    text = make_protocol_text(study_id=study_id)
    replacements = [
        ('id = "ldn"', 'id = "kappa_drug"'),
        ('name = "Low-dose naltrexone"', 'name = "Kappamycin"'),
        (
            "dose_mg = { reduced = 3.0, standard = 4.5 }",
            "dose_mg = { reduced = 2.71, standard = 4.37 }",
        ),
        ('id = "placebo"', 'id = "sigma_pill"'),
        ('name = "Placebo"', 'name = "Sigma sugar pill"'),
        (
            'sequences = [["ldn", "placebo"], ["placebo", "ldn"]]',
            'sequences = [["kappa_drug", "sigma_pill"], ["sigma_pill", "kappa_drug"]]',
        ),
        (
            "treatment_days = { ldn = 84, placebo = 28 }",
            "treatment_days = 28"
            if equal_periods
            else "treatment_days = { kappa_drug = 84, sigma_pill = 28 }",
        ),
    ]
    for old, new in replacements:
        if text.count(old) != 1:
            raise AssertionError(f"the LDN example changed: {old!r} is not found once")
        text = text.replace(old, new)
    return text


def today() -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(TZ)).date()


@dataclass
class Trial:
    study: Study
    sites: tuple[Site, Site]
    participants: list[Participant]
    """The randomized participants."""
    enrolled: Participant
    """Enrolled, in baseline, not randomized."""
    screened: Participant
    coordinator: User
    pharmacist: User
    statistician: User
    administrator: User

    def sequence_of(self, participant: Participant) -> str:
        """The allocated sequence as arm ids joined by '-' (a test peeks, the app never does)."""
        code = AllocationSlot.objects.get(used_by=participant).sequence_code
        letters = {"A": ARM_IDS[0], "B": ARM_IDS[1]}
        return "-".join(letters[c] for c in code)

    def lock(self) -> None:
        study_lock(
            study=self.study,
            reason="last visit done",
            actor=self.administrator,
            override_reason=LEFT_OPEN,
        )


def randomize_and_dispense(participant: Participant, *, pharmacist: User) -> None:
    """Randomize `participant` and hand them the kit of visit 1, as the pharmacist does."""
    participant_randomize(participant=participant, actor=None)
    participant.refresh_from_db()
    kit = kit_to_dispense(participant=participant, visit=1)
    kit_dispense(participant=participant, visit=1, kit=kit, actor=pharmacist)


def make_trial(
    *, participants: int = 6, equal_periods: bool = False, study_id: str = STUDY_ID
) -> Trial:
    """The trial described in the module docstring."""
    study = make_study(text=kappa_protocol_text(study_id=study_id, equal_periods=equal_periods))
    first = make_site(study=study, code="north")
    second = make_site(study=study, code="south")
    pharmacist = make_member(study=study, role=Role.PHARMACIST).user
    trial = Trial(
        study=study,
        sites=(first, second),
        participants=[],
        enrolled=make_participant(
            study=study, site=first, start_date=today() - dt.timedelta(days=5), tz=TZ
        ),
        screened=make_participant(
            study=study, site=first, status=ParticipantStatus.SCREENED, tz=TZ
        ),
        coordinator=make_member(study=study, role=Role.COORDINATOR, sites=[first]).user,
        pharmacist=pharmacist,
        statistician=make_member(study=study, role=Role.STATISTICIAN).user,
        administrator=make_member(study=study, role=Role.ADMINISTRATOR).user,
    )
    make_allocation(study=study, stratum="opioid_use=false", size=20)
    make_allocation(study=study, stratum="opioid_use=true", size=12)
    make_kits(study=study, per_arm_and_level=participants + 6)
    start = today() - dt.timedelta(days=STARTED_DAYS_AGO)
    for k in range(participants):
        participant = make_participant(
            study=study,
            site=first if k % 3 else second,
            opioid_use=k == 4,
            start_date=start,
            tz=TZ,
        )
        randomize_and_dispense(participant, pharmacist=pharmacist)
        participant.refresh_from_db()
        trial.participants.append(participant)
    for participant in trial.participants:
        diary_fill(participant, start=start)
        pgic_answer_record(participant=participant, visit=2, score=3, answered_on=today())
        blinding_guess_record(participant=participant, visit=2, guess="drug", answered_on=today())
    diary_fill(trial.enrolled, start=today() - dt.timedelta(days=5), days=(1, 2))
    if participants > 1:
        reduce_dose_for_dreams(trial.participants[1], start=start, actor=trial.coordinator)
    if participants > 2:
        participant_withdraw(
            participant=trial.participants[2], reason="moved away", on=today(), actor=None
        )
    for participant in (*trial.participants, trial.enrolled):
        participant.refresh_from_db()
    return trial


STARTED_DAYS_AGO = 42
"""The participants' first baseline day: visit 2 (treatment day 28) was yesterday."""

DIARY_DAYS = (0, 1, 2, 15, 16, 19)
"""Study days (from 0) with an entry: three nights of baseline, three of period 1."""


def diary_fill(
    participant: Participant, *, start: dt.date, days: tuple[int, ...] = DIARY_DAYS
) -> None:
    """The same entries for everyone, received at 20:00 local time on each diary date."""
    zone = zoneinfo.ZoneInfo(participant.timezone)
    for day in days:
        date = start + dt.timedelta(days=day)
        received = dt.datetime.combine(date, dt.time(20, 0), tzinfo=zone).astimezone(dt.UTC)
        diary_entry_submit(
            participant=participant,
            client_id=uuid.uuid4(),
            answers={
                "pain": 60 - day,
                "fatigue": 55,
                "sleep": 40 + day / 2,
                "mood": 50,
                "activity": 45,
                "satisfaction": 52,
            },
            side_effects={"vivid_dreams": "somewhat"} if day == 19 else {},
            capsule_taken=day >= 14,
            completed_at_device=received,
            received_at=received,
        )


def reduce_dose_for_dreams(participant: Participant, *, start: dt.date, actor: User) -> None:
    """An adverse event (vivid dreams from day 19) and the blinded dose reduction from day 20."""
    adverse_event_record(
        participant=participant,
        term="Vivid dreams",
        side_effect="vivid_dreams",
        onset_date=start + dt.timedelta(days=19),
        severity="moderate",
        serious=False,
        related="possible",
        action="dose_reduced",
        outcome="recovering",
        actor=actor,
    )
    dose_level_change(
        participant=participant,
        level="reduced",
        reason="vivid dreams",
        effective_on=start + dt.timedelta(days=20),
        actor=actor,
    )


def add_alike_pair(trial: Trial) -> tuple[Participant, Participant]:
    """Two more participants alike in everything but their arm: site, stratum, start date,
    diary, PGIC, adverse event and dose reduction. Others randomized on the way (while the
    list gives the first one's sequence again) stay without diary.
    """
    start = today() - dt.timedelta(days=STARTED_DAYS_AGO)

    def newcomer() -> Participant:
        participant = make_participant(
            study=trial.study, site=trial.sites[1], start_date=start, tz=TZ
        )
        randomize_and_dispense(participant, pharmacist=trial.pharmacist)
        return participant

    first = newcomer()
    for _ in range(5):  # permuted blocks of 2 and 4 repeat a sequence at most 4 times running
        second = newcomer()
        if trial.sequence_of(second) != trial.sequence_of(first):
            break
    else:
        raise AssertionError("the allocation list gave one sequence six times running")
    for participant in (first, second):
        diary_fill(participant, start=start)
        pgic_answer_record(participant=participant, visit=2, score=2, answered_on=today())
        blinding_guess_record(
            participant=participant, visit=2, guess="dont_know", answered_on=today()
        )
        reduce_dose_for_dreams(participant, start=start, actor=trial.coordinator)
        participant.refresh_from_db()
    return first, second
