"""Every number the simulator uses, with the calibrated LDN values as defaults.

Levels, SDs and effects of diary items are expressed as *fractions of the item's scale range*
(0.60 is 60 on a 0-100 slider and 6 on a 0-10 rating), so one profile serves both scales.
Effects are *improvements*, signed so that positive is better whatever the item's direction:
an improvement of 0.3 lowers a higher-is-worse item to 70% of its baseline level and raises a
higher-is-better item to 130% of it. ``docs/simulation.md`` gives the source of each value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from diarytrial.protocol.schema import Item

DEFAULT_START = dt.date(2026, 1, 5)
"""First possible enrolment date of a simulated trial (a Monday)."""


@dataclass(frozen=True)
class ItemProfile:
    """How one diary item behaves, in fractions of its scale range.

    Attributes
    ----------
    baseline : float
        Mean baseline level across people, as a share of the scale range.
    baseline_sd : float
        Between-person SD of the baseline level (the random intercept).
    within_sd : float
        Median within-person SD of the daily values; each person's SD is this times a
        log-normal factor (``SimulationParameters.within_sd_spread``).
    placebo_loading : float
        Multiplier of the person's placebo response for this item.
    drug_loading : float
        Multiplier of the person's drug response for this item.
    response_sd : float
        SD of an item-specific, person-level deviation added to the placebo response.
    burden_loading : float
        Loading on the person-level "symptom burden" factor: the baselines of items j and k
        correlate by ``burden_loading_j * burden_loading_k`` (signed so that worse goes with
        worse).
    daily_loading : float
        Loading on the common daily factor: day-to-day fluctuations of items j and k
        correlate by ``daily_loading_j * daily_loading_k`` (a bad day is bad for every item).
    drug_share : float
        Share of people in whom the drug acts on this item at all (default 1): below 1, people
        differ in which symptoms the drug helps, so an item can move little on group average
        while still helping some people meet a responder rule.
    """

    baseline: float
    baseline_sd: float
    within_sd: float
    placebo_loading: float
    drug_loading: float
    response_sd: float
    burden_loading: float
    daily_loading: float
    drug_share: float = 1.0

    def __post_init__(self) -> None:
        for name in ("baseline_sd", "within_sd", "response_sd"):
            if getattr(self, name) < 0:
                raise ValueError(f"ItemProfile.{name} cannot be negative")
        if not 0 < self.baseline < 1:
            raise ValueError("ItemProfile.baseline is a share of the scale range, between 0 and 1")
        if not 0 <= self.drug_share <= 1:
            raise ValueError("ItemProfile.drug_share is a share between 0 and 1")
        for name in ("burden_loading", "daily_loading"):
            if not -1 <= getattr(self, name) <= 1:
                raise ValueError(f"ItemProfile.{name} is a factor loading between -1 and 1")


@dataclass(frozen=True)
class SideEffectProfile:
    """How often one checklist side effect starts, and how long it lasts.

    Attributes
    ----------
    onset_placebo : float
        Daily probability that an episode starts on placebo (and at baseline and washout).
    onset_active : float
        Daily probability that an episode starts on the active drug at the start dose.
    mean_days : float
        Mean length of an episode in days (geometric distribution).
    """

    onset_placebo: float
    onset_active: float
    mean_days: float

    def __post_init__(self) -> None:
        if not (0 <= self.onset_placebo <= 1 and 0 <= self.onset_active <= 1):
            raise ValueError("SideEffectProfile onsets are daily probabilities between 0 and 1")
        if self.mean_days < 1:
            raise ValueError("SideEffectProfile.mean_days is at least 1")


LDN_ITEMS: Mapping[str, ItemProfile] = MappingProxyType(
    {
        "pain": ItemProfile(
            baseline=0.62,
            baseline_sd=0.12,
            within_sd=0.10,
            placebo_loading=1.0,
            drug_loading=1.0,
            response_sd=0.06,
            burden_loading=0.7,
            daily_loading=0.6,
        ),
        "fatigue": ItemProfile(
            baseline=0.66,
            baseline_sd=0.14,
            within_sd=0.11,
            placebo_loading=0.7,
            drug_loading=1.14,
            response_sd=0.10,
            burden_loading=0.7,
            daily_loading=0.6,
            drug_share=0.5,
        ),
        "sleep": ItemProfile(
            baseline=0.45,
            baseline_sd=0.15,
            within_sd=0.13,
            placebo_loading=0.6,
            drug_loading=1.14,
            response_sd=0.08,
            burden_loading=0.5,
            daily_loading=0.5,
            drug_share=0.5,
        ),
        "mood": ItemProfile(
            baseline=0.52,
            baseline_sd=0.15,
            within_sd=0.11,
            placebo_loading=0.6,
            drug_loading=0.9,
            response_sd=0.08,
            burden_loading=0.6,
            daily_loading=0.6,
        ),
        "activity": ItemProfile(
            baseline=0.42,
            baseline_sd=0.15,
            within_sd=0.12,
            placebo_loading=0.6,
            drug_loading=0.6,
            response_sd=0.10,
            burden_loading=0.6,
            daily_loading=0.5,
        ),
        "satisfaction": ItemProfile(
            baseline=0.48,
            baseline_sd=0.15,
            within_sd=0.10,
            placebo_loading=0.6,
            drug_loading=0.9,
            response_sd=0.08,
            burden_loading=0.6,
            daily_loading=0.5,
        ),
    }
)
"""Profiles of the LDN example's items; pain, fatigue and sleep carry the calibrated effects."""

