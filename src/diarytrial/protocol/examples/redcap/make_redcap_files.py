"""Make the synthetic REDCap files of this folder, as a REDCap project would export them.

A seeded simulation of the LDN fibromyalgia trial (``diarytrial simulate``: 12 participants,
the protocol's schedule, a drug effect like the published one) is written in REDCap's
formats: the project's data dictionary, and its records as the raw and the labels CSV
exports, for two project designs:

- ``repeating-*.csv``: a classic project whose nightly diary, end-of-visit questions, dose
  changes and adverse events are repeating instruments;
- ``longitudinal-*.csv``: a longitudinal project with one arm per randomization group, an
  event per night (``night_15_arm_1``) and per visit (``visit_2_arm_1``), and the dose changes
  and adverse events as repeating instruments of a ``safety`` event.

The same seed always gives the same bytes. Run it from the repository's root:

    python examples/redcap/make_redcap_files.py [--out FOLDER]
"""

from __future__ import annotations

import argparse
import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from diarytrial.dataset import TrialDataset
from diarytrial.protocol import PGIC_LABELS, load_protocol
from diarytrial.simulate import simulate_trial

HERE = Path(__file__).resolve().parent
PROTOCOL = HERE.parent / "ldn-fibromyalgia.toml"
SEED = 3
"""A seed whose 12 simulated participants show figures close to the published trial's
(pain 29% better on LDN, 21% on placebo; responders 3 of 11 against 1 of 12)."""
PARTICIPANTS = 12
SERVER_TIMEZONE = ZoneInfo("America/Los_Angeles")
"""The REDCap server's zone: survey timestamps are written in its local time."""

SITES = {"stanford": ("1", "Stanford University")}
GROUPS = {"ldn-placebo": ("1", "Group A"), "placebo-ldn": ("2", "Group B")}
STATUS = {"completed": ("1", "Completed"), "withdrawn": ("2", "Withdrawn")}
EFFECTS = ("vivid_dreams", "headache", "nausea", "diarrhea", "anxiety", "insomnia")
EFFECT_LABELS = ("Vivid dreams", "Headache", "Nausea", "Diarrhea", "Anxiety", "Insomnia")
UNPLEASANT = (("0", "Not at all"), ("1", "Somewhat"), ("2", "Very"))
UNPLEASANT_CODES = {"not_at_all": "0", "somewhat": "1", "very": "2"}
GUESS = {"drug": "1", "placebo": "2", "dont_know": "3"}
LEVELS = {"reduced": "1", "standard": "2"}
SEVERITY = ("mild", "moderate", "severe")
RELATED = ("not_related", "unlikely", "possible", "probable", "definite")
ACTION = ("none", "dose_reduced", "interrupted", "withdrawn")
OUTCOME = ("recovered", "recovering", "not_recovered", "unknown")

DICTIONARY_HEADER = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)


@dataclass(frozen=True)
class Field:
    """One row of the data dictionary."""

    name: str
    form: str
    type: str
    label: str
    choices: tuple[tuple[str, str], ...] = ()
    validation: str = ""
    low: str = ""
    high: str = ""
    branching: str = ""
    slider: str = ""
    identifier: bool = False

    def row(self) -> list[str]:
        choices = self.slider or " | ".join(f"{code}, {label}" for code, label in self.choices)
        return [
            self.name,
            self.form,
            "",
            self.type,
            self.label,
            choices,
            "",
            self.validation,
            self.low,
            self.high,
            "y" if self.identifier else "",
            self.branching,
            "",
            "",
            "",
            "",
            "",
            "",
        ]

    def columns(self) -> list[tuple[str, str]]:
        """(raw header, labels header) of its export columns."""
        if self.type == "checkbox":
            return [
                (f"{self.name}___{code}", f"{self.plain_label} (choice={label})")
                for code, label in self.choices
            ]
        return [(self.name, self.plain_label)]

    @property
    def plain_label(self) -> str:
        """The label as the labels export heads its column: without its HTML tags."""
        return re.sub(r"<[^>]*>", "", self.label)


def _numbered(labels: Iterable[str]) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), label) for k, label in enumerate(labels, start=1))


