"""The day-by-day course of a group of participants: symptoms, missing days, side effects.

Arrays are participants x days (x items or side effects); loops run over days, never over
people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from diarytrial.protocol.schema import Protocol
from diarytrial.simulate.parameters import (
    ItemProfile,
    SideEffectProfile,
    SimulationParameters,
)
from diarytrial.simulate.people import ACTIVE, PLACEBO, People, SequenceDays

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

NOT_AT_ALL, SOMEWHAT, VERY = range(3)


@dataclass(frozen=True)
class Course:
    """What happened to a group of participants, day by day (study-day index 0 = day 1)."""

    latent: FloatArray
    """(people, days, items) the symptom level before rounding, share of the scale range."""
    value: FloatArray
    """(people, days, items) the answer on the item's scale, NaN when not given."""
    filled: BoolArray
    """(people, days) the diary of that day was filled."""
    episodes: dict[str, IntArray]
    """Side-effect episodes: person, side_effect, first, last (day indexes), unpleasantness."""
    reduction_day: IntArray
    """(people,) day index from which the dose is reduced; -1 when never."""
    reduction_cause: IntArray
    """(people,) side effect that caused the reduction; -1 when never."""
    reduced_episode: IntArray
    """(people,) index in `episodes` of the episode that caused the reduction; -1 when never."""


def _two_stage(target: FloatArray, rate_on: FloatArray, rate_off: float) -> FloatArray:
    """Follow `target` (people x days) through two first-order stages: a smooth S-shaped onset."""
    people, days = target.shape
    first = np.zeros(people)
    second = np.zeros(people)
    out = np.empty((people, days))
    for t in range(days):
        goal = target[:, t]
        first += (goal - first) * np.where(goal > first, rate_on, rate_off)
        second += (first - second) * np.where(first > second, rate_on, rate_off)
        out[:, t] = second
    return out


def _ar1(noise: FloatArray, rho: float) -> FloatArray:
    """Stationary unit-variance AR(1) along axis 1 from standard-normal `noise`."""
    scale = np.sqrt(1 - rho**2)
    noise = noise.copy()
    noise[:, 0] /= scale  # the first day starts from the stationary distribution
    out: FloatArray = lfilter([scale], [1.0, -rho], noise, axis=1)
    return out


def simulate_course(
    protocol: Protocol,
    days: SequenceDays,
    people: People,
    parameters: SimulationParameters,
    rng: np.random.Generator,
    event_rng: np.random.Generator,
    *,
    events: bool = True,
) -> Course:
    """Simulate every diary day of `people`; side effects draw from `event_rng`.

    With `events` False no side effect or dose reduction is drawn (the diary values are the
    same: they come from `rng` alone).
    """
    p = parameters
    items = protocol.diary.items
    profiles = [p.item_profile(item) for item in items]
    condition = days.condition[people.sequence]  # (n, T)
    improvement = _improvement(protocol, days, people, profiles, condition, p)
    latent, deviation = _latent(protocol, people, profiles, improvement, p, rng)
    lows = np.array([item.lowest for item in items], dtype=float)
    highs = np.array([item.highest for item in items], dtype=float)
    value = np.clip(np.rint(lows + latent * (highs - lows)), lows, highs)
    in_trial = np.arange(days.days)[None, :] < people.end_day[:, None]
    filled, given = _answered(protocol, days, people, profiles, deviation, in_trial, p, rng)
    value = np.where(given, value, np.nan)

    if events:
        episodes, reduction_day, cause, reduced_episode = _side_effects(
            protocol, condition, in_trial, people, parameters, event_rng
        )
    else:
        episodes, reduction_day, cause, reduced_episode = _no_side_effects(len(people))
    return Course(
        latent=latent,
        value=value,
        filled=filled,
        episodes=episodes,
        reduction_day=reduction_day,
        reduction_cause=cause,
        reduced_episode=reduced_episode,
    )


def _improvement(
    protocol: Protocol,
    days: SequenceDays,
    people: People,
    profiles: list[ItemProfile],
    condition: npt.NDArray[np.int8],
    p: SimulationParameters,
) -> FloatArray:
    """(people, days, items) improvement over time, as a share of the baseline level.

    A quick placebo response from the first treatment day, and a slow, S-shaped drug response
    while on the active arm that fades after it stops.
    """
    t_index = np.arange(days.days)
    after_first = t_index[None, :] >= days.first_treatment[people.sequence][:, None]
    placebo_rate = 1 - np.exp(-1 / p.placebo_onset_days)
    placebo_course = 1 - (1 - placebo_rate) ** np.maximum(
        t_index[None, :] - days.first_treatment[people.sequence][:, None] + 1, 0
    )
    placebo_course = np.where(after_first, placebo_course, 0.0)
    on_drug = (condition == ACTIVE).astype(float)
    drug_course = _two_stage(
        on_drug, 1 - np.exp(-1 / people.onset_days), 1 - np.exp(-1 / p.drug_offset_days)
    )
    placebo_loading = np.array([pr.placebo_loading for pr in profiles])
    improvement = (
        placebo_course[:, :, None]
        * (people.placebo[:, None] * placebo_loading + people.item_response)[:, None, :]
        + drug_course[:, :, None] * (people.drug[:, None] * people.drug_loading)[:, None, :]
    )
    worse = np.array([item.direction == "higher_is_worse" for item in protocol.diary.items])
    capped: FloatArray = np.where(worse, np.minimum(improvement, p.max_improvement), improvement)
    return capped


