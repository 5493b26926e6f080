"""The demo trial, run through the live system.

The simulator stays pure: it produces each participant's nights and events. This module feeds
them through the same services the staff pages and the diary use (screening, enrolment,
randomization from the allocation list, kit dispensing, nightly entries inside their windows,
dose changes, adverse events, PGIC, withdrawal), then locks the database, unblinds, and
exports the trial dataset the analysis reads. So the demo exercises the real path (windows,
audit trail, blinding), not a shortcut.

Because the sequence comes from the live allocation list, each participant is simulated once
per possible sequence with the same seed and start date (the person — baseline, covariates,
symptoms' noise — is the same); after randomization the simulation of the allocated sequence
is replayed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import time_machine
from django.contrib.auth.models import User
from django.db import transaction

from diarytrial.dataset import TrialDataset
from diarytrial.demo.phone import PhoneTryout, phone_tryout
from diarytrial.demo.staff import Login, demo_staff
from diarytrial.diary.services import (
    blinding_guess_record,
    diary_entry_submit,
    pgic_answer_record,
)
from diarytrial.exports.services import dataset_export, study_unblind
from diarytrial.exports.signing import study_lock_signed
from diarytrial.monitoring.digest.services import digest_schedule_set
from diarytrial.participants.models import Participant
from diarytrial.participants.services import (
    participant_complete,
    participant_enrol,
    participant_screen,
    participant_withdraw,
)
from diarytrial.protocol import ProtocolFile, load_example, parse_protocol, window_bounds
from diarytrial.protocol.visits import visit_calendar
from diarytrial.randomization.models import Randomization
from diarytrial.randomization.plans import kits_per_participant
from diarytrial.randomization.selectors import kit_to_dispense
from diarytrial.randomization.services import (
    allocation_list_generate,
    kit_dispense,
    kit_inventory_generate,
    participant_randomize,
)
from diarytrial.safety.services import adverse_event_record, dose_level_change
from diarytrial.signatures.models import Meaning
from diarytrial.signatures.services import SigningCredentials
from diarytrial.simulate import SimulationParameters, simulate_trial
from diarytrial.studies.models import Role, Site, Study
from diarytrial.studies.services import (
    membership_grant,
    site_create,
    study_create_from_protocol,
)

EXAMPLE = "ldn-fibromyalgia"
FIRST_START = dt.date(2025, 1, 6)
"""The first participant's first baseline day; later ones start every `SPACING_DAYS`."""
SPACING_DAYS = 9
CONSENT_VERSION = "1.0"
EVENTS_PER_COMMIT = 250
# The demo locks its database with the lock checklist still open, saying so: nobody reviews
# the simulated side effects, and the simulation gives no follow-up of the events still going
# on when a participant leaves. Deciding them here would invent clinical decisions and
# outcomes; the lock page and the dataset's metadata then show what a real team would close.
DEMO_LOCK_OVERRIDE = (
    "Demo of simulated data, locked as the simulation left it: side effects that it did not "
    "record as adverse events were not reviewed by anyone, and adverse events still going on "
    "when a participant left have no follow-up."
)

Log = Callable[[str], None]


@dataclass(frozen=True)
class LiveDemo:
    """What the demo made: the study, the staff logins and the exported dataset."""

    study: Study
    logins: tuple[Login, ...]
    dataset: TrialDataset
    entries: int
    tryout: PhoneTryout