SLIDER = "number"
FIELDS: tuple[Field, ...] = (
    Field("record_id", "enrolment", "text", "Record ID"),
    Field("site", "enrolment", "dropdown", "Site", tuple(SITES.values())),
    Field("baseline_start", "enrolment", "text", "First baseline day", validation="date_ymd"),
    Field("age", "enrolment", "text", "Age (years)", validation="integer", low="18"),
    Field("opioid_use", "enrolment", "yesno", "Takes opioids for pain"),
    Field("rand_date", "randomization", "text", "Date of randomization", validation="date_ymd"),
    Field("rand_group", "randomization", "radio", "Randomization group", tuple(GROUPS.values())),
    Field("study_status", "study_completion", "radio", "Study status", tuple(STATUS.values())),
    Field(
        "withdrawal_date",
        "study_completion",
        "text",
        "Date of withdrawal",
        validation="date_ymd",
        branching="[study_status] = '2'",
    ),
    Field(
        "withdrawal_reason",
        "study_completion",
        "notes",
        "Reason for withdrawal",
        branching="[study_status] = '2'",
    ),
    Field("diary_date", "nightly_diary", "text", "Diary date (tonight)", validation="date_ymd"),
    Field(
        "pain",
        "nightly_diary",
        "slider",
        "<b>Pain</b>: how much pain did you feel today, on average?",
        validation=SLIDER,
        slider="No pain | | Worst pain imaginable",
    ),
    Field(
        "fatigue",
        "nightly_diary",
        "slider",
        "<b>Fatigue</b>: how tired or fatigued did you feel today?",
        validation=SLIDER,
        slider="Not tired at all | | Completely exhausted",
    ),
    Field(
        "sleep",
        "nightly_diary",
        "slider",
        "<b>Sleep quality</b>: how well did you sleep last night?",
        validation=SLIDER,
        slider="Very poorly | | Very well",
    ),
    Field(
        "mood",
        "nightly_diary",
        "slider",
        "<b>Mood</b>: how was your mood today?",
        validation=SLIDER,
        slider="Very low | | Very good",
    ),
    Field(
        "activity",
        "nightly_diary",
        "text",
        "<b>Physical activity</b> (0 = not active at all, 10 = as active as I wanted)",
        validation="number_1dp",
        low="0",
        high="10",
    ),
    Field(
        "satisfaction",
        "nightly_diary",
        "slider",
        "<b>Life satisfaction</b>: how satisfied were you with your life today?",
        validation=SLIDER,
        slider="Not at all satisfied | | Completely satisfied",
    ),
    Field(
        "side_effects",
        "nightly_diary",
        "checkbox",
        "Did you have any of these today?",
        _numbered(EFFECT_LABELS),
    ),
    *(
        Field(
            f"unpleasant_{k}",
            "nightly_diary",
            "radio",
            f"How unpleasant was it? ({label})",
            UNPLEASANT,
            branching=f"[side_effects({k})] = '1'",
        )
        for k, label in enumerate(EFFECT_LABELS, start=1)
    ),
    Field(
        "visit_number",
        "end_of_visit",
        "dropdown",
        "Visit",
        tuple((str(v), f"Visit {v}") for v in range(2, 7)),
    ),
    Field("visit_date", "end_of_visit", "text", "Date of the visit", validation="date_ymd"),
    Field(
        "pgic",
        "end_of_visit",
        "radio",
        "Since the last visit, how would you describe the change in your overall condition?",
        _numbered(PGIC_LABELS),
    ),
    Field(
        "blind_guess",
        "end_of_visit",
        "radio",
        "What do you think you took since the last visit?",
        (("1", "The study drug"), ("2", "Placebo"), ("3", "I don't know")),
    ),
    Field("dose_date", "dose_change", "text", "Effective from", validation="date_ymd"),
    Field(
        "dose_level",
        "dose_change",
        "radio",
        "Dose level",
        (("1", "Level 1 (reduced)"), ("2", "Level 2 (standard)")),
    ),
    Field("dose_reason", "dose_change", "text", "Reason"),
    Field("ae_term", "adverse_event", "text", "Adverse event (reported term)"),
    Field(
        "ae_checklist",
        "adverse_event",
        "dropdown",
        "Listed side effect, if it is one",
        _numbered(EFFECT_LABELS),
    ),
    Field("ae_onset", "adverse_event", "text", "Onset", validation="date_ymd"),
    Field("ae_end", "adverse_event", "text", "End", validation="date_ymd"),
    Field(
        "ae_severity",
        "adverse_event",
        "radio",
        "Severity",
        _numbered(("Mild", "Moderate", "Severe")),
    ),
    Field("ae_serious", "adverse_event", "yesno", "Serious adverse event"),
    Field(
        "ae_related",
        "adverse_event",
        "radio",
        "Related to the study medication",
        _numbered(("Not related", "Unlikely", "Possible", "Probable", "Definite")),
    ),
    Field(
        "ae_action",
        "adverse_event",
        "radio",
        "Action taken",
        _numbered(("None", "Dose reduced", "Interrupted", "Withdrawn")),
    ),
    Field(
        "ae_outcome",
        "adverse_event",
        "radio",
        "Outcome",
        _numbered(("Recovered", "Recovering", "Not recovered", "Unknown")),
    ),
)
FORMS = (
    "enrolment",
    "randomization",
    "study_completion",
    "nightly_diary",
    "end_of_visit",
    "dose_change",
    "adverse_event",
)
FORM_LABELS = {
    "enrolment": "Enrolment",
    "randomization": "Randomization",
    "study_completion": "Study Completion",
    "nightly_diary": "Nightly Diary",
    "end_of_visit": "End Of Visit",
    "dose_change": "Dose Change",
    "adverse_event": "Adverse Event",
}
SURVEYS = ("nightly_diary",)
"""Forms filled as surveys: the export has their survey timestamp."""
BY_NAME = {f.name: f for f in FIELDS}


