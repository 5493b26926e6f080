"""The trial dataset as SDTM-style domains: one pandas DataFrame per domain, with the variable
names, order and controlled terms of the SDTM Implementation Guide (3.4).

Seven domains are built (`sdtm_domains`):

- **DM** demographics, one row per participant: SITEID, AGE/AGEU, the reference dates, and
  the planned and actual arm from the sequence (``BLINDED`` in a blinded dataset).
- **SE** subject elements: the phases of ``periods.csv`` (baseline, each treatment period,
  washout), clipped to the end of participation.
- **SV** subject visits: the visits of the blinded visit calendar, on their planned dates.
- **EX** exposure: one row per kit (the stretch between two visits), phase and dose level;
  in a blinded dataset the product is masked (``LOW-DOSE NALTREXONE OR PLACEBO``) and the
  dose is the blinded level, not milligrams.
- **QS** questionnaires: the nightly diary answers, the side effects ticked in the diary
  checklist, the PGIC and the blinding guess, each under its own QSCAT.
- **AE** adverse events as confirmed by staff (AEDECOD repeats the reported term: no MedDRA
  coding is done).
- **DS** disposition: randomization (a protocol milestone), completion or withdrawal.

Study day (--DY) counts from RFSTDTC, the participant's first baseline day, and has no day 0:
the day before day 1 is day -1. Every date is an ISO 8601 date (``YYYY-MM-DD``). A value the
dataset does not hold is left empty (null), never invented: the trial dataset has no sex,
race, ethnicity, country, birth date, death or consent date, so DM has no such variables.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from diarytrial.dataset import TrialDataset
from diarytrial.dataset.tables import BLINDED_CONDITION
from diarytrial.interop.statfiles import short_names
from diarytrial.protocol import PGIC_LABELS, Protocol
from diarytrial.protocol.visits import VisitCalendar, visit_calendar

SDTMIG_VERSION = "3.4"
DataType = Literal["text", "integer", "float", "date"]
Origin = Literal["Collected", "Derived", "Assigned", "Protocol"]

TESTCD_LENGTH = 8
TEST_LENGTH = 40
ARMCD_LENGTH = 20
BLINDED_ARM = "BLINDED"
"""ARMCD, ARM, ACTARMCD and ACTARM of every randomized participant of a blinded dataset."""

QS_DIARY = "NIGHTLY SYMPTOM DIARY"
QS_SIDE_EFFECTS = "DIARY SIDE EFFECT CHECKLIST"
QS_PGIC = "PATIENT GLOBAL IMPRESSION OF CHANGE"
QS_BLINDING = "BLINDING ASSESSMENT"
PGIC_TESTCD = "PGIC"
BLINDING_TESTCD = "BLNDGUES"

SEVERITY = {"mild": "MILD", "moderate": "MODERATE", "severe": "SEVERE"}
"""AESEV (CDISC codelist AESEV, C66769)."""
RELATEDNESS = {
    "not_related": "NOT RELATED",
    "unlikely": "UNLIKELY RELATED",
    "possible": "POSSIBLY RELATED",
    "probable": "PROBABLY RELATED",
    "definite": "RELATED",
}
"""AEREL: CDISC gives no codelist; these are the customary sponsor terms."""
ACTION = {
    "none": "DOSE NOT CHANGED",
    "dose_reduced": "DOSE REDUCED",
    "interrupted": "DRUG INTERRUPTED",
    "withdrawn": "DRUG WITHDRAWN",
}
"""AEACN (CDISC codelist ACN, C66767)."""
OUTCOME = {
    "recovered": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "unknown": "UNKNOWN",
}
"""AEOUT (CDISC codelist OUT, C66768)."""
GUESS = {"drug": "DRUG", "placebo": "PLACEBO", "dont_know": "DON'T KNOW"}
"""The answers of the blinding guess, as QSORRES."""
UNPLEASANTNESS = {"not_at_all": "NOT AT ALL", "somewhat": "SOMEWHAT", "very": "VERY"}
"""How unpleasant a ticked side effect was, as QSORRES."""
NOT_COMPLETED = (
    "ADVERSE EVENT",
    "DEATH",
    "LACK OF EFFICACY",
    "LOST TO FOLLOW-UP",
    "NON-COMPLIANCE WITH STUDY DRUG",
    "PHYSICIAN DECISION",
    "PREGNANCY",
    "PROTOCOL DEVIATION",
    "SCREEN FAILURE",
    "SITE TERMINATED BY SPONSOR",
    "STUDY TERMINATED BY SPONSOR",
    "WITHDRAWAL BY SUBJECT",
)
"""Terms of the CDISC codelist NCOMPLT (C66727) a withdrawal reason is matched against; a
reason that is none of them (spelled alike, case aside) is coded OTHER."""


@dataclass(frozen=True)
class Variable:
    """One SDTM variable: what the Define-XML says of it."""

    name: str
    label: str
    type: DataType
    role: str
    origin: Origin
    mandatory: bool = False
    codelist: str | None = None
    """The id of the codelist of its values (see `SdtmDomain.codelists`)."""
    method: str | None = None
    """The id of the derivation (see `METHODS`) of a derived variable."""
    source: Literal["Subject", "Investigator"] = "Subject"
    """Who gives a collected value: the participant (diary) or the site (adverse events)."""
    comment: str | None = None
    """What a reader should know of the variable: what it does not hold, or how it is filled."""


@dataclass(frozen=True)
class Codelist:
    """The values a variable takes: coded value to its decode (the decode may be empty)."""

    id: str
    name: str
    terms: dict[str, str]
    data_type: Literal["text", "integer"] = "text"
    nci_code: str | None = None
    """The NCI code of the CDISC codelist the terms come from, if one."""
    extended: frozenset[str] = frozenset()
    """Terms added to that CDISC codelist (it is extensible): not CDISC terms."""


@dataclass(frozen=True)
class SdtmDomain:
    """One SDTM domain: its rows and the description of its variables."""

    name: str
    label: str
    domain_class: str
    structure: str
    keys: tuple[str, ...]
    variables: tuple[Variable, ...]
    frame: pd.DataFrame
    codelists: dict[str, Codelist] = field(default_factory=dict)

    @property
    def repeating(self) -> bool:
        return self.name != "DM"

    def variable(self, name: str) -> Variable:
        for variable in self.variables:
            if variable.name == name:
                return variable
        raise KeyError(name)


METHODS: dict[str, str] = {
    "USUBJID": "STUDYID and the participant code joined by '-'.",
    "SEQ": "Number of the record within the participant, 1, 2, ... in the order of the "
    "domain's key variables.",
    "DY": "Study day of the date relative to RFSTDTC: date - RFSTDTC + 1 on or after RFSTDTC, "
    "date - RFSTDTC before it (there is no day 0).",
    "EPOCH": "The phase of periods.csv the date falls in: BASELINE, TREATMENT n (the period), "
    "WASHOUT, or TREATMENT where a blinded dataset merges phases.",
    "RFENDTC": "Date of withdrawal for a withdrawn participant, else the last day of the last "
    "phase (of the last diary entry for a participant still in the trial).",
    "EXPOSURE": "Each day of a treatment phase (or of a washout whose kit holds capsules), "
    "grouped by "
    "kit (the stretch between two visits of the visit calendar), phase and dose level "
    "(doses.csv), up to the end of participation.",
    "VISITDATE": "The visit's day of the visit calendar for the participant's start date.",
    "RFSTDTC": "The participant's first baseline day (start_date of participants.csv).",
    "ELEMENT": "First and last day of the phase (periods.csv), the last day cut at the end of "
    "participation.",
    "QSSTRES": "The answer as collected; for the PGIC the score 1 (very much improved) to 7 "
    "(very much worse).",
}
"""The derivations the Define-XML describes, by id."""


def is_blinded(dataset: TrialDataset) -> bool:
    """True for a blinded dataset: its provenance says so, or a phase is ``blinded``."""
    if dataset.provenance.get("blinded"):
        return True
    return bool((dataset.periods["condition"].astype(str) == BLINDED_CONDITION).any())


def _date(value: Any) -> dt.date | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def study_day(day: dt.date | None, reference: dt.date | None) -> int | None:
    """The SDTM study day of `day` relative to `reference` (day 1); there is no day 0.

    >>> study_day(dt.date(2026, 1, 5), dt.date(2026, 1, 5)), study_day(
    ...     dt.date(2026, 1, 4), dt.date(2026, 1, 5))
    (1, -1)
    """
    if day is None or reference is None:
        return None
    days = (day - reference).days
    return days + 1 if days >= 0 else days


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters (cut with "..." at the end)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class _Phase:
    index: int
    kind: str
    period: int | None
    arm: str | None
    condition: str
    start: dt.date
    end: dt.date

    @property
    def epoch(self) -> str:
        if self.kind == "baseline":
            return "BASELINE"
        if self.kind == "washout":
            return "WASHOUT"
        return "TREATMENT" if self.period is None else f"TREATMENT {self.period}"


@dataclass(frozen=True)
class _Subject:
    """What every domain needs to know of one participant."""

    participant_id: str
    usubjid: str
    start: dt.date
    end: dt.date | None
    """The last day of participation as far as the dataset tells; None when nothing is known."""
    phases: tuple[_Phase, ...]

    def epoch_on(self, day: dt.date | None) -> str | None:
        if day is None:
            return None
        starts = [phase.start for phase in self.phases]
        k = bisect.bisect_right(starts, day) - 1
        if k < 0 or day > self.phases[k].end:
            return None
        return self.phases[k].epoch

    def day(self, day: dt.date | None) -> int | None:
        return study_day(day, self.start)


class _Builder:
    """The domains of one dataset: shared look-ups, then one method per domain."""

    def __init__(self, dataset: TrialDataset) -> None:
        self.dataset = dataset
        self.protocol: Protocol = dataset.protocol.protocol
        self.blinded = is_blinded(dataset)
        self.studyid = self.protocol.study.id
        self.calendar: VisitCalendar = visit_calendar(self.protocol)
        self.subjects = self._subjects()

    def _usubjid(self, participant_id: str) -> str:
        return f"{self.studyid}-{participant_id}"

    def _subjects(self) -> dict[str, _Subject]:
        data = self.dataset
        phases: dict[str, list[_Phase]] = {}
        for row in _rows(data.periods.sort_values(["participant_id", "phase"])):
            first, last = _date(row["start"]), _date(row["end"])
            if first is None or last is None:
                continue
            phases.setdefault(str(row["participant_id"]), []).append(
                _Phase(
                    index=int(row["phase"]),
                    kind=str(row["kind"]),
                    period=None if pd.isna(row["period"]) else int(row["period"]),
                    arm=None if pd.isna(row["arm"]) else str(row["arm"]),
                    condition=str(row["condition"]),
                    start=first,
                    end=last,
                )
            )
        last_entry = _last_dates(data)
        subjects: dict[str, _Subject] = {}
        for row in _rows(data.participants):
            pid = str(row["participant_id"])
            own = tuple(phases.get(pid, ()))
            withdrawn = _date(row["withdrawn_on"])
            if withdrawn is not None:
                end: dt.date | None = withdrawn
            elif str(row["status"]) == "completed" and own:
                end = own[-1].end
            else:
                end = last_entry.get(pid)
            subjects[pid] = _Subject(
                participant_id=pid,
                usubjid=self._usubjid(pid),
                start=_date(row["start_date"]) or dt.date.min,
                end=end,
                phases=own,
            )
        return subjects

    # -- the masked and unmasked treatments -------------------------------------------------

    def arm_code(self, sequence: tuple[str, ...]) -> str:
        code = "-".join(arm.upper() for arm in sequence)
        return code if len(code) <= ARMCD_LENGTH else self.protocol.sequence_code(sequence)

    def arm_name(self, sequence: tuple[str, ...]) -> str:
        return ", then ".join(self.protocol.arm(arm).name for arm in sequence)

    @property
    def masked_product(self) -> str:
        """What a blinded reader is told of the product: every arm's name, joined by OR."""
        return " OR ".join(arm.name.upper() for arm in self.protocol.arms)

    # -- the domains ------------------------------------------------------------------------

    def dm(self) -> SdtmDomain:
        exposure = self._exposure_rows()
        exposed: dict[str, tuple[dt.date, dt.date]] = {}
        for row in exposure:
            first, last = exposed.get(row["usubjid"], (row["start"], row["end"]))
            exposed[row["usubjid"]] = (min(first, row["start"]), max(last, row["end"]))
        rows = []
        for row in _rows(self.dataset.participants.sort_values("participant_id")):
            subject = self.subjects[str(row["participant_id"])]
            sequence = None if pd.isna(row["sequence"]) else str(row["sequence"])
            planned_code = planned_name = actual_code = actual_name = reason = None
            if sequence is None:
                reason = "NOT ASSIGNED"
            elif self.blinded:
                planned_code = planned_name = BLINDED_ARM
            else:
                allocated = tuple(sequence.split("-"))
                planned_code = self.arm_code(allocated)
                planned_name = self.arm_name(allocated)
            if sequence is not None:
                if subject.usubjid in exposed:
                    actual_code, actual_name = planned_code, planned_name
                else:
                    reason = "ASSIGNED, NOT TREATED"
            first_dose, last_dose = exposed.get(subject.usubjid, (None, None))
            age = None if pd.isna(row["age"]) else int(row["age"])
            rows.append(
                {
                    "STUDYID": self.studyid,
                    "DOMAIN": "DM",
                    "USUBJID": subject.usubjid,
                    "SUBJID": subject.participant_id,
                    "RFSTDTC": _iso(subject.start),
                    "RFENDTC": _iso(subject.end),
                    "RFXSTDTC": _iso(first_dose),
                    "RFXENDTC": _iso(last_dose),
                    "RFPENDTC": _iso(subject.end),
                    "SITEID": str(row["site"]),
                    "AGE": age,
                    "AGEU": None if age is None else "YEARS",
                    "ARMCD": planned_code,
                    "ARM": planned_name,
                    "ACTARMCD": actual_code,
                    "ACTARM": actual_name,
                    "ARMNRS": reason,
                }
            )
        arms: dict[str, str] = {}
        if self.blinded:
            arms[BLINDED_ARM] = BLINDED_ARM
        else:
            arms.update({self.arm_code(s): self.arm_name(s) for s in self.protocol.sequences})
        return _domain(
            "DM",
            "Demographics",
            "SPECIAL PURPOSE",
            "One record per subject",
            ("STUDYID", "USUBJID"),
            (
                *_identifiers("DM", sequence=False),
                Variable(
                    "SUBJID",
                    "Subject Identifier for the Study",
                    "text",
                    "Topic",
                    "Collected",
                    mandatory=True,
                ),
                Variable(
                    "RFSTDTC",
                    "Subject Reference Start Date/Time",
                    "date",
                    "Record Qualifier",
                    "Derived",
                    method="RFSTDTC",
                ),
                Variable(
                    "RFENDTC",
                    "Subject Reference End Date/Time",
                    "date",
                    "Record Qualifier",
                    "Derived",
                    method="RFENDTC",
                ),
                Variable(
                    "RFXSTDTC",
                    "Date/Time of First Study Treatment",
                    "date",
                    "Record Qualifier",
                    "Derived",
                    method="EXPOSURE",
                ),
                Variable(
                    "RFXENDTC",
                    "Date/Time of Last Study Treatment",
                    "date",
                    "Record Qualifier",
                    "Derived",
                    method="EXPOSURE",
                ),
                Variable(
                    "RFPENDTC",
                    "Date/Time of End of Participation",
                    "date",
                    "Record Qualifier",
                    "Derived",
                    method="RFENDTC",
                ),
                Variable(
                    "SITEID",
                    "Study Site Identifier",
                    "text",
                    "Record Qualifier",
                    "Assigned",
                    mandatory=True,
                ),
                Variable("AGE", "Age", "integer", "Record Qualifier", "Collected"),
                Variable(
                    "AGEU", "Age Units", "text", "Variable Qualifier", "Assigned", codelist="AGEU"
                ),
                Variable(
                    "ARMCD",
                    "Planned Arm Code",
                    "text",
                    "Record Qualifier",
                    "Assigned",
                    codelist="ARMCD",
                ),
                Variable(
                    "ARM", "Description of Planned Arm", "text", "Synonym Qualifier", "Assigned"
                ),
                Variable(
                    "ACTARMCD",
                    "Actual Arm Code",
                    "text",
                    "Record Qualifier",
                    "Derived",
                    codelist="ARMCD",
                    method="EXPOSURE",
                ),
                Variable(
                    "ACTARM",
                    "Description of Actual Arm",
                    "text",
                    "Synonym Qualifier",
                    "Derived",
                    method="EXPOSURE",
                ),
                Variable(
                    "ARMNRS",
                    "Reason Arm and/or Actual Arm is Null",
                    "text",
                    "Record Qualifier",
                    "Derived",
                    codelist="ARMNRS",
                    method="EXPOSURE",
                ),
            ),
            rows,
            sort=False,
            codelists=(
                Codelist("AGEU", "Age Unit", {"YEARS": ""}, nci_code="C66781"),
                Codelist("ARMCD", "Arm Code", arms),
                Codelist(
                    "ARMNRS",
                    "Reason Arm and/or Actual Arm is Null",
                    {"ASSIGNED, NOT TREATED": "", "NOT ASSIGNED": ""},
                    nci_code="C142179",
                ),
            ),
        )

    def se(self) -> SdtmDomain:
        elements: dict[str, str] = {}
        rows = []
        for subject in self._ordered_subjects():
            for phase in subject.phases:
                if subject.end is not None and phase.start > subject.end:
                    break
                end = phase.end if subject.end is None else min(phase.end, subject.end)
                code, element = self._element(phase)
                elements[code] = element
                rows.append(
                    {
                        "STUDYID": self.studyid,
                        "DOMAIN": "SE",
                        "USUBJID": subject.usubjid,
                        "ETCD": code,
                        "ELEMENT": element,
                        "TAETORD": phase.index + 1,
                        "EPOCH": phase.epoch,
                        "SESTDTC": _iso(phase.start),
                        "SEENDTC": _iso(end),
                        "SESTDY": subject.day(phase.start),
                        "SEENDY": subject.day(end),
                    }
                )
        return _domain(
            "SE",
            "Subject Elements",
            "SPECIAL PURPOSE",
            "One record per actual Element per subject",
            ("STUDYID", "USUBJID", "SESTDTC"),
            (
                *_identifiers("SE", sequence=True),
                Variable(
                    "ETCD",
                    "Element Code",
                    "text",
                    "Topic",
                    "Assigned",
                    mandatory=True,
                    codelist="ETCD",
                ),
                Variable(
                    "ELEMENT", "Description of Element", "text", "Synonym Qualifier", "Assigned"
                ),
                Variable(
                    "TAETORD",
                    "Planned Order of Element within Arm",
                    "integer",
                    "Timing",
                    "Assigned",
                ),
                _epoch(),
                Variable(
                    "SESTDTC",
                    "Start Date/Time of Element",
                    "date",
                    "Timing",
                    "Derived",
                    mandatory=True,
                    method="ELEMENT",
                ),
                Variable(
                    "SEENDTC",
                    "End Date/Time of Element",
                    "date",
                    "Timing",
                    "Derived",
                    method="ELEMENT",
                ),
                _day_variable("SESTDY", "Study Day of Start of Element"),
                _day_variable("SEENDY", "Study Day of End of Element"),
            ),
            rows,
            codelists=(Codelist("ETCD", "Element Code", elements),),
        )

    def _element(self, phase: _Phase) -> tuple[str, str]:
        if phase.kind == "baseline":
            return "BASELINE", "Baseline"
        if phase.kind == "washout":
            return "WASHOUT", "Washout"
        if phase.arm is None or self.blinded:
            return "BLINDTRT", "Blinded treatment"
        codes = short_names([arm.id for arm in self.protocol.arms], 8, upper=True)
        return codes[phase.arm], self.protocol.arm(phase.arm).name

    def sv(self) -> SdtmDomain:
        rows = []
        for subject in self._ordered_subjects():
            if not subject.phases:  # not randomized: no visit of the calendar
                continue
            for visit in self.calendar.visits:
                day = self.calendar.date_of(visit.treatment_day, subject.start)
                if subject.end is not None and day > subject.end:
                    break
                rows.append(
                    {
                        "STUDYID": self.studyid,
                        "DOMAIN": "SV",
                        "USUBJID": subject.usubjid,
                        "VISITNUM": visit.number,
                        "VISIT": _visit_name(visit.number),
                        "VISITDY": subject.day(day),
                        "SVSTDTC": _iso(day),
                        "SVENDTC": _iso(day),
                        "SVSTDY": subject.day(day),
                        "SVENDY": subject.day(day),
                    }
                )
        return _domain(
            "SV",
            "Subject Visits",
            "SPECIAL PURPOSE",
            "One record per subject per actual visit",
            ("STUDYID", "USUBJID", "VISITNUM"),
            (
                *_identifiers("SV", sequence=False),
                *_visit_variables(mandatory=True),
                Variable("VISITDY", "Planned Study Day of Visit", "integer", "Timing", "Protocol"),
                Variable(
                    "SVSTDTC",
                    "Start Date/Time of Visit",
                    "date",
                    "Timing",
                    "Derived",
                    method="VISITDATE",
                    comment="The planned day of the visit: the trial dataset does not "
                    "record the day a visit took place.",
                ),
                Variable(
                    "SVENDTC",
                    "End Date/Time of Visit",
                    "date",
                    "Timing",
                    "Derived",
                    method="VISITDATE",
                ),
                _day_variable("SVSTDY", "Study Day of Start of Visit"),
                _day_variable("SVENDY", "Study Day of End of Visit"),
            ),
            rows,
            codelists=(self._visit_codelist(),),
        )

    def _visit_codelist(self) -> Codelist:
        return Codelist(
            "VISITNUM",
            "Visit Number",
            {str(v.number): _visit_name(v.number) for v in self.calendar.visits},
            data_type="integer",
        )

    def _exposure_rows(self) -> list[dict[str, Any]]:
        """One row per kit stretch, phase and dose level of each participant's treatment."""
        levels = _dose_levels(self.dataset)
        washout_arm = (
            self.protocol.placebo_arms[0].id if self.protocol.blinding.washout_capsules else None
        )
        found: list[dict[str, Any]] = []
        for subject in self._ordered_subjects():
            changes = levels.get(subject.participant_id, [])
            runs: list[dict[str, Any]] = []
            for phase in subject.phases:
                arm = phase.arm if phase.kind == "treatment" else None
                if phase.kind == "washout":
                    arm = washout_arm
                    if arm is None:
                        continue
                elif phase.kind != "treatment":
                    continue
                day = phase.start
                last = phase.end if subject.end is None else min(phase.end, subject.end)
                while day <= last:
                    treatment_day = self.calendar.treatment_day_of(day, subject.start)
                    stretch = self.calendar.stretch_on(treatment_day)
                    level, reason = _level_on(changes, day)
                    key = (phase.index, None if stretch is None else stretch.number, level)
                    if runs and runs[-1]["key"] == key and runs[-1]["end"] == day - _ONE_DAY:
                        runs[-1]["end"] = day
                    else:
                        runs.append(
                            {
                                "key": key,
                                "usubjid": subject.usubjid,
                                "subject": subject,
                                "arm": arm,
                                "level": level,
                                "adjustment": reason
                                if reason and day in _starts(changes)
                                else None,
                                "visit": None if stretch is None else stretch.number,
                                "start": day,
                                "end": day,
                            }
                        )
                    day += _ONE_DAY
            found.extend(runs)
        return found

    def ex(self) -> SdtmDomain:
        rows = []
        for run in self._exposure_rows():
            subject: _Subject = run["subject"]
            level: str | None = run["level"]
            if self.blinded or run["arm"] is None:
                treatment = self.masked_product
                dose, dose_text, unit = None, _level_text(level), None
            else:
                arm = self.protocol.arm(run["arm"])
                treatment = arm.name.upper()
                dose = None if level is None else arm.dose_mg.get(level)
                dose_text = None if dose is not None else _level_text(level)
                unit = None if dose is None else "mg"
            rows.append(
                {
                    "STUDYID": self.studyid,
                    "DOMAIN": "EX",
                    "USUBJID": subject.usubjid,
                    "EXTRT": treatment,
                    "EXDOSE": dose,
                    "EXDOSTXT": dose_text,
                    "EXDOSU": unit,
                    "EXADJ": run["adjustment"],
                    "VISITNUM": run["visit"],
                    "VISIT": None if run["visit"] is None else _visit_name(run["visit"]),
                    "EPOCH": subject.epoch_on(run["start"]),
                    "EXSTDTC": _iso(run["start"]),
                    "EXENDTC": _iso(run["end"]),
                    "EXSTDY": subject.day(run["start"]),
                    "EXENDY": subject.day(run["end"]),
                }
            )
        return _domain(
            "EX",
            "Exposure",
            "INTERVENTIONS",
            "One record per kit, phase and dose level per subject",
            ("STUDYID", "USUBJID", "EXSTDTC"),
            (
                *_identifiers("EX", sequence=True),
                Variable(
                    "EXTRT",
                    "Name of Treatment",
                    "text",
                    "Topic",
                    "Derived",
                    mandatory=True,
                    method="EXPOSURE",
                ),
                Variable(
                    "EXDOSE",
                    "Dose",
                    "float",
                    "Record Qualifier",
                    "Protocol",
                    comment="The protocol's dose of the arm at the dose level; empty in a "
                    "blinded dataset, where EXDOSTXT gives the blinded dose level.",
                ),
                Variable(
                    "EXDOSTXT",
                    "Dose Description",
                    "text",
                    "Record Qualifier",
                    "Collected",
                    source="Investigator",
                ),
                Variable(
                    "EXDOSU",
                    "Dose Units",
                    "text",
                    "Variable Qualifier",
                    "Protocol",
                    codelist="UNIT",
                ),
                Variable(
                    "EXADJ",
                    "Reason for Dose Adjustment",
                    "text",
                    "Record Qualifier",
                    "Collected",
                    source="Investigator",
                ),
                *_visit_variables(mandatory=False),
                _epoch(),
                Variable(
                    "EXSTDTC",
                    "Start Date/Time of Treatment",
                    "date",
                    "Timing",
                    "Derived",
                    method="EXPOSURE",
                ),
                Variable(
                    "EXENDTC",
                    "End Date/Time of Treatment",
                    "date",
                    "Timing",
                    "Derived",
                    method="EXPOSURE",
                ),
                _day_variable("EXSTDY", "Study Day of Start of Treatment"),
                _day_variable("EXENDY", "Study Day of End of Treatment"),
            ),
            rows,
            codelists=(
                Codelist("UNIT", "Unit", {"mg": ""}, nci_code="C71620"),
                self._visit_codelist(),
            ),
        )

    def qs(self) -> SdtmDomain:
        protocol = self.protocol
        items = protocol.diary.items
        effects = protocol.diary.side_effects
        codes = short_names(
            [PGIC_TESTCD, BLINDING_TESTCD, *(i.id for i in items), *(e.id for e in effects)],
            TESTCD_LENGTH,
            upper=True,
        )
        tests = {codes[PGIC_TESTCD]: "PGIC", codes[BLINDING_TESTCD]: "Guess of Treatment Taken"}
        tests.update({codes[item.id]: cut(item.label, TEST_LENGTH) for item in items})
        tests.update({codes[e.id]: cut(f"{e.label}: Unpleasantness", TEST_LENGTH) for e in effects})
        rows: list[dict[str, Any]] = []

        def add(
            pid: str,
            category: str,
            testcd: str,
            original: str,
            numeric: float | None,
            day: dt.date | None,
            visit: int | None = None,
            standard: str | None = None,
        ) -> None:
            subject = self.subjects[pid]
            rows.append(
                {
                    "STUDYID": self.studyid,
                    "DOMAIN": "QS",
                    "USUBJID": subject.usubjid,
                    "QSTESTCD": testcd,
                    "QSTEST": tests[testcd],
                    "QSCAT": category,
                    "QSORRES": original,
                    "QSSTRESC": original if standard is None else standard,
                    "QSSTRESN": numeric,
                    "VISITNUM": visit,
                    "VISIT": None if visit is None else _visit_name(visit),
                    "EPOCH": subject.epoch_on(day),
                    "QSDTC": _iso(day),
                    "QSDY": subject.day(day),
                }
            )

        data = self.dataset
        for row in _rows(data.diary):
            value = float(row["value"])
            add(
                str(row["participant_id"]),
                QS_DIARY,
                codes[str(row["item"])],
                f"{value:g}",
                value,
                _date(row["diary_date"]),
            )
        for row in _rows(data.side_effects):
            add(
                str(row["participant_id"]),
                QS_SIDE_EFFECTS,
                codes[str(row["side_effect"])],
                UNPLEASANTNESS[str(row["unpleasantness"])],
                None,
                _date(row["diary_date"]),
            )
        for row in _rows(data.pgic):
            score = int(row["score"])
            label = PGIC_LABELS[score - 1].upper() if 1 <= score <= len(PGIC_LABELS) else ""
            add(
                str(row["participant_id"]),
                QS_PGIC,
                codes[PGIC_TESTCD],
                label or str(score),
                float(score),
                _date(row["answered_on"]),
                int(row["visit"]),
                standard=str(score),
            )
        for row in _rows(data.blinding):
            add(
                str(row["participant_id"]),
                QS_BLINDING,
                codes[BLINDING_TESTCD],
                GUESS[str(row["guess"])],
                None,
                _date(row["answered_on"]),
                int(row["visit"]),
            )
        categories = (QS_DIARY, QS_SIDE_EFFECTS, QS_PGIC, QS_BLINDING)
        return _domain(
            "QS",
            "Questionnaires",
            "FINDINGS",
            "One record per questionnaire per question per time point per subject",
            ("STUDYID", "USUBJID", "QSCAT", "QSTESTCD", "QSDTC"),
            (
                *_identifiers("QS", sequence=True),
                Variable(
                    "QSTESTCD",
                    "Question Short Name",
                    "text",
                    "Topic",
                    "Assigned",
                    mandatory=True,
                    codelist="QSTESTCD",
                ),
                Variable(
                    "QSTEST",
                    "Question Name",
                    "text",
                    "Synonym Qualifier",
                    "Assigned",
                    mandatory=True,
                    codelist="QSTEST",
                ),
                Variable(
                    "QSCAT",
                    "Category of Question",
                    "text",
                    "Grouping Qualifier",
                    "Assigned",
                    codelist="QSCAT",
                ),
                Variable(
                    "QSORRES", "Finding in Original Units", "text", "Result Qualifier", "Collected"
                ),
                Variable(
                    "QSSTRESC",
                    "Character Result/Finding in Std Format",
                    "text",
                    "Result Qualifier",
                    "Derived",
                    method="QSSTRES",
                ),
                Variable(
                    "QSSTRESN",
                    "Numeric Finding in Standard Units",
                    "float",
                    "Result Qualifier",
                    "Derived",
                    method="QSSTRES",
                ),
                *_visit_variables(mandatory=False),
                _epoch(),
                Variable("QSDTC", "Date/Time of Finding", "date", "Timing", "Collected"),
                _day_variable("QSDY", "Study Day of Finding"),
            ),
            rows,
            codelists=(
                Codelist("QSTESTCD", "Question Short Name", tests),
                Codelist("QSTEST", "Question Name", {v: "" for v in tests.values()}),
                Codelist("QSCAT", "Category of Questionnaire", {c: "" for c in categories}),
                self._visit_codelist(),
            ),
        )

    def ae(self) -> SdtmDomain:
        rows = []
        for row in _rows(self.dataset.adverse_events):
            subject = self.subjects[str(row["participant_id"])]
            onset, end = _date(row["onset_date"]), _date(row["end_date"])
            rows.append(
                {
                    "STUDYID": self.studyid,
                    "DOMAIN": "AE",
                    "USUBJID": subject.usubjid,
                    "AESPID": str(row["ae_id"]),
                    "AETERM": str(row["term"]),
                    "AEDECOD": str(row["term"]),
                    "AEPRESP": None if pd.isna(row["side_effect"]) else "Y",
                    "AESEV": SEVERITY[str(row["severity"])],
                    "AESER": "Y" if bool(row["serious"]) else "N",
                    "AEACN": ACTION[str(row["action"])],
                    "AEREL": RELATEDNESS[str(row["related"])],
                    "AEOUT": OUTCOME[str(row["outcome"])],
                    "EPOCH": subject.epoch_on(onset),
                    "AESTDTC": _iso(onset),
                    "AEENDTC": _iso(end),
                    "AESTDY": subject.day(onset),
                    "AEENDY": subject.day(end),
                }
            )
        return _domain(
            "AE",
            "Adverse Events",
            "EVENTS",
            "One record per adverse event per subject",
            ("STUDYID", "USUBJID", "AEDECOD", "AESTDTC"),
            (
                *_identifiers("AE", sequence=True),
                Variable("AESPID", "Sponsor-Defined Identifier", "text", "Identifier", "Assigned"),
                Variable(
                    "AETERM",
                    "Reported Term for the Adverse Event",
                    "text",
                    "Topic",
                    "Collected",
                    mandatory=True,
                    source="Investigator",
                ),
                Variable(
                    "AEDECOD",
                    "Dictionary-Derived Term",
                    "text",
                    "Synonym Qualifier",
                    "Assigned",
                    mandatory=True,
                    comment="A copy of AETERM: the events are not coded with MedDRA, so "
                    "AEDECOD is not a dictionary term and AEBODSYS and the other "
                    "MedDRA levels are absent.",
                ),
                Variable(
                    "AEPRESP",
                    "Pre-Specified Adverse Event",
                    "text",
                    "Variable Qualifier",
                    "Protocol",
                    codelist="NY",
                ),
                Variable(
                    "AESEV",
                    "Severity/Intensity",
                    "text",
                    "Record Qualifier",
                    "Collected",
                    source="Investigator",
                    codelist="AESEV",
                ),
                Variable(
                    "AESER", "Serious Event", "text", "Record Qualifier", "Collected", codelist="NY"
                ),
                Variable(
                    "AEACN",
                    "Action Taken with Study Treatment",
                    "text",
                    "Record Qualifier",
                    "Collected",
                    source="Investigator",
                    codelist="ACN",
                ),
                Variable(
                    "AEREL", "Causality", "text", "Record Qualifier", "Collected", codelist="AEREL"
                ),
                Variable(
                    "AEOUT",
                    "Outcome of Adverse Event",
                    "text",
                    "Record Qualifier",
                    "Collected",
                    source="Investigator",
                    codelist="OUT",
                ),
                _epoch(),
                Variable(
                    "AESTDTC",
                    "Start Date/Time of Adverse Event",
                    "date",
                    "Timing",
                    "Collected",
                    source="Investigator",
                ),
                Variable(
                    "AEENDTC",
                    "End Date/Time of Adverse Event",
                    "date",
                    "Timing",
                    "Collected",
                    source="Investigator",
                ),
                _day_variable("AESTDY", "Study Day of Start of Adverse Event"),
                _day_variable("AEENDY", "Study Day of End of Adverse Event"),
            ),
            rows,
            codelists=(
                Codelist("NY", "No Yes Response", {"N": "No", "Y": "Yes"}, nci_code="C66742"),
                Codelist(
                    "AESEV",
                    "Severity/Intensity Scale for Adverse Events",
                    {v: "" for v in SEVERITY.values()},
                    nci_code="C66769",
                ),
                Codelist(
                    "ACN",
                    "Action Taken with Study Treatment",
                    {v: "" for v in ACTION.values()},
                    nci_code="C66767",
                ),
                Codelist("AEREL", "Causality", {v: "" for v in RELATEDNESS.values()}),
                Codelist(
                    "OUT", "Outcome of Event", {v: "" for v in OUTCOME.values()}, nci_code="C66768"
                ),
            ),
        )

    def ds(self) -> SdtmDomain:
        rows = []
        for row in _rows(self.dataset.participants.sort_values("participant_id")):
            subject = self.subjects[str(row["participant_id"])]
            events: list[tuple[str, str, str, dt.date | None]] = []
            randomized = _date(row["randomized_on"])
            if randomized is not None:
                events.append(("PROTOCOL MILESTONE", "RANDOMIZED", "RANDOMIZED", randomized))
            status = str(row["status"])
            if status == "withdrawn":
                reason = (
                    None if pd.isna(row["withdrawal_reason"]) else str(row["withdrawal_reason"])
                )
                term = reason or "WITHDRAWN"
                decode = term.upper() if term.upper() in NOT_COMPLETED else "OTHER"
                events.append(("DISPOSITION EVENT", term, decode, _date(row["withdrawn_on"])))
            elif status == "completed":
                events.append(("DISPOSITION EVENT", "COMPLETED", "COMPLETED", subject.end))
            for category, term, decode, day in events:
                rows.append(
                    {
                        "STUDYID": self.studyid,
                        "DOMAIN": "DS",
                        "USUBJID": subject.usubjid,
                        "DSTERM": term,
                        "DSDECOD": decode,
                        "DSCAT": category,
                        "EPOCH": subject.epoch_on(day),
                        "DSSTDTC": _iso(day),
                        "DSSTDY": subject.day(day),
                    }
                )
        return _domain(
            "DS",
            "Disposition",
            "EVENTS",
            "One record per disposition status or protocol milestone per subject",
            ("STUDYID", "USUBJID", "DSSTDTC", "DSDECOD"),
            (
                *_identifiers("DS", sequence=True),
                Variable(
                    "DSTERM",
                    "Reported Term for the Disposition Event",
                    "text",
                    "Topic",
                    "Collected",
                    mandatory=True,
                    source="Investigator",
                ),
                Variable(
                    "DSDECOD",
                    "Standardized Disposition Term",
                    "text",
                    "Synonym Qualifier",
                    "Assigned",
                    mandatory=True,
                    codelist="DSDECOD",
                    comment="A withdrawal reason spelled as a term of the NCOMPLT "
                    "codelist is that term; any other reason is OTHER (DSTERM keeps it).",
                ),
                Variable(
                    "DSCAT",
                    "Category for Disposition Event",
                    "text",
                    "Grouping Qualifier",
                    "Assigned",
                    codelist="DSCAT",
                ),
                _epoch(),
                Variable(
                    "DSSTDTC",
                    "Start Date/Time of Disposition Event",
                    "date",
                    "Timing",
                    "Collected",
                    source="Investigator",
                ),
                _day_variable("DSSTDY", "Study Day of Start of Disposition Event"),
            ),
            rows,
            codelists=(
                Codelist(
                    "DSDECOD",
                    "Standardized Disposition Term",
                    {v: "" for v in ("COMPLETED", *NOT_COMPLETED, "OTHER", "RANDOMIZED")},
                ),
                Codelist(
                    "DSCAT",
                    "Category for Disposition Event",
                    {"DISPOSITION EVENT": "", "PROTOCOL MILESTONE": ""},
                    nci_code="C74558",
                ),
            ),
        )

    def _ordered_subjects(self) -> list[_Subject]:
        return [self.subjects[pid] for pid in sorted(self.subjects)]