def run_live_demo(*, participants: int, seed: int, log: Log = lambda line: None) -> LiveDemo:
    """Create the LDN study, run `participants` through it, lock, unblind and export."""
    protocol = load_example(EXAMPLE)
    # The server's clock follows the trial: set-up a month before the first participant.
    with time_machine.travel(_local_time(FIRST_START - dt.timedelta(days=30), 9), tick=False):
        staff, logins = demo_staff()
        admin, pharmacist = staff[Role.ADMINISTRATOR], staff[Role.PHARMACIST]
        study = study_create_from_protocol(
            text=protocol.text, source=f"examples/{EXAMPLE}.toml", created_by=admin
        )
        site = site_create(
            study=study,
            code="stanford",
            name="Stanford pain clinic",
            actor=admin,
            timezone="America/Los_Angeles",
        )
        for role, user in staff.items():
            membership_grant(study=study, user=user, role=role, actor=admin)
        # The site team's daily digest at 07:30 in the clinic's zone (diarytrial worker sends it).
        digest_schedule_set(site=site, send_at=dt.time(7, 30), actor=admin)
        for stratum in ("opioid_use=false", "opioid_use=true"):
            allocation_list_generate(
                study=study, stratum=stratum, size=participants, seed=seed, actor=pharmacist
            )
        # Enough for everyone at either dose level: one kit per visit, the most of one arm.
        per_participant = max(kits_per_participant(protocol.protocol).values())
        kit_inventory_generate(
            study=study,
            per_arm_and_level=per_participant * participants,
            seed=seed,
            actor=pharmacist,
        )
    log(f"study {study.slug} created, with a site, 5 staff accounts, allocation lists and kits")

    variants = _single_sequence_protocols(protocol)
    replay = _Replay(study=study, site=site, protocol=protocol, staff=staff)
    for k in range(participants):
        start = FIRST_START + dt.timedelta(days=SPACING_DAYS * k)
        runs = {
            code: _on_the_protocols_visits(
                simulate_trial(
                    variant,
                    participants=1,
                    seed=seed * 1000 + k,
                    start=start,
                    parameters=SimulationParameters(recruitment_days=1),
                ),
                variant,
                protocol,
            )
            for code, variant in variants.items()
        }
        replay.schedule(_local_time(start, 9), "enrol", k, runs)
    replay.run()
    log(f"{participants} participants ran through the services, {replay.nights:,} nights")

    with time_machine.travel(replay.clock + dt.timedelta(days=1), tick=False):
        # The administrator signs the lock with their password (the demo knows it: it made it).
        password = next(login.password for login in logins if login.username == admin.username)
        study_lock_signed(
            study=study,
            reason="all participants completed; database lock",
            override_reason=DEMO_LOCK_OVERRIDE,
            credentials=SigningCredentials(
                signer=admin, password=password, code="", meaning=Meaning.APPROVED
            ),
        )
        statistician = staff[Role.STATISTICIAN]
        study_unblind(study=study, reason="database locked; primary analysis", actor=statistician)
        dataset = dataset_export(study=study, actor=statistician, blinded=False)
    # The export knows the live system only; the nights it holds were simulated, from this seed.
    dataset = dataclasses.replace(
        dataset,
        provenance={
            **dataset.provenance,
            "simulation": {
                "generator": "diarytrial demo",
                "seed": seed,
                "participants": participants,
            },
        },
    )
    log("database locked, study unblinded by the statistician, dataset exported")
    # At the real time: the try-out participant's diary window is open now.
    tryout = phone_tryout(protocol=protocol, staff=staff)
    log(f"phone try-out study {tryout.study_slug}: participant {tryout.participant_code}")
    return LiveDemo(
        study=study, logins=logins, dataset=dataset, entries=replay.nights, tryout=tryout
    )


def _local_time(day: dt.date, hour: int, zone: str = "America/Los_Angeles") -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