GENERIC_HIGHER_IS_WORSE = ItemProfile(
    baseline=0.60,
    baseline_sd=0.14,
    within_sd=0.11,
    placebo_loading=0.8,
    drug_loading=0.7,
    response_sd=0.08,
    burden_loading=0.6,
    daily_loading=0.5,
)
"""Profile of a symptom item (higher is worse) the simulator does not know by name."""

GENERIC_HIGHER_IS_BETTER = ItemProfile(
    baseline=0.45,
    baseline_sd=0.15,
    within_sd=0.12,
    placebo_loading=0.6,
    drug_loading=0.7,
    response_sd=0.08,
    burden_loading=0.6,
    daily_loading=0.5,
)
"""Profile of a well-being item (higher is better) the simulator does not know by name."""

LDN_SIDE_EFFECTS: Mapping[str, SideEffectProfile] = MappingProxyType(
    {
        "vivid_dreams": SideEffectProfile(onset_placebo=0.002, onset_active=0.008, mean_days=3.0),
        "headache": SideEffectProfile(onset_placebo=0.003, onset_active=0.006, mean_days=2.0),
        "nausea": SideEffectProfile(onset_placebo=0.002, onset_active=0.0025, mean_days=2.0),
        "diarrhea": SideEffectProfile(onset_placebo=0.002, onset_active=0.002, mean_days=2.0),
        "anxiety": SideEffectProfile(onset_placebo=0.002, onset_active=0.002, mean_days=3.0),
        "insomnia": SideEffectProfile(onset_placebo=0.002, onset_active=0.0025, mean_days=3.0),
    }
)
"""Side-effect profiles of the LDN example's checklist."""

GENERIC_SIDE_EFFECT = SideEffectProfile(onset_placebo=0.002, onset_active=0.0025, mean_days=2.0)
"""Profile of a checklist side effect the simulator does not know by name."""

WITHDRAWAL_REASONS: tuple[tuple[str, float], ...] = (
    ("Side effects", 0.3),
    ("Lost to follow-up", 0.3),
    ("Personal reasons", 0.25),
    ("No benefit", 0.15),
)


