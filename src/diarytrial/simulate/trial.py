"""`simulate_trial`: a whole trial, from a protocol to the tidy trial dataset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from diarytrial.dataset.model import TrialDataset, empty_table
from diarytrial.dataset.tables import TABLES_BY_NAME
from diarytrial.protocol import ProtocolFile, make_schedule
from diarytrial.protocol.schema import Protocol
from diarytrial.simulate.course import simulate_course
from diarytrial.simulate.entries import WindowBounds, diary_rows, study_dates
from diarytrial.simulate.events import (
    adverse_event_rows,
    dose_rows,
    side_effect_rows,
    visit_answer_rows,
)
from diarytrial.simulate.parameters import DEFAULT_START, SimulationParameters
from diarytrial.simulate.people import People, SequenceDays, draw_people, sequence_days

CHUNK = 1000
"""Participants simulated together: bounds memory, and sets how often progress is reported."""

Progress = Callable[[int, int], None]
DateArray = npt.NDArray[np.datetime64]
IntArray = npt.NDArray[np.int64]


# Over 80 lines only through its docstring, the reference of every argument; the body is short.
def simulate_trial(
    protocol: ProtocolFile,
    *,
    participants: int,
    seed: int | np.random.Generator,
    parameters: SimulationParameters | None = None,
    start: dt.date = DEFAULT_START,
    progress: Progress | None = None,
    events: bool = True,
    items: Sequence[str] | None = None,
) -> TrialDataset:
    """Simulate a whole trial run under `protocol`.

    Each participant is enrolled on a date spread over the recruitment months, allocated a
    sequence by stratified permuted blocks, and fills the nightly diary inside the window in
    their time zone. Symptoms follow a random intercept per item (items correlated within a
    person), AR(1) day-to-day deviations with a within-person SD that differs between people,
    a placebo response in every treatment period, and a drug response that builds up over one
    to three months in a minority of strong responders. Days go missing (about 10%, more late in
    the trial and on bad days); side effects, blinded dose reductions, adverse events,
    withdrawals, the PGIC and the blinding guesses at the visits follow. The model is described
    in ``docs/simulation.md``.

    Parameters
    ----------
    protocol : ProtocolFile
        The validated protocol, e.g. ``load_example("ldn-fibromyalgia")``.
    participants : int
        Number of randomized participants (>= 1).
    seed : int or numpy.random.Generator
        The same seed, parameters and protocol give the same dataset.
    parameters : SimulationParameters, optional
        Model parameters; the default reproduces the published LDN trial.
    start : datetime.date
        First day on which a participant can start baseline.
    progress : callable, optional
        Called as ``progress(done, total)`` with participant counts as the work goes on.
    events : bool
        False simulates the diaries only (no side effects, doses, adverse events, PGIC or guesses:
        those tables stay empty), which is all a power analysis needs; the diary is the same
        as with events, since the two are drawn from separate random streams.
    items : sequence of str, optional
        Keep only these items' answers in the diary (every item is still simulated, so the
        kept answers are those of a full run); default: all.

    Returns
    -------
    TrialDataset
        Every table of the trial dataset; `provenance` records the generator and the seed.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=31, seed=2013)
    >>> len(trial.participants), sorted(trial.participants["status"].unique())
    (31, ['completed', 'withdrawn'])
    >>> sorted(trial.participants["sequence"].unique())
    ['ldn-placebo', 'placebo-ldn']
    >>> bool(trial.diary["value"].between(0, 100).all())
    True
    """
    if isinstance(participants, bool) or participants < 1:
        raise ValueError(f"simulate at least 1 participant (got {participants})")
    p = parameters if parameters is not None else SimulationParameters()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    spec = protocol.protocol
    keep = _kept_items(spec, items)
    days = sequence_days(spec)
    # Separate streams per part of the model, so that changing, say, side-effect rates leaves
    # the symptom values (and with them the calibration) as they were.
    people_rng, symptom_rng, event_rng, entry_rng = rng.spawn(4)
    # The answers at visits that close no period, and the guesses, come from a stream of their
    # own, so that the diary, the events and the calibrated PGIC stay those of the same seed.
    (answer_rng,) = event_rng.spawn(1)
    people = draw_people(spec, days, participants, p, people_rng, start)
    streams = _Streams(symptom=symptom_rng, event=event_rng, entry=entry_rng, answer=answer_rng)
    frames = _simulate_groups(spec, days, people, p, streams, keep, events, progress)
    tables = _joined_tables(frames)
    return TrialDataset(
        protocol=protocol,
        participants=_participants(days, people, p.timezone),
        periods=_periods(spec, people),
        diary=tables["diary"],
        side_effects=tables["side_effects"],
        doses=tables["doses"],
        adverse_events=tables["adverse_events"],
        pgic=tables["pgic"],
        blinding=tables["blinding"],
        provenance={
            "generator": "diarytrial simulate",
            "seed": seed if isinstance(seed, int) else None,
            "participants": participants,
            "parameters": "calibrated LDN defaults" if parameters is None else "custom",
        },
    )


@dataclass(frozen=True)
class _Streams:
    """The random streams drawn from group after group: symptoms, events, entry times, and the
    answers at the visits (but the PGIC at the end of a period, drawn from `event`)."""

    symptom: np.random.Generator
    event: np.random.Generator
    entry: np.random.Generator
    answer: np.random.Generator


def _kept_items(protocol: Protocol, items: Sequence[str] | None) -> npt.NDArray[np.bool_]:
    """Per diary item, whether its answers are kept; an unknown item is a ValueError."""
    item_ids = [item.id for item in protocol.diary.items]
    unknown = sorted(set(items or ()) - set(item_ids))
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not a diary item of {protocol.study.id}")
    return np.array([items is None or item in items for item in item_ids])


def _simulate_groups(
    protocol: Protocol,
    days: SequenceDays,
    people: People,
    parameters: SimulationParameters,
    streams: _Streams,
    keep: npt.NDArray[np.bool_],
    events: bool,
    progress: Progress | None,
) -> dict[str, list[pd.DataFrame]]:
    """Simulate CHUNK participants at a time; the rows of each table, group by group."""
    participants = len(people)
    tz = ZoneInfo(parameters.timezone)
    categories = pd.CategoricalDtype(people.codes)
    frames: dict[str, list[pd.DataFrame]] = {
        "diary": [],
        "side_effects": [],
        "doses": [],
        "adverse_events": [],
        "pgic": [],
        "blinding": [],
    }
    bounds: WindowBounds = {}
    if progress is not None:
        progress(0, participants)
    for lo in range(0, participants, CHUNK):
        group = people.slice(lo, min(lo + CHUNK, participants))
        course = simulate_course(
            protocol, days, group, parameters, streams.symptom, streams.event, events=events
        )
        ids = pd.Categorical.from_codes(np.arange(lo, lo + len(group)), dtype=categories)
        frames["diary"].append(
            diary_rows(protocol, group, course, ids, tz, bounds, parameters, streams.entry, keep)
        )
        if events:
            frames["side_effects"].append(side_effect_rows(protocol, group, course, ids))
            frames["doses"].append(dose_rows(protocol, days, group, course, ids))
            frames["adverse_events"].append(
                adverse_event_rows(protocol, group, course, ids, parameters, streams.event)
            )
            pgic, guesses = visit_answer_rows(
                protocol, days, group, course, ids, parameters, streams.event, streams.answer
            )
            frames["pgic"].append(pgic)
            frames["blinding"].append(guesses)
        if progress is not None:
            progress(lo + len(group), participants)
    return frames


def _joined_tables(frames: dict[str, list[pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Each table's groups joined (empty tables when events were not simulated), AEs numbered."""
    tables = {
        name: pd.concat(parts, ignore_index=True) if parts else empty_table(TABLES_BY_NAME[name])
        for name, parts in frames.items()
    }
    # Only the diary, with millions of rows, keeps its codes categorical to save memory.
    for name in ("side_effects", "doses", "adverse_events", "pgic", "blinding"):
        tables[name]["participant_id"] = tables[name]["participant_id"].astype(str)
    adverse = tables["adverse_events"]
    if "ae_id" not in adverse.columns:
        adverse.insert(1, "ae_id", [f"AE-{k:05d}" for k in range(1, len(adverse) + 1)])
    return tables


