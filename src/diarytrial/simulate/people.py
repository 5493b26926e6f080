"""Who takes part: codes, enrolment, covariates, allocation, withdrawal and latent traits.

Everything here is drawn once per participant, before any diary day is simulated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from diarytrial.protocol.schedule import make_schedule
from diarytrial.protocol.schema import Protocol
from diarytrial.simulate.allocation import stratified_allocation
from diarytrial.simulate.parameters import ItemProfile, SimulationParameters

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""Letters and digits of participant codes: no 0/O, 1/I/L, so a code read aloud is unambiguous."""

CONDITION_CODES = ("baseline", "active", "placebo", "washout")
BASELINE, ACTIVE, PLACEBO, WASHOUT = range(4)
AFTER_END = -1


def participant_codes(n: int, rng: np.random.Generator, *, prefix: str = "P-") -> list[str]:
    """`n` distinct random participant codes such as ``P-7Q3M``.

    Codes are drawn without replacement from a space at least 20 times larger than `n`
    (four characters, more for large trials), so they reveal neither enrolment order nor
    the number of participants.

    Examples
    --------
    >>> import numpy as np
    >>> codes = participant_codes(3, np.random.default_rng(0))
    >>> len(set(codes)), all(len(c) == 6 and c.startswith("P-") for c in codes)
    (3, True)
    """
    if n < 0:
        raise ValueError(f"the number of participants cannot be negative (got {n})")
    base = len(CODE_ALPHABET)
    length = 4
    while base**length < 20 * max(n, 1):
        length += 1
    numbers = rng.choice(base**length, size=n, replace=False)
    letters = np.array(list(CODE_ALPHABET))
    digits = [letters[(numbers // base**k) % base] for k in reversed(range(length))]
    return [prefix + "".join(chars) for chars in zip(*digits, strict=True)] if n else []


@dataclass(frozen=True)
class SequenceDays:
    """The day-by-day structure of every sequence, from study day index 0 (day 1)."""

    sequences: tuple[tuple[str, ...], ...]
    condition: npt.NDArray[np.int8]
    """(sequences, days) condition code of each day; AFTER_END past the schedule's end."""
    total: IntArray
    first_treatment: IntArray
    treatment_periods: tuple[tuple[tuple[int, int, int], ...], ...]
    """Per sequence: (period, first day index, last day index) of each treatment phase."""
    baseline_days: int

    @property
    def days(self) -> int:
        return int(self.condition.shape[1])


def sequence_days(protocol: Protocol) -> SequenceDays:
    """Lay out each sequence's phases on study-day indexes."""
    origin = dt.date(2000, 1, 1)
    schedules = [make_schedule(protocol, seq, origin) for seq in protocol.sequences]
    longest = max(s.total_days for s in schedules)
    condition = np.full((len(schedules), longest), AFTER_END, dtype=np.int8)
    periods: list[tuple[tuple[int, int, int], ...]] = []
    first = np.zeros(len(schedules), dtype=np.int64)
    for k, schedule in enumerate(schedules):
        spans: list[tuple[int, int, int]] = []
        for phase in schedule.phases:
            lo, hi = (phase.start - origin).days, (phase.end - origin).days
            condition[k, lo : hi + 1] = CONDITION_CODES.index(phase.condition)
            if phase.kind == "treatment" and phase.period is not None:
                spans.append((phase.period, lo, hi))
        periods.append(tuple(spans))
        first[k] = spans[0][1]
    return SequenceDays(
        sequences=protocol.sequences,
        condition=condition,
        total=np.array([s.total_days for s in schedules], dtype=np.int64),
        first_treatment=first,
        treatment_periods=tuple(periods),
        baseline_days=protocol.design.baseline_days,
    )


@dataclass(frozen=True)
class People:
    """Participants in the order of their codes, with every person-level draw."""

    codes: list[str]
    sequence: IntArray
    start: npt.NDArray[np.datetime64]
    site: list[str]
    age: IntArray
    opioid: BoolArray
    end_day: IntArray
    """Index of the first study day without data: the schedule's length, or the withdrawal."""
    withdrawn: BoolArray
    withdrawal_reason: list[str | None]
    baseline: FloatArray
    within_sd: FloatArray
    placebo: FloatArray
    item_response: FloatArray
    drug: FloatArray
    drug_loading: FloatArray
    """(people, items) how much of the person's drug response reaches each item."""
    drug_responder: BoolArray
    onset_days: FloatArray
    missing_logit: FloatArray
    submit_hours: FloatArray

    def __len__(self) -> int:
        return len(self.codes)

    def slice(self, lo: int, hi: int) -> People:
        """The participants lo..hi-1."""
        values = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            values[name] = value[lo:hi]
        return People(**values)


def item_correlation(loadings: FloatArray) -> FloatArray:
    """Correlation matrix of a one-factor model: ``l_j * l_k`` off the diagonal, 1 on it.

    Examples
    --------
    >>> item_correlation(np.array([0.5, 0.8])).round(2).tolist()
    [[1.0, 0.4], [0.4, 1.0]]
    """
    matrix = np.outer(loadings, loadings)
    np.fill_diagonal(matrix, 1.0)
    return matrix


def draw_people(
    protocol: Protocol,
    days: SequenceDays,
    n: int,
    parameters: SimulationParameters,
    rng: np.random.Generator,
    start: dt.date,
) -> People:
    """Draw `n` participants: enrolment, allocation, covariates and latent traits.

    The steps draw from `rng` one after the other, always in this order.
    """
    p = parameters
    profiles = [p.item_profile(item) for item in protocol.diary.items]
    codes, starts, sites, age, opioid = _enrolment(n, p, rng, start)
    sequence = _allocation(protocol, sites, opioid, rng)
    end_day, withdrawn, reason = _withdrawals(days, sequence, p, rng)
    baseline, within_sd = _symptom_levels(protocol, profiles, n, p, rng)
    placebo, item_response, responder, drug, drug_loading, onset = _treatment_response(
        profiles, n, p, rng
    )
    missing_logit = np.log(p.missing_start / (1 - p.missing_start)) + rng.normal(
        0.0, p.missing_person_sd, size=n
    )
    submit_hours = rng.normal(p.submit_hours_mean, p.submit_hours_person_sd, size=n)

    order = np.argsort(np.array(codes), kind="stable")
    people = People(
        codes=[codes[k] for k in order],
        sequence=sequence[order],
        start=starts[order],
        site=[sites[k] for k in order],
        age=age[order].astype(np.int64),
        opioid=opioid[order],
        end_day=end_day[order],
        withdrawn=withdrawn[order],
        withdrawal_reason=[reason[k] for k in order],
        baseline=baseline[order],
        within_sd=within_sd[order],
        placebo=placebo[order],
        item_response=item_response[order],
        drug=drug[order],
        drug_loading=drug_loading[order],
        drug_responder=responder[order],
        onset_days=onset[order],
        missing_logit=missing_logit[order],
        submit_hours=submit_hours[order],
    )
    return people


def _enrolment(
    n: int, p: SimulationParameters, rng: np.random.Generator, start: dt.date
) -> tuple[list[str], npt.NDArray[np.datetime64], list[str], FloatArray, BoolArray]:
    """Codes, start dates over the recruitment months, sites, ages and opioid use."""
    codes = participant_codes(n, rng)
    offsets = np.sort(rng.integers(0, p.recruitment_days, size=n))
    starts = np.datetime64(start, "D") + offsets.astype("timedelta64[D]")
    site_index = rng.integers(0, len(p.sites), size=n)
    sites = [p.sites[int(k)] for k in site_index]
    lo_age, hi_age = p.age_range
    age = np.clip(np.rint(rng.normal(p.age_mean, p.age_sd, size=n)), lo_age, hi_age)
    opioid = rng.random(n) < p.opioid_share
    return codes, starts, sites, age, opioid


def _allocation(
    protocol: Protocol, sites: list[str], opioid: BoolArray, rng: np.random.Generator
) -> IntArray:
    """Each participant's sequence index, by permuted blocks within the protocol's strata."""
    strata_fields = protocol.randomization.strata
    keys = [
        tuple(sites[i] if field == "site" else bool(opioid[i]) for field in strata_fields)
        for i in range(len(sites))
    ]
    allocation = stratified_allocation(keys, protocol.sequences, protocol.block_sizes, rng)
    sequence_index = {seq: k for k, seq in enumerate(protocol.sequences)}
    return np.array([sequence_index[a] for a in allocation], dtype=np.int64)


def _withdrawals(
    days: SequenceDays, sequence: IntArray, p: SimulationParameters, rng: np.random.Generator
) -> tuple[IntArray, BoolArray, list[str | None]]:
    """Who withdraws, the first day without data (end_day) and the reason given."""
    n = len(sequence)
    total = days.total[sequence]
    first_treatment = days.first_treatment[sequence]
    withdrawn = rng.random(n) < p.dropout_share
    # A withdrawal falls on a day of the treatment periods or washout, after randomization.
    withdrawal_day = (
        first_treatment
        + 1
        + np.floor(rng.random(n) * np.maximum(total - first_treatment - 1, 1)).astype(np.int64)
    )
    end_day = np.where(withdrawn, np.minimum(withdrawal_day, total), total)
    reasons, weights = zip(*p.withdrawal_reasons, strict=True)
    weight = np.asarray(weights, dtype=float)
    reason_index = rng.choice(len(reasons), size=n, p=weight / weight.sum())
    reason = [reasons[int(r)] if w else None for r, w in zip(reason_index, withdrawn, strict=True)]
    return end_day, withdrawn, reason


def _symptom_levels(
    protocol: Protocol,
    profiles: list[ItemProfile],
    n: int,
    p: SimulationParameters,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """(people, items) baseline levels, correlated through one burden factor, and within-SDs."""
    items = protocol.diary.items
    burden_loading = np.array([pr.burden_loading for pr in profiles])
    burden = rng.standard_normal(n)[:, None] * burden_loading + rng.standard_normal(
        (n, len(items))
    ) * np.sqrt(1 - burden_loading**2)
    sign = np.array([1.0 if it.direction == "higher_is_worse" else -1.0 for it in items])
    mean = np.array([pr.baseline for pr in profiles])
    sd = np.array([pr.baseline_sd for pr in profiles])
    baseline = np.clip(mean + sign * sd * burden, 0.05, 0.95)
    within_sd = np.array([pr.within_sd for pr in profiles]) * np.exp(
        rng.normal(0.0, p.within_sd_spread, size=(n, 1))
    )
    return baseline, within_sd


def _treatment_response(
    profiles: list[ItemProfile], n: int, p: SimulationParameters, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, BoolArray, FloatArray, FloatArray, FloatArray]:
    """Placebo response, its per-item part, drug responders, drug response, loadings, onset."""
    placebo = rng.normal(p.placebo_mean, p.placebo_sd, size=n)
    item_response = rng.standard_normal((n, len(profiles))) * np.array(
        [pr.response_sd for pr in profiles]
    )
    responder = rng.random(n) < p.drug_responder_share
    drug = np.where(
        responder,
        rng.normal(p.drug_responder_mean, p.drug_responder_sd, size=n),
        rng.normal(p.drug_nonresponder_mean, p.drug_nonresponder_sd, size=n),
    )
    acts = rng.random((n, len(profiles))) < np.array([pr.drug_share for pr in profiles])
    drug_loading = acts * np.array([pr.drug_loading for pr in profiles])
    onset = p.drug_onset_days * np.exp(rng.normal(0.0, p.drug_onset_spread, size=n))
    return placebo, item_response, responder, drug, drug_loading, onset