def _frozen(mapping: Mapping[str, ItemProfile]) -> Mapping[str, ItemProfile]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class SimulationParameters:
    """Every parameter of :func:`~diarytrial.simulate.simulate_trial`.

    The defaults reproduce the published LDN fibromyalgia trial (Younger et al. 2013); see
    ``docs/simulation.md`` for the source or rationale of each, and which are calibrated.
    Change one with :func:`dataclasses.replace`.

    Examples
    --------
    >>> import dataclasses
    >>> p = SimulationParameters()
    >>> p.ar1_rho
    0.5
    >>> dataclasses.replace(p, dropout_share=0.0).dropout_share
    0.0
    """

    # --- diary items ------------------------------------------------------------------------
    items: Mapping[str, ItemProfile] = field(default_factory=lambda: LDN_ITEMS)
    generic_higher_is_worse: ItemProfile = GENERIC_HIGHER_IS_WORSE
    generic_higher_is_better: ItemProfile = GENERIC_HIGHER_IS_BETTER
    within_sd_spread: float = 0.3
    """Log-SD of each person's multiplier of the within-person SD."""
    ar1_rho: float = 0.5
    """Day-to-day autocorrelation of the daily deviations."""
    slow_sd: float = 0.02
    """Stationary SD of a slow drift of each person's level (flares), share of the range."""
    slow_rho: float = 0.95
    """Day-to-day autocorrelation of the slow drift."""

    # --- effects ----------------------------------------------------------------------------
    placebo_mean: float = 0.186
    """Mean placebo improvement (share of baseline level) once it has set in."""
    placebo_sd: float = 0.086
    """Between-person SD of the placebo improvement."""
    placebo_onset_days: float = 7.0
    """Time constant of the placebo response from the first treatment day."""
    drug_responder_share: float = 0.3
    """Share of people whose drug response is strong."""
    drug_responder_mean: float = 0.337
    drug_responder_sd: float = 0.10
    drug_nonresponder_mean: float = 0.02
    drug_nonresponder_sd: float = 0.04
    drug_onset_days: float = 14.0
    """Median time constant of the drug's two-stage onset: ~60% at 2 x, ~95% at 5 x."""
    drug_onset_spread: float = 0.35
    """Log-SD of each person's onset time constant."""
    drug_offset_days: float = 3.0
    """Time constant of the drug effect's decay after the drug stops (two-stage)."""
    max_improvement: float = 0.95
    """Cap on the improvement of a higher-is-worse item (its level never falls below 5%)."""

    # --- participants -------------------------------------------------------------------------
    sites: tuple[str, ...] = ("stanford",)
    timezone: str = "America/Los_Angeles"
    recruitment_days: int = 540
    """Enrolment dates spread uniformly over this many days from the start date."""
    age_mean: float = 45.0
    age_sd: float = 11.0
    age_range: tuple[int, int] = (18, 70)
    opioid_share: float = 0.15

    # --- missing days, timing -----------------------------------------------------------------
    missing_start: float = 0.06
    """Probability that a diary day is missing on day 1 of the schedule."""
    missing_end_odds_ratio: float = 2.0
    """Odds ratio of a missing day on the last day of the schedule against day 1."""
    missing_bad_day: float = 0.5
    """Log-odds increase of a missing day per SD of a worse-than-usual day."""
    missing_person_sd: float = 0.5
    """Between-person SD of the log-odds of a missing day."""
    optional_skip: float = 0.05
    """Probability that an optional item (required = false) is left blank on a filled day."""
    submit_hours_mean: float = 3.5
    """Mean hours from the window's opening to the entry (21:30 for an 18:00 window)."""
    submit_hours_person_sd: float = 1.0
    submit_hours_day_sd: float = 0.75
    late_share: float = 0.03
    """Share of entries made offline that reach the server after the window closed."""

    # --- events -------------------------------------------------------------------------------
    dropout_share: float = 3 / 31
    withdrawal_reasons: tuple[tuple[str, float], ...] = WITHDRAWAL_REASONS
    side_effects: Mapping[str, SideEffectProfile] = field(default_factory=lambda: LDN_SIDE_EFFECTS)
    generic_side_effect: SideEffectProfile = GENERIC_SIDE_EFFECT
    unpleasantness: tuple[float, float, float] = (0.35, 0.5, 0.15)
    """Probabilities that an episode is not at all, somewhat and very unpleasant."""
    reduced_dose_excess: float = 0.5
    """Share of the drug's excess side-effect risk left after a dose reduction."""
    dose_reduction_probability: float = 0.5
    """Probability that a 'very' unpleasant episode in a treatment period lowers the dose."""
    adverse_event_probability: tuple[float, float, float] = (0.0, 0.25, 1.0)
    """Probability that an episode is recorded as an adverse event, by unpleasantness."""
    pgic_noise_sd: float = 12.0
    """SD (percentage points) of the perceived against the diary-measured improvement."""
    pgic_thresholds: tuple[float, float, float, float, float, float] = (50, 30, 10, -10, -30, -50)
    """Perceived improvement (%) at or above which the score is 1, 2, ... 6; below: 7."""
    guess_dont_know: float = 0.45
    """Probability that the blinding guess at a visit is "don't know"."""
    guess_midpoint: float = 15.0
    """Perceived improvement (%) at which a participant who guesses says drug or placebo
    equally often; better, they say drug more often."""
    guess_scale: float = 15.0
    """Scale (percentage points) of the logistic curve from perceived improvement to "drug"."""
    guess_drug_hint: float = 0.8
    """Log-odds increase of guessing "drug" while on the active drug: its side effects."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", _frozen(self.items))
        object.__setattr__(self, "side_effects", MappingProxyType(dict(self.side_effects)))
        if not -1 < self.ar1_rho < 1 or not -1 < self.slow_rho < 1:
            raise ValueError("ar1_rho and slow_rho are autocorrelations strictly between -1 and 1")
        for name in (
            "dropout_share",
            "drug_responder_share",
            "opioid_share",
            "late_share",
            "missing_start",
            "optional_skip",
            "dose_reduction_probability",
            "guess_dont_know",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} is a probability between 0 and 1")
        if not self.guess_scale > 0:
            raise ValueError("guess_scale is a positive number of percentage points")
        if abs(sum(self.unpleasantness) - 1) > 1e-9:
            raise ValueError("the unpleasantness probabilities must add up to 1")
        if not self.sites:
            raise ValueError("give at least one site")
        if self.recruitment_days < 1:
            raise ValueError("recruitment_days is at least 1")

    def item_profile(self, item: Item) -> ItemProfile:
        """The profile of `item`: by its id, else the generic profile of its direction."""
        if item.id in self.items:
            return self.items[item.id]
        if item.direction == "higher_is_worse":
            return self.generic_higher_is_worse
        return self.generic_higher_is_better

    def side_effect_profile(self, side_effect_id: str) -> SideEffectProfile:
        """The profile of a checklist side effect by its id, else the generic one."""
        return self.side_effects.get(side_effect_id, self.generic_side_effect)
