"""What follows the diary: side-effect reports, doses, adverse events, the PGIC and the
blinding guesses, as rows.

Each builder turns the course of a group of participants into the rows of one table of the
trial dataset; the adverse events and the answers at the visits make their own draws.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from diarytrial.dataset.tables import SEVERITIES, UNPLEASANTNESS
from diarytrial.protocol.schema import Protocol
from diarytrial.protocol.visits import kit_arm, periods_closed, pgic_visits, visit_calendar
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


def visit_answer_rows(
    protocol: Protocol,
    days: SequenceDays,
    people: People,
    course: Course,
    ids: pd.Categorical,
    parameters: SimulationParameters,
    rng: np.random.Generator,
    answer_rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The PGIC answers and the blinding guesses given at the visits after the first.

    Every participant still in the study on a visit's day answers at the visit, on its day,
    whatever their sequence (``protocol.visits``). The perceived improvement over the days
    since the visit before (over the whole period, or its endpoint window, at a visit that
    closes a treatment period) is the measured one plus noise; the PGIC scores it at
    `pgic_thresholds`. The guess is "don't know" with probability `guess_dont_know`, else
    "drug" with a probability that rises with the perceived improvement (logistic, centred on
    `guess_midpoint`, scale `guess_scale`) and, on the drug, with its side effects
    (`guess_drug_hint` on the log-odds), else "placebo". The answers that close a treatment
    period draw the PGIC noise from `rng`, in the order the simulator always drew them, so the
    calibrated PGIC stays as it was; everything else comes from `answer_rng`.
    """
    calendar = visit_calendar(protocol)
    asked = set(pgic_visits(protocol, calendar))
    closing = _period_closing_perceptions(protocol, days, people, course, parameters, rng)
    pgic: list[pd.DataFrame] = []
    guesses: list[pd.DataFrame] = []
    for k, sequence in enumerate(days.sequences):
        members = np.nonzero(people.sequence == k)[0]
        closes = periods_closed(protocol, calendar, sequence)
        for visit in calendar.answer_visits:
            stretch = calendar.stretch_closed_by(visit)
            last = days.baseline_days + visit.treatment_day - 1
            present = members[people.end_day[members] > last]
            if stretch is None or not len(present):
                continue
            period = closes.get(visit.number)
            perceived = closing.get((k, period)) if period is not None else None
            if perceived is None:
                lo = days.baseline_days + stretch.first_day - 1
                change = _measured_change(protocol, days, course, present, lo, last)
                noise = answer_rng.normal(0.0, parameters.pgic_noise_sd, size=len(present))
                perceived = change + noise
            answers = {
                "participant_id": ids[present],
                "visit": pd.array(np.full(len(present), visit.number), dtype="Int64"),
                "period": pd.array([period] * len(present), dtype="Int64"),
                "answered_on": study_dates(people.start[present], np.full(len(present), last)),
            }
            if visit.number in asked:
                score = 1 + (perceived[:, None] < np.asarray(parameters.pgic_thresholds)).sum(
                    axis=1
                )
                pgic.append(pd.DataFrame({**answers, "score": pd.array(score, dtype="Int64")}))
            on_drug = _on_drug(protocol, calendar.contents[sequence][stretch.number - 1])
            guess = _guesses(perceived, on_drug, parameters, answer_rng)
            guesses.append(pd.DataFrame({**answers, "guess": guess}))
    return (
        _answers_frame(pgic, ids, "score", pd.array([], dtype="Int64")),
        _answers_frame(guesses, ids, "guess", np.array([], dtype=object)),
    )


def _measured_change(
    protocol: Protocol,
    days: SequenceDays,
    course: Course,
    present: npt.NDArray[np.int64],
    lo: int,
    last: int,
) -> npt.NDArray[np.float64]:
    """Mean improvement (%) over the items from baseline to days `lo`..`last`, signed so that
    positive is better."""
    items = protocol.diary.items
    sign = np.array([1.0 if it.direction == "higher_is_worse" else -1.0 for it in items])
    baseline = np.maximum(course.latent[present, : days.baseline_days, :].mean(axis=1), 0.01)
    level = course.latent[present, lo : last + 1, :].mean(axis=1)
    change: npt.NDArray[np.float64] = (sign * (baseline - level) / baseline * 100).mean(axis=1)
    return change


def _period_closing_perceptions(
    protocol: Protocol,
    days: SequenceDays,
    people: People,
    course: Course,
    parameters: SimulationParameters,
    rng: np.random.Generator,
) -> dict[tuple[int, int], npt.NDArray[np.float64]]:
    """The perceived improvement at the end of each treatment period the protocol asks the PGIC
    about, by (sequence, period), for the participants still in the study then."""
    asked = protocol.pgic_periods()
    analysis = protocol.analysis
    if analysis.improvement_endpoint == "final_days":
        window: int | None = analysis.final_days
    else:
        window = analysis.last_days if analysis.window == "last_days" else None
    found: dict[tuple[int, int], npt.NDArray[np.float64]] = {}
    for k in range(len(days.sequences)):
        members = np.nonzero(people.sequence == k)[0]
        for period, first, last in days.treatment_periods[k]:
            if period not in asked or not len(members):
                continue
            lo = first if window is None else max(first, last - window + 1)
            present = members[people.end_day[members] > last]
            if not len(present):
                continue
            change = _measured_change(protocol, days, course, present, lo, last)
            found[(k, period)] = change + rng.normal(
                0.0, parameters.pgic_noise_sd, size=len(present)
            )
    return found


def _on_drug(protocol: Protocol, contents: str) -> bool:
    """Whether a stretch's kit holds an active arm (a washout's placebo capsules do not)."""
    arm = kit_arm(protocol, contents)
    return arm is not None and protocol.arm(arm).role == "active"


def _guesses(
    perceived: npt.NDArray[np.float64],
    on_drug: bool,
    parameters: SimulationParameters,
    rng: np.random.Generator,
) -> npt.NDArray[np.object_]:
    """Each participant's guess: don't know, or drug more often the better they feel and when
    the drug's side effects give it away."""
    dont_know = rng.random(len(perceived)) < parameters.guess_dont_know
    logit = (perceived - parameters.guess_midpoint) / parameters.guess_scale
    hint = parameters.guess_drug_hint if on_drug else 0.0
    drug_chance = 1 / (1 + np.exp(-(logit + hint)))
    drug = rng.random(len(perceived)) < drug_chance
    guess: npt.NDArray[np.object_] = np.where(
        dont_know, "dont_know", np.where(drug, "drug", "placebo")
    ).astype(object)
    return guess


def _answers_frame(
    parts: list[pd.DataFrame], ids: pd.Categorical, column: str, empty: object
) -> pd.DataFrame:
    """The answers of one table, by participant and visit (no rows: the columns all the same)."""
    if not parts:
        return pd.DataFrame(
            {
                "participant_id": pd.Categorical([], dtype=ids.dtype),
                "visit": pd.array([], dtype="Int64"),
                "period": pd.array([], dtype="Int64"),
                "answered_on": np.array([], dtype="datetime64[s]"),
                column: empty,
            }
        )
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(["participant_id", "visit"], kind="stable")