def _latent(
    protocol: Protocol,
    people: People,
    profiles: list[ItemProfile],
    improvement: FloatArray,
    p: SimulationParameters,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """(people, days, items) symptom levels, and the standardised daily deviations in them.

    Daily deviations, positive = worse: a common daily factor plus item noise, AR(1), and a
    slow drift shared by the items.
    """
    n, n_days, n_items = improvement.shape
    worse = np.array([item.direction == "higher_is_worse" for item in protocol.diary.items])
    sign = np.where(worse, 1.0, -1.0)
    daily_loading = np.array([pr.daily_loading for pr in profiles])
    shocks = rng.standard_normal((n, n_days))[:, :, None] * daily_loading + rng.standard_normal(
        (n, n_days, n_items)
    ) * np.sqrt(1 - daily_loading**2)
    deviation = _ar1(shocks, p.ar1_rho)
    drift = _ar1(rng.standard_normal((n, n_days)), p.slow_rho) * p.slow_sd
    badness = deviation * people.within_sd[:, None, :] + drift[:, :, None]
    level = people.baseline[:, None, :] * (1 - sign * improvement)
    return level + sign * badness, deviation


def _answered(
    protocol: Protocol,
    days: SequenceDays,
    people: People,
    profiles: list[ItemProfile],
    deviation: FloatArray,
    in_trial: BoolArray,
    p: SimulationParameters,
    rng: np.random.Generator,
) -> tuple[BoolArray, BoolArray]:
    """(people, days) diaries filled, and (people, days, items) answers given.

    Missing days: more as the trial goes on, and on worse days than usual; optional items are
    skipped now and then on the days filled.
    """
    n, n_days, n_items = deviation.shape
    daily_loading = np.array([pr.daily_loading for pr in profiles])
    corr_sum = float(np.sum(np.outer(daily_loading, daily_loading)) - np.sum(daily_loading**2))
    composite_sd = np.sqrt(n_items + corr_sum) / n_items
    composite = deviation.mean(axis=2) / composite_sd
    total = days.total[people.sequence]
    progress = np.arange(n_days)[None, :] / np.maximum(total - 1, 1)[:, None]
    logit = (
        people.missing_logit[:, None]
        + np.log(p.missing_end_odds_ratio) * progress
        + p.missing_bad_day * composite
    )
    missing = rng.random((n, n_days)) < 1 / (1 + np.exp(-logit))
    filled = in_trial & ~missing
    given = np.broadcast_to(filled[:, :, None], deviation.shape).copy()
    optional = np.array([not item.required for item in protocol.diary.items])
    if optional.any():
        skipped = rng.random((n, n_days, n_items)) < p.optional_skip
        given &= ~(skipped & optional)
    return filled, given


def _no_side_effects(n: int) -> tuple[dict[str, IntArray], IntArray, IntArray, IntArray]:
    none = np.zeros(0, dtype=np.int64)
    names = ("person", "side_effect", "first", "last", "unpleasantness")
    never = np.full(n, -1, dtype=np.int64)
    return {name: none for name in names}, never, never.copy(), never.copy()


def _side_effects(
    protocol: Protocol,
    condition: npt.NDArray[np.int8],
    in_trial: BoolArray,
    people: People,
    parameters: SimulationParameters,
    rng: np.random.Generator,
) -> tuple[dict[str, IntArray], IntArray, IntArray, IntArray]:
    """Side-effect episodes and blinded dose reductions, day by day."""
    p = parameters
    n, n_days = condition.shape
    profiles = [p.side_effect_profile(s.id) for s in protocol.diary.side_effects]
    k = len(profiles)
    mean_days = np.array([pr.mean_days for pr in profiles])
    uniform = rng.random((n, n_days, k))
    length = rng.geometric(1 / np.broadcast_to(mean_days, (n, n_days, k)))
    unpleasant = rng.choice(3, size=(n, n_days, k), p=np.asarray(p.unpleasantness))
    decide = rng.random((n, n_days))
    found, reduction_day, cause, reduced_at = _walk_days(
        protocol, condition, in_trial, people, p, profiles, (uniform, length, unpleasant, decide)
    )
    episodes = _episodes(found, length, unpleasant, people)
    reduced_episode = np.full(n, -1)
    who, which, first = episodes["person"], episodes["side_effect"], episodes["first"]
    for i in np.nonzero(reduction_day >= 0)[0]:
        match = np.nonzero((who == i) & (which == cause[i]) & (first == reduced_at[i]))[0]
        reduced_episode[i] = int(match[0])
    return episodes, reduction_day.astype(np.int64), cause.astype(np.int64), reduced_episode


def _walk_days(
    protocol: Protocol,
    condition: npt.NDArray[np.int8],
    in_trial: BoolArray,
    people: People,
    p: SimulationParameters,
    profiles: list[SideEffectProfile],
    draws: tuple[FloatArray, IntArray, IntArray, FloatArray],
) -> tuple[list[tuple[IntArray, IntArray, IntArray]], IntArray, IntArray, IntArray]:
    """Go day by day: episodes start while none of the same kind is running; a very unpleasant
    one may lower the dose from the next day, which lowers the active excess from then on.

    `draws` are the (people, days, side effects) uniforms and episode lengths, unpleasantness,
    and the (people, days) uniforms of the decision to reduce. Returns the episodes found
    (person, side effect, onset day) and per person the reduction day, its cause and the onset
    day of the causing episode (-1 when never).
    """
    uniform, length, unpleasant, decide = draws
    n, n_days = condition.shape
    onset_placebo = np.array([pr.onset_placebo for pr in profiles])
    onset_excess = np.array([pr.onset_active - pr.onset_placebo for pr in profiles])
    dosing = protocol.dosing
    levels = dosing.levels
    start_level = np.full(n, levels.index(dosing.start_level))
    if dosing.opioid_start_level is not None:
        start_level = np.where(people.opioid, levels.index(dosing.opioid_start_level), start_level)
    standard = levels.index(dosing.start_level)
    reduced = levels.index(dosing.reduced_level) if dosing.reduced_level is not None else None
    level = start_level.copy()

    busy_until = np.full((n, len(profiles)), -1)
    reduction_day = np.full(n, -1)
    cause = np.full(n, -1)
    reduced_at = np.full(n, -1)  # onset day of the causing episode
    found: list[tuple[IntArray, IntArray, IntArray]] = []
    treatment = (condition == ACTIVE) | (condition == PLACEBO)
    for t in range(n_days):
        on_drug = condition[:, t] == ACTIVE
        excess = np.where(level < standard, p.reduced_dose_excess, 1.0)
        hazard = onset_placebo + (on_drug * excess)[:, None] * onset_excess
        starts = (busy_until < t) & in_trial[:, t, None] & (uniform[:, t, :] < hazard)
        if not starts.any():
            continue
        busy_until = np.where(starts, t + length[:, t, :] - 1, busy_until)
        who, which = np.nonzero(starts)
        found.append((who, which, np.full(len(who), t)))
        if reduced is None:
            continue
        very = starts & (unpleasant[:, t, :] == VERY)
        lower = (
            very.any(axis=1)
            & treatment[:, t]
            & (level > reduced)
            & (decide[:, t] < p.dose_reduction_probability)
            & (t + 1 < people.end_day)
        )
        if lower.any():
            level = np.where(lower, reduced, level)
            reduction_day = np.where(lower, t + 1, reduction_day)
            cause = np.where(lower, np.argmax(very, axis=1), cause)
            reduced_at = np.where(lower, t, reduced_at)
    return found, reduction_day, cause, reduced_at


def _episodes(
    found: list[tuple[IntArray, IntArray, IntArray]],
    length: IntArray,
    unpleasant: IntArray,
    people: People,
) -> dict[str, IntArray]:
    """The episodes found, ordered by person, onset and side effect, each ending at its drawn
    length or the person's last day in the trial."""
    if found:
        who = np.concatenate([f[0] for f in found])
        which = np.concatenate([f[1] for f in found])
        first = np.concatenate([f[2] for f in found])
    else:
        who = which = first = np.zeros(0, dtype=np.int64)
    last = np.minimum(first + length[who, first, which] - 1, people.end_day[who] - 1)
    order = np.lexsort((which, first, who))
    who, which, first, last = who[order], which[order], first[order], last[order]
    return {
        "person": who.astype(np.int64),
        "side_effect": which.astype(np.int64),
        "first": first.astype(np.int64),
        "last": last.astype(np.int64),
        "unpleasantness": unpleasant[who, first, which].astype(np.int64),
    }