_ONE_DAY = dt.timedelta(days=1)


def _visit_name(number: int) -> str:
    return f"VISIT {number}"


def _level_text(level: str | None) -> str | None:
    return None if level is None else f"{level.upper()} DOSE LEVEL"


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of `frame` as dictionaries of column name to value."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _last_dates(dataset: TrialDataset) -> dict[str, dt.date]:
    """Each participant's last diary date, the latest date the dataset has for them."""
    diary = dataset.diary
    if diary.empty:
        return {}
    last = diary.groupby(diary["participant_id"].astype(str), observed=True)["diary_date"].max()
    return {str(pid): d for pid, value in last.items() if (d := _date(value)) is not None}


def _dose_levels(dataset: TrialDataset) -> dict[str, list[tuple[dt.date, str, str]]]:
    """Each participant's dose levels as (effective from, level, reason), by date."""
    found: dict[str, list[tuple[dt.date, str, str]]] = {}
    for row in _rows(dataset.doses.sort_values(["participant_id", "effective_on"])):
        day = _date(row["effective_on"])
        if day is not None:
            found.setdefault(str(row["participant_id"]), []).append(
                (day, str(row["dose_level"]), str(row["reason"]))
            )
    return found


def _level_on(
    changes: Sequence[tuple[dt.date, str, str]], day: dt.date
) -> tuple[str | None, str | None]:
    """The dose level in force on `day` and why it was set; (None, None) before the first."""
    k = bisect.bisect_right([c[0] for c in changes], day) - 1
    if k < 0:
        return None, None
    _, level, reason = changes[k]
    return level, (None if reason == "start" else reason)