@dataclass(frozen=True)
class Row:
    """One row of the records export: a record, its event, its repeat instance, its values."""

    record: str
    event: tuple[str, str, int] | None  # (event prefix, event label, arm)
    instrument: str
    instance: int | None
    form_values: dict[str, dict[str, str]]  # form -> raw value of each of its columns


def _date(value: Any) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _timestamp(value: Any) -> str:
    local = pd.Timestamp(value).to_pydatetime().astimezone(SERVER_TIMEZONE)
    return local.strftime("%Y-%m-%d %H:%M:%S")


def _activity(value: float) -> str:
    return f"{value / 10:.1f}"


def participant_forms(dataset: TrialDataset, record: str) -> dict[str, dict[str, str]]:
    """The record's values on its single forms: enrolment, randomization, completion."""
    p = dataset.participants
    person = p[p["participant_id"].astype(str) == record].iloc[0]
    withdrawn = person["status"] == "withdrawn"
    return {
        "enrolment": {
            "record_id": record,
            "site": SITES[str(person["site"])][0],
            "baseline_start": _date(person["start_date"]),
            "age": str(int(person["age"])),
            "opioid_use": "1" if person["opioid_use"] else "0",
        },
        "randomization": {
            "rand_date": _date(person["randomized_on"]),
            "rand_group": GROUPS[str(person["sequence"])][0],
        },
        "study_completion": {
            "study_status": STATUS[str(person["status"])][0],
            "withdrawal_date": _date(person["withdrawn_on"]) if withdrawn else "",
            "withdrawal_reason": str(person["withdrawal_reason"]) if withdrawn else "",
        },
    }


def diary_forms(dataset: TrialDataset, record: str) -> list[tuple[dt.date, dict[str, str]]]:
    """The record's nightly diaries, in date order: (date, the form's raw values)."""
    diary = dataset.diary[dataset.diary["participant_id"].astype(str) == record]
    effects = dataset.side_effects[dataset.side_effects["participant_id"].astype(str) == record]
    nights: dict[dt.date, dict[str, str]] = {}
    for day, rows in diary.groupby("diary_date", sort=True):
        values = {"diary_date": _date(day)}
        values["nightly_diary_timestamp"] = _timestamp(rows["submitted_at"].iloc[0])
        for item, value in zip(rows["item"].astype(str), rows["value"], strict=True):
            values[item] = _activity(value) if item == "activity" else f"{value:g}"
        nights[pd.Timestamp(day).date()] = values  # type: ignore[arg-type]
    for day, effect, level in zip(
        effects["diary_date"], effects["side_effect"], effects["unpleasantness"], strict=True
    ):
        values = nights.setdefault(pd.Timestamp(day).date(), {"diary_date": _date(day)})
        k = EFFECTS.index(str(effect)) + 1
        values[f"side_effects___{k}"] = "1"
        values[f"unpleasant_{k}"] = UNPLEASANT_CODES[str(level)]
    for values in nights.values():
        for k in range(1, len(EFFECTS) + 1):
            values.setdefault(f"side_effects___{k}", "0")
    return sorted(nights.items())


