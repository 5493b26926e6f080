"""`simulate_trial`: a whole trial, from a protocol to the tidy trial dataset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from diarytrial.dataset.model import TrialDataset, empty_table
from diarytrial.dataset.tables import SEVERITIES, TABLES_BY_NAME, UNPLEASANTNESS
from diarytrial.protocol import ProtocolFile, make_schedule, window_bounds
from diarytrial.protocol.schema import Protocol
from diarytrial.simulate.course import SOMEWHAT, VERY, Course, simulate_course
from diarytrial.simulate.parameters import DEFAULT_START, SimulationParameters
from diarytrial.simulate.people import People, SequenceDays, draw_people, sequence_days

CHUNK = 1000
"""Participants simulated together: bounds memory, and sets how often progress is reported."""

Progress = Callable[[int, int], None]
DateArray = npt.NDArray[np.datetime64]
IntArray = npt.NDArray[np.int64]


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
    withdrawals and the PGIC follow. The model is described in ``docs/simulation.md``.

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
        False simulates the diaries only (no side effects, doses, adverse events or PGIC:
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
    item_ids = [item.id for item in spec.diary.items]
    unknown = sorted(set(items or ()) - set(item_ids))
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not a diary item of {spec.study.id}")
    keep = np.array([items is None or item in items for item in item_ids])
    tz = ZoneInfo(p.timezone)
    days = sequence_days(spec)
    # Separate streams per part of the model, so that changing, say, side-effect rates leaves
    # the symptom values (and with them the calibration) as they were.
    people_rng, symptom_rng, event_rng, entry_rng = rng.spawn(4)
    people = draw_people(spec, days, participants, p, people_rng, start)
    categories = pd.CategoricalDtype(people.codes)

    frames: dict[str, list[pd.DataFrame]] = {
        "diary": [],
        "side_effects": [],
        "doses": [],
        "adverse_events": [],
        "pgic": [],
    }
    bounds: dict[np.datetime64, tuple[np.datetime64, np.datetime64]] = {}
    if progress is not None:
        progress(0, participants)
    for lo in range(0, participants, CHUNK):
        group = people.slice(lo, min(lo + CHUNK, participants))
        course = simulate_course(spec, days, group, p, symptom_rng, event_rng, events=events)
        ids = pd.Categorical.from_codes(np.arange(lo, lo + len(group)), dtype=categories)
        frames["diary"].append(_diary(spec, group, course, ids, tz, bounds, p, entry_rng, keep))
        if events:
            frames["side_effects"].append(_side_effect_rows(spec, group, course, ids))
            frames["doses"].append(_doses(spec, days, group, course, ids))
            frames["adverse_events"].append(_adverse_events(spec, group, course, ids, p, event_rng))
            frames["pgic"].append(_pgic(spec, days, group, course, ids, p, event_rng))
        if progress is not None:
            progress(lo + len(group), participants)

    tables = {
        name: pd.concat(parts, ignore_index=True) if parts else empty_table(TABLES_BY_NAME[name])
        for name, parts in frames.items()
    }
    # Only the diary, with millions of rows, keeps its codes categorical to save memory.
    for name in ("side_effects", "doses", "adverse_events", "pgic"):
        tables[name]["participant_id"] = tables[name]["participant_id"].astype(str)
    adverse = tables["adverse_events"]
    if "ae_id" not in adverse.columns:
        adverse.insert(1, "ae_id", [f"AE-{k:05d}" for k in range(1, len(adverse) + 1)])
    return TrialDataset(
        protocol=protocol,
        participants=_participants(days, people, p.timezone),
        periods=_periods(spec, people),
        diary=tables["diary"],
        side_effects=tables["side_effects"],
        doses=tables["doses"],
        adverse_events=adverse,
        pgic=tables["pgic"],
        provenance={
            "generator": "diarytrial simulate",
            "seed": seed if isinstance(seed, int) else None,
            "participants": participants,
            "parameters": "calibrated LDN defaults" if parameters is None else "custom",
        },
    )


def _dates(start: DateArray, day: IntArray) -> DateArray:
    """Calendar dates (datetime64[s] at midnight) of study-day indexes."""
    out: DateArray = (start + day.astype("timedelta64[D]")).astype("datetime64[s]")
    return out


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
                    "start": _dates(people.start[who], first),
                    "end": _dates(people.start[who], last),
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True).sort_values(["person", "phase"], kind="stable")
    codes = np.array(people.codes, dtype=object)
    frame.insert(0, "participant_id", codes[frame.pop("person").to_numpy()])
    return frame.reset_index(drop=True)


def _submission_times(
    protocol: Protocol,
    dates: DateArray,
    hours: npt.NDArray[np.float64],
    tz: ZoneInfo,
    bounds: dict[np.datetime64, tuple[np.datetime64, np.datetime64]],
    parameters: SimulationParameters,
    rng: np.random.Generator,
) -> tuple[pd.DatetimeIndex, npt.NDArray[np.bool_]]:
    """UTC instants at which entries reached the server, and which of them were late."""
    diary = protocol.diary
    opens = diary.opens.hour * 3600 + diary.opens.minute * 60 + diary.opens.second
    closes = diary.closes.hour * 3600 + diary.closes.minute * 60 + diary.closes.second
    length = closes - opens + (86400 if diary.crosses_midnight else 0)
    offset = np.clip(np.rint(hours * 3600), 60, length - 60).astype(np.int64)
    local = dates + (opens + offset).astype("timedelta64[s]")
    made = (
        pd.DatetimeIndex(local)
        .tz_localize(tz, ambiguous=np.ones(len(local), dtype=bool), nonexistent="shift_backward")
        .tz_convert("UTC")
        .floor("s")
        .as_unit("s")
    )
    # The window's own edges (with its daylight-saving rules) have the last word.
    for day in np.unique(dates):
        if day not in bounds:
            first, last = window_bounds(pd.Timestamp(day).date(), tz, diary)
            bounds[day] = (
                np.datetime64(first.replace(tzinfo=None), "s"),
                np.datetime64(last.replace(tzinfo=None), "s"),
            )
    unique, inverse = np.unique(dates, return_inverse=True)
    window_open = np.array([bounds[d][0] for d in unique])[inverse]
    window_close = np.array([bounds[d][1] for d in unique])[inverse]
    instant = np.clip(
        made.tz_localize(None).to_numpy(), window_open, window_close - np.timedelta64(1, "s")
    )
    grace = diary.late_sync_grace_hours * 3600
    late = (rng.random(len(dates)) < parameters.late_share) & (grace > 60)
    delay = (60 + np.floor(rng.random(len(dates)) * max(grace - 60, 1))).astype(np.int64)
    instant = np.where(late, window_close + delay.astype("timedelta64[s]"), instant)
    return pd.DatetimeIndex(instant).tz_localize("UTC"), late


def _diary(
    protocol: Protocol,
    people: People,
    course: Course,
    ids: pd.Categorical,
    tz: ZoneInfo,
    bounds: dict[np.datetime64, tuple[np.datetime64, np.datetime64]],
    parameters: SimulationParameters,
    rng: np.random.Generator,
    keep: npt.NDArray[np.bool_],
) -> pd.DataFrame:
    who_day, day = np.nonzero(course.filled)
    dates = _dates(people.start[who_day], day)
    hours = people.submit_hours[who_day] + rng.normal(
        0.0, parameters.submit_hours_day_sd, size=len(day)
    )
    submitted, late = _submission_times(protocol, dates, hours, tz, bounds, parameters, rng)
    values = course.value[who_day, day, :]  # (filled days, items)
    entry, item = np.nonzero(~np.isnan(values) & keep)
    item_ids = [it.id for it in protocol.diary.items]
    return pd.DataFrame(
        {
            "participant_id": ids[who_day[entry]],
            "diary_date": dates[entry],
            "item": pd.Categorical.from_codes(item, categories=pd.Index(item_ids)),
            "value": values[entry, item],
            "submitted_at": submitted[entry],
            "late": late[entry],
        }
    )


def _side_effect_rows(
    protocol: Protocol, people: People, course: Course, ids: pd.Categorical
) -> pd.DataFrame:
    ep = course.episodes
    span = ep["last"] - ep["first"] + 1
    episode = np.repeat(np.arange(len(span)), span)
    step = np.arange(len(episode)) - np.repeat(np.cumsum(span) - span, span)
    who = ep["person"][episode]
    day = ep["first"][episode] + step
    ticked = course.filled[who, day]
    episode, who, day = episode[ticked], who[ticked], day[ticked]
    checklist = [s.id for s in protocol.diary.side_effects]
    frame = pd.DataFrame(
        {
            "participant_id": ids[who],
            "diary_date": _dates(people.start[who], day),
            "side_effect": np.array(checklist, dtype=object)[ep["side_effect"][episode]],
            "unpleasantness": np.array(UNPLEASANTNESS, dtype=object)[ep["unpleasantness"][episode]],
        }
    )
    return frame.sort_values(["participant_id", "diary_date", "side_effect"], kind="stable")


def _doses(
    protocol: Protocol, days: SequenceDays, people: People, course: Course, ids: pd.Categorical
) -> pd.DataFrame:
    dosing = protocol.dosing
    first = days.first_treatment[people.sequence]
    level = np.where(
        people.opioid & (dosing.opioid_start_level is not None),
        dosing.opioid_start_level or dosing.start_level,
        dosing.start_level,
    )
    everyone = np.arange(len(people))
    reduced = np.nonzero(course.reduction_day >= 0)[0]
    labels = {s.id: s.label for s in protocol.diary.side_effects}
    checklist = [s.id for s in protocol.diary.side_effects]
    frame = pd.DataFrame(
        {
            "participant_id": ids[np.concatenate([everyone, reduced])],
            "effective_on": np.concatenate(
                [
                    _dates(people.start, first),
                    _dates(people.start[reduced], course.reduction_day[reduced]),
                ]
            ),
            "dose_level": np.concatenate(
                [level.astype(object), np.full(len(reduced), dosing.reduced_level, dtype=object)]
            ),
            "reason": np.concatenate(
                [
                    np.full(len(people), "start", dtype=object),
                    np.array(
                        [
                            f"side effect: {labels[checklist[course.reduction_cause[i]]]}"
                            for i in reduced
                        ],
                        dtype=object,
                    ),
                ]
            ),
        }
    )
    return frame.sort_values(["participant_id", "effective_on"], kind="stable")


def _adverse_events(
    protocol: Protocol,
    people: People,
    course: Course,
    ids: pd.Categorical,
    parameters: SimulationParameters,
    rng: np.random.Generator,
) -> pd.DataFrame:
    ep = course.episodes
    unpleasant = ep["unpleasantness"]
    chance = np.asarray(parameters.adverse_event_probability)[unpleasant]
    recorded = rng.random(len(unpleasant)) < chance
    heavier = rng.random(len(unpleasant))
    related = rng.choice(
        ["unlikely", "possible", "probable"], size=len(unpleasant), p=[0.3, 0.5, 0.2]
    )
    severity = np.where(
        unpleasant == VERY,
        np.where(heavier < 0.2, SEVERITIES[2], SEVERITIES[1]),
        np.where((unpleasant == SOMEWHAT) & (heavier < 0.3), SEVERITIES[1], SEVERITIES[0]),
    )
    caused = np.zeros(len(unpleasant), dtype=bool)
    caused[course.reduced_episode[course.reduced_episode >= 0]] = True
    who = ep["person"]
    ongoing = ep["last"] >= people.end_day[who] - 1
    outcome = np.where(
        ongoing, np.where(people.withdrawn[who], "unknown", "recovering"), "recovered"
    )
    checklist = protocol.diary.side_effects
    keep = np.nonzero(recorded)[0]
    who = who[keep]
    end = _dates(people.start[who], ep["last"][keep])
    return pd.DataFrame(
        {
            "participant_id": ids[who],
            "term": np.array([s.label for s in checklist], dtype=object)[ep["side_effect"][keep]],
            "side_effect": np.array([s.id for s in checklist], dtype=object)[
                ep["side_effect"][keep]
            ],
            "onset_date": _dates(people.start[who], ep["first"][keep]),
            "end_date": np.where(ongoing[keep], np.datetime64("NaT", "s"), end),
            "severity": severity[keep].astype(object),
            "serious": np.zeros(len(keep), dtype=bool),
            "related": related[keep].astype(object),
            "action": np.where(caused[keep], "dose_reduced", "none").astype(object),
            "outcome": outcome[keep].astype(object),
        }
    )


def _pgic(
    protocol: Protocol,
    days: SequenceDays,
    people: People,
    course: Course,
    ids: pd.Categorical,
    parameters: SimulationParameters,
    rng: np.random.Generator,
) -> pd.DataFrame:
    asked = protocol.pgic_periods()
    items = protocol.diary.items
    sign = np.array([1.0 if it.direction == "higher_is_worse" else -1.0 for it in items])
    analysis = protocol.analysis
    if analysis.improvement_endpoint == "final_days":
        window: int | None = analysis.final_days
    else:
        window = analysis.last_days if analysis.window == "last_days" else None
    baseline = np.maximum(course.latent[:, : days.baseline_days, :].mean(axis=1), 0.01)
    rows: list[pd.DataFrame] = []
    for k in range(len(days.sequences)):
        members = np.nonzero(people.sequence == k)[0]
        for period, first, last in days.treatment_periods[k]:
            if period not in asked or not len(members):
                continue
            lo = first if window is None else max(first, last - window + 1)
            present = members[people.end_day[members] > last]
            if not len(present):
                continue
            level = course.latent[present, lo : last + 1, :].mean(axis=1)
            change = (sign * (baseline[present] - level) / baseline[present] * 100).mean(axis=1)
            perceived = change + rng.normal(0.0, parameters.pgic_noise_sd, size=len(present))
            score = 1 + (perceived[:, None] < np.asarray(parameters.pgic_thresholds)).sum(axis=1)
            rows.append(
                pd.DataFrame(
                    {
                        "participant_id": ids[present],
                        "period": pd.array(np.full(len(present), period), dtype="Int64"),
                        "answered_on": _dates(people.start[present], np.full(len(present), last)),
                        "score": pd.array(score, dtype="Int64"),
                    }
                )
            )
    if not rows:
        return pd.DataFrame(
            {
                "participant_id": pd.Categorical([], dtype=ids.dtype),
                "period": pd.array([], dtype="Int64"),
                "answered_on": np.array([], dtype="datetime64[s]"),
                "score": pd.array([], dtype="Int64"),
            }
        )
    frame = pd.concat(rows, ignore_index=True)
    return frame.sort_values(["participant_id", "period"], kind="stable")