def _starts(changes: Iterable[tuple[dt.date, str, str]]) -> set[dt.date]:
    return {change[0] for change in changes}


def _identifiers(domain: str, *, sequence: bool) -> tuple[Variable, ...]:
    found = [
        Variable("STUDYID", "Study Identifier", "text", "Identifier", "Protocol", True),
        Variable("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Assigned", True),
        Variable(
            "USUBJID",
            "Unique Subject Identifier",
            "text",
            "Identifier",
            "Derived",
            True,
            method="USUBJID",
        ),
    ]
    if sequence:
        found.append(
            Variable(
                f"{domain}SEQ",
                "Sequence Number",
                "integer",
                "Identifier",
                "Derived",
                True,
                method="SEQ",
            )
        )
    return tuple(found)


def _visit_variables(*, mandatory: bool) -> tuple[Variable, ...]:
    return (
        Variable(
            "VISITNUM",
            "Visit Number",
            "integer",
            "Timing",
            "Protocol",
            mandatory,
            codelist="VISITNUM",
        ),
        Variable("VISIT", "Visit Name", "text", "Timing", "Protocol"),
    )


def _epoch() -> Variable:
    return Variable("EPOCH", "Epoch", "text", "Timing", "Derived", codelist="EPOCH", method="EPOCH")