def visit_forms(dataset: TrialDataset, record: str) -> list[tuple[int, dict[str, str]]]:
    """The record's end-of-visit answers: (visit, the form's raw values)."""
    pgic = dataset.pgic[dataset.pgic["participant_id"].astype(str) == record]
    guesses = dataset.blinding[dataset.blinding["participant_id"].astype(str) == record]
    visits: dict[int, dict[str, str]] = {}
    for visit, day, score in zip(pgic["visit"], pgic["answered_on"], pgic["score"], strict=True):
        values = visits.setdefault(int(visit), {"visit_number": str(visit), "visit_date": ""})
        values["visit_date"] = _date(day)
        values["pgic"] = str(int(score))
    for visit, day, guess in zip(
        guesses["visit"], guesses["answered_on"], guesses["guess"], strict=True
    ):
        values = visits.setdefault(int(visit), {"visit_number": str(visit)})
        values["visit_date"] = _date(day)
        values["blind_guess"] = GUESS[str(guess)]
    return sorted(visits.items())


def dose_forms(dataset: TrialDataset, record: str) -> list[dict[str, str]]:
    doses = dataset.doses[dataset.doses["participant_id"].astype(str) == record]
    return [
        {"dose_date": _date(day), "dose_level": LEVELS[str(level)], "dose_reason": str(reason)}
        for day, level, reason in zip(
            doses["effective_on"], doses["dose_level"], doses["reason"], strict=True
        )
    ]


def adverse_event_forms(dataset: TrialDataset, record: str) -> list[dict[str, str]]:
    events = dataset.adverse_events
    events = events[events["participant_id"].astype(str) == record]
    forms = []
    for event in events.to_dict("records"):
        effect = event["side_effect"]
        forms.append(
            {
                "ae_term": str(event["term"]),
                "ae_checklist": "" if pd.isna(effect) else str(EFFECTS.index(effect) + 1),
                "ae_onset": _date(event["onset_date"]),
                "ae_end": _date(event["end_date"]),
                "ae_severity": str(SEVERITY.index(event["severity"]) + 1),
                "ae_serious": "1" if event["serious"] else "0",
                "ae_related": str(RELATED.index(event["related"]) + 1),
                "ae_action": str(ACTION.index(event["action"]) + 1),
                "ae_outcome": str(OUTCOME.index(event["outcome"]) + 1),
            }
        )
    return forms


def repeating_rows(dataset: TrialDataset) -> list[Row]:
    """The records of the classic project with repeating instruments."""
    rows: list[Row] = []
    for record in dataset.participants["participant_id"].astype(str):
        rows.append(Row(record, None, "", None, participant_forms(dataset, record)))
        repeats: list[tuple[str, list[dict[str, str]]]] = [
            ("nightly_diary", [values for _day, values in diary_forms(dataset, record)]),
            ("end_of_visit", [values for _visit, values in visit_forms(dataset, record)]),
            ("dose_change", dose_forms(dataset, record)),
            ("adverse_event", adverse_event_forms(dataset, record)),
        ]
        for form, instances in repeats:
            for k, values in enumerate(instances, start=1):
                rows.append(Row(record, None, form, k, {form: values}))
    return rows


def longitudinal_rows(dataset: TrialDataset) -> list[Row]:
    """The records of the longitudinal project: an arm per group, an event per night."""
    rows: list[Row] = []
    p = dataset.participants
    for record, sequence, start in zip(
        p["participant_id"].astype(str), p["sequence"], p["start_date"], strict=True
    ):
        arm = int(GROUPS[str(sequence)][0])
        first = pd.Timestamp(start).date()
        rows.append(
            Row(
                record,
                ("enrolment", "Enrolment", arm),
                "",
                None,
                participant_forms(dataset, record),
            )
        )
        for day, values in diary_forms(dataset, record):
            night = (day - first).days + 1
            event = (f"night_{night}", f"Night {night}", arm)
            rows.append(Row(record, event, "", None, {"nightly_diary": values}))
        for visit, values in visit_forms(dataset, record):
            event = (f"visit_{visit}", f"Visit {visit}", arm)
            rows.append(Row(record, event, "", None, {"end_of_visit": values}))
        safety = ("safety", "Safety", arm)
        for form, instances in (
            ("dose_change", dose_forms(dataset, record)),
            ("adverse_event", adverse_event_forms(dataset, record)),
        ):
            for k, values in enumerate(instances, start=1):
                rows.append(Row(record, safety, form, k, {form: values}))
    return rows