class _Replay:
    """Every participant's events in time order, each run with the server's clock set to it."""

    def __init__(
        self, *, study: Study, site: Site, protocol: ProtocolFile, staff: dict[Role, User]
    ) -> None:
        self.study, self.site, self.protocol = study, site, protocol
        self.coordinator = staff[Role.COORDINATOR]
        self.pharmacist = staff[Role.PHARMACIST]
        self.queue: list[tuple[dt.datetime, int, str, int, Any]] = []
        self.order = 0
        self.people: dict[int, Participant] = {}
        self.clock = dt.datetime.min.replace(tzinfo=dt.UTC)
        self.nights = 0

    def schedule(self, moment: dt.datetime, kind: str, k: int, payload: Any) -> None:
        self.order += 1
        heapq.heappush(self.queue, (moment, self.order, kind, k, payload))

    def run(self) -> None:
        while self.queue:
            # Each service still runs in its own (nested) transaction with its audit event;
            # committing every few hundred events spares SQLite a disk sync per event.
            with transaction.atomic():
                for _ in range(EVENTS_PER_COMMIT):
                    if not self.queue:
                        break
                    moment, _, kind, k, payload = heapq.heappop(self.queue)
                    self.clock = max(self.clock, moment)
                    with time_machine.travel(moment, tick=False):
                        getattr(self, f"_{kind}")(k, payload)

    def _enrol(self, k: int, runs: dict[str, TrialDataset]) -> None:
        person = next(iter(runs.values())).participants.iloc[0]
        start = pd.Timestamp(str(person["start_date"])).date()
        participant = participant_screen(
            study=self.study,
            site=self.site,
            answers={q.id: q.eligible_answer for q in self.protocol.protocol.eligibility},
            timezone=str(person["timezone"]),
            opioid_use=bool(person["opioid_use"]),
            age=int(person["age"]),
            actor=self.coordinator,
        )
        participant_enrol(
            participant=participant,
            consent_form_version=CONSENT_VERSION,
            consented_on=start,
            obtained_by=self.coordinator,
            start_date=start,
            actor=self.coordinator,
        )
        self.people[k] = participant
        randomized_on = pd.Timestamp(str(person["randomized_on"])).date()
        self.schedule(_local_time(randomized_on, 10), "randomize", k, runs)

    def _randomize(self, k: int, runs: dict[str, TrialDataset]) -> None:
        participant = self.people[k]
        participant_randomize(participant=participant, actor=self.coordinator)
        code = Randomization.objects.get(participant=participant).slot.sequence_code
        run = runs[code]
        # The pharmacist hands out a kit at every visit of the blinded calendar that dispenses
        # one (after the randomization, on the last baseline day, for visit 1).
        calendar = visit_calendar(self.protocol.protocol)
        assert participant.start_date is not None  # enrolment set it
        for visit in calendar.visits:
            if visit.stretch is not None:
                on = calendar.date_of(visit.treatment_day, participant.start_date)
                self.schedule(_local_time(on, 11), "dispense", k, visit.number)
        for night in _nights(run):
            self.schedule(night.received_at, "night", k, night)
        for row in run.doses[run.doses["reason"] != "start"].to_dict("records"):
            effective = pd.Timestamp(str(row["effective_on"])).date()
            self.schedule(_local_time(effective, 10), "dose", k, row)
        for row in run.adverse_events.to_dict("records"):
            # Recorded at the visit after it ended (or after its onset, if it goes on).
            known = row["onset_date"] if pd.isna(row["end_date"]) else row["end_date"]
            seen = pd.Timestamp(str(known)).date() + dt.timedelta(days=1)
            self.schedule(_local_time(seen, 11), "adverse_event", k, row)
        for row in run.pgic.to_dict("records"):
            answered = pd.Timestamp(str(row["answered_on"])).date()
            self.schedule(_local_time(answered, 22), "pgic", k, row)
        for row in run.blinding.to_dict("records"):
            answered = pd.Timestamp(str(row["answered_on"])).date()
            self.schedule(_local_time(answered, 22), "guess", k, row)
        person = run.participants.iloc[0]
        if pd.notna(person["withdrawn_on"]):
            gone = pd.Timestamp(str(person["withdrawn_on"])).date()
            reason = str(person["withdrawal_reason"])
            self.schedule(_local_time(gone, 12), "withdraw", k, (gone, reason))
        else:
            last = pd.Timestamp(str(run.periods["end"].max())).date()
            self.schedule(_local_time(last + dt.timedelta(days=1), 12), "complete", k, last)

    def _dispense(self, k: int, visit: int) -> None:
        participant = self.people[k]
        participant.refresh_from_db()
        if participant.status in {"withdrawn", "completed"}:
            return
        kit = kit_to_dispense(participant=participant, visit=visit)
        kit_dispense(participant=participant, visit=visit, kit=kit, actor=self.pharmacist)

    def _dose(self, k: int, row: dict[str, Any]) -> None:
        participant = self.people[k]
        effective = pd.Timestamp(str(row["effective_on"])).date()
        dose_level_change(
            participant=participant,
            level=str(row["dose_level"]),
            reason=str(row["reason"]),
            actor=self.coordinator,
            effective_on=effective,
        )

    def _night(self, k: int, night: _Night) -> None:
        participant = self.people[k]
        diary_entry_submit(
            participant=participant,
            client_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{participant.code}/{night.date}"),
            answers=night.answers,
            side_effects=night.side_effects,
            capsule_taken=True,
            completed_at_device=night.completed_at,
            form_date=night.date,
        )
        self.nights += 1

    def _adverse_event(self, k: int, row: dict[str, Any]) -> None:
        end = row["end_date"]
        adverse_event_record(
            participant=self.people[k],
            term=str(row["term"]),
            onset_date=pd.Timestamp(str(row["onset_date"])).date(),
            end_date=None if pd.isna(end) else pd.Timestamp(str(end)).date(),
            severity=str(row["severity"]),
            serious=bool(row["serious"]),
            related=str(row["related"]),
            action=str(row["action"]),
            outcome=str(row["outcome"]),
            side_effect="" if pd.isna(row["side_effect"]) else str(row["side_effect"]),
            actor=self.coordinator,
        )

    def _pgic(self, k: int, row: dict[str, Any]) -> None:
        pgic_answer_record(
            participant=self.people[k],
            visit=int(row["visit"]),
            score=int(row["score"]),
            answered_on=pd.Timestamp(str(row["answered_on"])).date(),
        )

    def _guess(self, k: int, row: dict[str, Any]) -> None:
        blinding_guess_record(
            participant=self.people[k],
            visit=int(row["visit"]),
            guess=str(row["guess"]),
            answered_on=pd.Timestamp(str(row["answered_on"])).date(),
        )

    def _withdraw(self, k: int, payload: tuple[dt.date, str]) -> None:
        gone, reason = payload
        participant_withdraw(
            participant=self.people[k], reason=reason, on=gone, actor=self.coordinator
        )

    def _complete(self, k: int, last: dt.date) -> None:
        participant_complete(participant=self.people[k], on=last, actor=self.coordinator)