def _day_variable(name: str, label: str) -> Variable:
    return Variable(name, label, "integer", "Timing", "Derived", method="DY")


_PANDAS_DTYPES: dict[DataType, str] = {
    "text": "string",
    "date": "string",
    "integer": "Int64",
    "float": "float64",
}


def _domain(
    name: str,
    label: str,
    domain_class: str,
    structure: str,
    keys: tuple[str, ...],
    variables: tuple[Variable, ...],
    rows: list[dict[str, Any]],
    *,
    codelists: tuple[Codelist, ...] = (),
    sort: bool = True,
) -> SdtmDomain:
    """The domain's frame: its variables in order, typed, sorted by its keys, --SEQ numbered."""
    names = [v.name for v in variables]
    frame = pd.DataFrame(rows, columns=[n for n in names if n != f"{name}SEQ"])
    if sort and len(frame):
        frame = frame.sort_values([k for k in keys if k in frame], kind="stable")
    frame = frame.reset_index(drop=True)
    if f"{name}SEQ" in names:
        frame[f"{name}SEQ"] = frame.groupby("USUBJID", sort=False).cumcount() + 1
    frame = frame[names]
    for variable in variables:
        frame[variable.name] = _typed(frame[variable.name], variable.type)
    epochs = sorted({str(v) for v in frame["EPOCH"].dropna()}) if "EPOCH" in frame else []
    found = {c.id: c for c in codelists}
    if epochs:
        found["EPOCH"] = Codelist(
            "EPOCH",
            "Epoch",
            {e: "" for e in epochs},
            nci_code="C99079",
            extended=frozenset(e for e in epochs if re.fullmatch(r"TREATMENT \d+", e)),
        )
    return SdtmDomain(
        name=name,
        label=label,
        domain_class=domain_class,
        structure=structure,
        keys=keys,
        variables=variables,
        frame=frame,
        codelists={
            v.codelist: found[v.codelist]
            for v in variables
            if v.codelist is not None and v.codelist in found
        },
    )


def _typed(series: pd.Series, data_type: DataType) -> pd.Series:
    values: list[Any] = [None if v is None or pd.isna(v) else v for v in series]
    convert: Callable[[Any], Any] = {"integer": int, "float": float}.get(data_type, str)
    return pd.Series(
        [None if v is None else convert(v) for v in values],
        dtype=_PANDAS_DTYPES[data_type],
        index=series.index,
    )


DOMAIN_ORDER = ("DM", "SE", "SV", "EX", "QS", "AE", "DS")


def sdtm_domains(dataset: TrialDataset) -> list[SdtmDomain]:
    """The SDTM domains of `dataset` (DM, SE, SV, EX, QS, AE, DS), in that order."""
    builder = _Builder(dataset)
    return [
        builder.dm(),
        builder.se(),
        builder.sv(),
        builder.ex(),
        builder.qs(),
        builder.ae(),
        builder.ds(),
    ]


_TESTCD = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")


def valid_testcd(code: str) -> bool:
    """True for an SDTM test code: up to 8 letters, digits or '_', starting with a letter."""
    return bool(_TESTCD.match(code))
