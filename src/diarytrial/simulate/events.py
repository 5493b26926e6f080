"""What follows the diary: side-effect reports, doses, adverse events and the PGIC, as rows.

Each builder turns the course of a group of participants into the rows of one table of the
trial dataset; the adverse events and the PGIC make their own draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diarytrial.dataset.tables import SEVERITIES, UNPLEASANTNESS
from diarytrial.protocol.schema import Protocol
from diarytrial.simulate.course import SOMEWHAT, VERY, Course
from diarytrial.simulate.entries import study_dates
from diarytrial.simulate.parameters import SimulationParameters
from diarytrial.simulate.people import People, SequenceDays


def side_effect_rows(
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
            "diary_date": study_dates(people.start[who], day),
            "side_effect": np.array(checklist, dtype=object)[ep["side_effect"][episode]],
            "unpleasantness": np.array(UNPLEASANTNESS, dtype=object)[ep["unpleasantness"][episode]],
        }
    )
    return frame.sort_values(["participant_id", "diary_date", "side_effect"], kind="stable")


def dose_rows(
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
                    study_dates(people.start, first),
                    study_dates(people.start[reduced], course.reduction_day[reduced]),
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


def adverse_event_rows(
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
    end = study_dates(people.start[who], ep["last"][keep])
    return pd.DataFrame(
        {
            "participant_id": ids[who],
            "term": np.array([s.label for s in checklist], dtype=object)[ep["side_effect"][keep]],
            "side_effect": np.array([s.id for s in checklist], dtype=object)[
                ep["side_effect"][keep]
            ],
            "onset_date": study_dates(people.start[who], ep["first"][keep]),
            "end_date": np.where(ongoing[keep], np.datetime64("NaT", "s"), end),
            "severity": severity[keep].astype(object),
            "serious": np.zeros(len(keep), dtype=bool),
            "related": related[keep].astype(object),
            "action": np.where(caused[keep], "dose_reduced", "none").astype(object),
            "outcome": outcome[keep].astype(object),
        }
    )


def pgic_rows(
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
                        "answered_on": study_dates(
                            people.start[present], np.full(len(present), last)
                        ),
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