def _columns(longitudinal: bool) -> list[tuple[str, str, str]]:
    """(raw header, labels header, form) of every column, in REDCap's order."""
    columns = [("record_id", "Record ID", "enrolment")]
    if longitudinal:
        columns.append(("redcap_event_name", "Event Name", ""))
    columns += [
        ("redcap_repeat_instrument", "Repeat Instrument", ""),
        ("redcap_repeat_instance", "Repeat Instance", ""),
    ]
    for form in FORMS:
        if form in SURVEYS:
            columns.append((f"{form}_timestamp", "Survey Timestamp", form))
        for item in FIELDS[1:]:
            if item.form == form:
                columns += [(raw, label, form) for raw, label in item.columns()]
        columns.append((f"{form}_complete", "Complete?", form))
    return columns


def _label(raw: str, value: str) -> str:
    """The labels export's text of a raw value of column `raw`."""
    if not value:
        return value
    name, checkbox, _code = raw.partition("___")
    if checkbox:
        return "Checked" if value == "1" else "Unchecked"
    if raw.endswith("_complete"):
        return {"0": "Incomplete", "1": "Unverified", "2": "Complete"}[value]
    item = BY_NAME.get(name)
    if item is None:
        return value
    if item.type == "yesno":
        return "Yes" if value == "1" else "No"
    if item.choices:
        return dict(item.choices)[value]
    return value


ARM_NAMES = {int(code): name for code, name in GROUPS.values()}


def records_csv(rows: list[Row], *, longitudinal: bool, labels: bool) -> bytes:
    """The records export as REDCap writes it: raw codes or labels."""
    columns = _columns(longitudinal)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([label if labels else raw for raw, label, _form in columns])
    for row in rows:
        cells = []
        for raw, _label_text, form in columns:
            if raw == "record_id":
                value = row.record
            elif raw == "redcap_event_name" and row.event is not None:
                prefix, event_label, arm = row.event
                value = (
                    f"{event_label} (Arm {arm}: {ARM_NAMES[arm]})"
                    if labels
                    else f"{prefix}_arm_{arm}"
                )
            elif raw == "redcap_repeat_instrument":
                value = FORM_LABELS.get(row.instrument, "") if labels else row.instrument
            elif raw == "redcap_repeat_instance":
                value = "" if row.instance is None else str(row.instance)
            elif form in row.form_values:
                values = row.form_values[form]
                value = "2" if raw == f"{form}_complete" else values.get(raw, "")
                value = _label(raw, value) if labels else value
            else:
                value = ""
            cells.append(value)
        writer.writerow(cells)
    text = out.getvalue()
    # REDCap starts its CSV files with a byte-order mark, so that spreadsheets read UTF-8.
    return codecs.BOM_UTF8 + text.encode("utf-8") if labels else text.encode("utf-8")


def dictionary_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DICTIONARY_HEADER)
    for item in FIELDS:
        writer.writerow(item.row())
    return out.getvalue().encode("utf-8")


def make_files(out: Path) -> list[Path]:
    """Write the dictionary and the four records exports into `out`; return their paths."""
    dataset = simulate_trial(load_protocol(PROTOCOL), participants=PARTICIPANTS, seed=SEED)
    designs: dict[str, Callable[[TrialDataset], list[Row]]] = {
        "repeating": repeating_rows,
        "longitudinal": longitudinal_rows,
    }
    files = {"dictionary.csv": dictionary_csv()}
    for design, make_rows in designs.items():
        rows = make_rows(dataset)
        for export in ("raw", "labels"):
            files[f"{design}-{export}.csv"] = records_csv(
                rows, longitudinal=design == "longitudinal", labels=export == "labels"
            )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        (out / name).write_bytes(data)
        written.append(out / name)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write (default: here)")
    for path in make_files(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