@dataclass(frozen=True)
class _Night:
    date: dt.date
    received_at: dt.datetime
    completed_at: dt.datetime
    answers: dict[str, float]
    side_effects: dict[str, str]


def _nights(run: TrialDataset) -> list[_Night]:
    """Each simulated diary night: answers, side effects, and when it was filled and sent."""
    spec = run.protocol.protocol
    zone = ZoneInfo(str(run.participants.iloc[0]["timezone"]))
    effects: dict[dt.date, dict[str, str]] = {}
    for row in run.side_effects.to_dict("records"):
        day = pd.Timestamp(str(row["diary_date"])).date()
        effects.setdefault(day, {})[str(row["side_effect"])] = str(row["unpleasantness"])
    out = []
    for value, night in run.diary.groupby("diary_date", sort=True, observed=True):
        day = pd.Timestamp(str(value)).date()
        received = pd.Timestamp(night["submitted_at"].iloc[0]).to_pydatetime()
        opens, _ = window_bounds(day, zone, spec.diary)
        late = bool(night["late"].iloc[0])
        out.append(
            _Night(
                date=day,
                received_at=received,
                # A late entry was filled offline inside its window; its upload came later.
                completed_at=opens + dt.timedelta(hours=2) if late else received,
                answers={
                    str(i): float(v) for i, v in zip(night["item"], night["value"], strict=True)
                },
                side_effects=effects.get(day, {}),
            )
        )
    return out


def _on_the_protocols_visits(
    run: TrialDataset, variant: ProtocolFile, protocol: ProtocolFile
) -> TrialDataset:
    """`run`, simulated under the one-sequence `variant`, with its end-of-visit answers
    numbered as `protocol`'s visit calendar numbers them. The variant's calendar holds its own
    sequence's visits only; the study's holds every sequence's, so the same day has another
    number there (visit 2 of the variant "LDN, then placebo" is visit 4 of the study)."""
    number = {
        visit.treatment_day: visit.number for visit in visit_calendar(protocol.protocol).visits
    }
    renumbered = {
        visit.number: number[visit.treatment_day]
        for visit in visit_calendar(variant.protocol).visits
    }
    return dataclasses.replace(
        run,
        pgic=run.pgic.assign(visit=run.pgic["visit"].map(renumbered)),
        blinding=run.blinding.assign(visit=run.blinding["visit"].map(renumbered)),
    )


def _single_sequence_protocols(protocol: ProtocolFile) -> dict[str, ProtocolFile]:
    """The protocol once per sequence, with that sequence only (the simulator then uses it)."""
    spec = protocol.protocol
    original = "sequences = " + str([list(s) for s in spec.sequences]).replace("'", '"')
    if original not in protocol.text:
        raise ValueError("the demo protocol must list its sequences on one line")
    out = {}
    for sequence in spec.sequences:
        text = protocol.text.replace(
            original, "sequences = " + str([list(sequence)]).replace("'", '"')
        )
        out[spec.sequence_code(sequence)] = parse_protocol(text, source="demo")
    return out