def _participants(days: SequenceDays, people: People, timezone: str) -> pd.DataFrame:
    first_treatment = days.first_treatment[people.sequence]
    # Randomized at the end of baseline, so that kits are handed out for the first treatment day.
    randomized = people.start + np.maximum(first_treatment - 1, 0).astype("timedelta64[D]")
    withdrawn_on = np.where(
        people.withdrawn,
        people.start + people.end_day.astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )
    return pd.DataFrame(
        {
            "participant_id": people.codes,
            "site": people.site,
            "sequence": ["-".join(days.sequences[k]) for k in people.sequence],
            "start_date": people.start.astype("datetime64[s]"),
            "randomized_on": randomized.astype("datetime64[s]"),
            "timezone": [timezone] * len(people),
            "status": np.where(people.withdrawn, "withdrawn", "completed"),
            "withdrawn_on": withdrawn_on.astype("datetime64[s]"),
            "withdrawal_reason": people.withdrawal_reason,
            "age": pd.array(people.age, dtype="Int64"),
            "opioid_use": people.opioid.astype(bool),
        }
    )


def _periods(protocol: Protocol, people: People) -> pd.DataFrame:
    origin = dt.date(2000, 1, 1)
    rows: list[pd.DataFrame] = []
    for k, sequence in enumerate(protocol.sequences):
        members = np.nonzero(people.sequence == k)[0]
        if not len(members):
            continue
        phases = make_schedule(protocol, sequence, origin).phases
        n_phases = len(phases)
        who = np.repeat(members, n_phases)
        first = np.tile([(ph.start - origin).days for ph in phases], len(members))
        last = np.tile([(ph.end - origin).days for ph in phases], len(members))
        rows.append(
            pd.DataFrame(
                {
                    "person": who,
                    "phase": np.tile([ph.index for ph in phases], len(members)),
                    "kind": np.tile([ph.kind for ph in phases], len(members)),
                    "period": pd.array(
                        np.tile([ph.period for ph in phases], len(members)), dtype="Int64"
                    ),
                    "block": pd.array(
                        np.tile([ph.block for ph in phases], len(members)), dtype="Int64"
                    ),
                    "arm": np.tile(np.array([ph.arm for ph in phases], dtype=object), len(members)),
                    "condition": np.tile([ph.condition for ph in phases], len(members)),
                    "start": study_dates(people.start[who], first),
                    "end": study_dates(people.start[who], last),
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True).sort_values(["person", "phase"], kind="stable")
    codes = np.array(people.codes, dtype=object)
    frame.insert(0, "participant_id", codes[frame.pop("person").to_numpy()])
    return frame.reset_index(drop=True)
