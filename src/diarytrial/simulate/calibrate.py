"""Calibration of the simulator to the published LDN trial, and the search that set it.

The published endpoint (Younger et al., Arthritis Rheum 2013;65:529-538): the mean of the final
14 days of each condition against the mean of the 14-day baseline, as a percent change signed so
that less pain is positive; a responder has >= 30% less pain and >= 30% improvement in fatigue
or sleep. Targets: 28.8% less pain on LDN and 18.0% on placebo; 32% responders on LDN and 11%
on placebo.

Re-run the check with ``python -m diarytrial.simulate.calibrate`` and the search with
``python -m diarytrial.simulate.calibrate --search`` (a few minutes).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from diarytrial.analysis.improvement import percent_improvement, responders_from_improvement
from diarytrial.dataset.model import TrialDataset
from diarytrial.protocol import ProtocolFile, load_example
from diarytrial.simulate.parameters import SimulationParameters
from diarytrial.simulate.trial import simulate_trial

CALIBRATION_SEED = 2013
"""Seed of the calibration check and of the search (common random numbers)."""

TARGETS = {
    "pain_active": 28.8,
    "pain_placebo": 18.0,
    "responders_active": 32.0,
    "responders_placebo": 11.0,
}
"""Published figures, in percent."""

TOLERANCES = {
    "pain_active": 2.0,
    "pain_placebo": 2.0,
    "responders_active": 4.0,
    "responders_placebo": 4.0,
}
"""How far the simulated mean over trials may be from each target, in percentage points."""


@dataclass(frozen=True)
class CalibrationFigures:
    """Means over simulated trials of completers, in percent.

    Attributes
    ----------
    figures : dict
        ``pain_active``, ``pain_placebo`` (mean pain reduction), ``responders_active``,
        ``responders_placebo`` (responder rate): each the mean over trials of the trial's value.
    trial_sd : dict
        SD over trials of the same figures: how much one trial of this size varies.
    item_means : pandas.DataFrame
        Mean percent improvement of each item per condition (columns ``item``, ``active``,
        ``placebo``, ``difference``), over every completer used, and ``significant``: the
        share (%) of trials whose paired t-test of active against placebo gives P < 0.05.
    trials, trial_size, simulated : int
        Trials formed, completers per trial, participants simulated.
    missing_share, dropout_share : float
        Share of diary days missing while in the trial, and share of participants withdrawn.
    pain_30 : dict
        Share (%) of completers with at least 30% less pain, per condition (``active``,
        ``placebo``): the placebo figure compares with the 30.8% placebo responder rate across
        fibromyalgia drug trials (Häuser et al. 2011).
    """

    figures: dict[str, float]
    trial_sd: dict[str, float]
    item_means: pd.DataFrame
    trials: int
    trial_size: int
    simulated: int
    missing_share: float
    dropout_share: float
    pain_30: dict[str, float]

    def within_tolerance(self) -> dict[str, bool]:
        """Whether each figure is within its tolerance of the target."""
        return {k: abs(self.figures[k] - TARGETS[k]) <= TOLERANCES[k] for k in TARGETS}

    def table(self) -> pd.DataFrame:
        """Targets against achieved figures, one row per figure."""
        return pd.DataFrame(
            {
                "figure": list(TARGETS),
                "target": list(TARGETS.values()),
                "tolerance": [TOLERANCES[k] for k in TARGETS],
                "achieved": [self.figures[k] for k in TARGETS],
                "sd_between_trials": [self.trial_sd[k] for k in TARGETS],
            }
        )


def calibration_figures(
    parameters: SimulationParameters | None = None,
    *,
    trials: int = 500,
    trial_size: int = 28,
    seed: int = CALIBRATION_SEED,
    protocol: ProtocolFile | None = None,
    batch: int = 4000,
) -> CalibrationFigures:
    """Simulate `trials` trials of `trial_size` completers and measure the published endpoints.

    Participants are independent, so one long run is cut into trials: completers (status
    ``completed``, with the pain improvement and the responder status known in both
    conditions) are taken in the order of their codes, `trial_size` at a time.

    Examples
    --------
    >>> result = calibration_figures(trials=10, trial_size=28, batch=400)
    >>> sorted(result.figures)
    ['pain_active', 'pain_placebo', 'responders_active', 'responders_placebo']
    """
    if trials < 1 or trial_size < 1:
        raise ValueError("simulate at least one trial of at least one completer")
    loaded = protocol if protocol is not None else load_example("ldn-fibromyalgia")
    rule = loaded.protocol.responder.rule
    rng = np.random.default_rng(seed)
    needed = trials * trial_size
    kept: list[pd.DataFrame] = []
    responses: list[pd.DataFrame] = []
    count = simulated = filled = trial_days = withdrawn = 0
    while count < needed:
        # Ask for a little more than the completers still missing, never less than a batch.
        size = max(batch, int((needed - count) * 1.25))
        trial = simulate_trial(loaded, participants=size, seed=rng, parameters=parameters)
        simulated += size
        people = trial.participants
        withdrawn += int((people["status"] == "withdrawn").sum())
        trial_days += _days_in_trial(trial)
        filled += int(trial.diary.groupby(["participant_id", "diary_date"], observed=True).ngroups)
        improvement, response, usable = _usable_completers(trial, rule, needed - count)
        count += len(usable)
        kept.append(improvement[improvement["participant_id"].isin(usable)])
        responses.append(response[response["participant_id"].isin(usable)])

    improvement = pd.concat(kept, ignore_index=True)
    response = pd.concat(responses, ignore_index=True)
    order = {pid: k for k, pid in enumerate(pd.unique(improvement["participant_id"]))}
    improvement["trial"] = improvement["participant_id"].map(order) // trial_size
    response["trial"] = response["participant_id"].map(order) // trial_size
    pain = improvement[improvement["item"] == "pain"]
    figures, spread = _per_trial_figures(pain, response, trials)
    return CalibrationFigures(
        figures=figures,
        trial_sd=spread,
        item_means=_item_means(improvement),
        trials=trials,
        trial_size=trial_size,
        simulated=simulated,
        missing_share=1 - filled / trial_days,
        dropout_share=withdrawn / simulated,
        pain_30={
            str(k): float(v) * 100
            for k, v in (pain["improvement"] >= 30).groupby(pain["condition"]).mean().items()
        },
    )


def _days_in_trial(trial: TrialDataset) -> int:
    """Diary days due while in the trial: from the start to the withdrawal or the planned end."""
    people = trial.participants
    planned_end = trial.periods.groupby("participant_id")["end"].max()
    last_day = (
        people["withdrawn_on"]
        .sub(pd.Timedelta(days=1))
        .fillna(people["participant_id"].map(planned_end))
    )
    days_in = (last_day - people["start_date"]).dt.days + 1
    return int(days_in.sum())


def _usable_completers(
    trial: TrialDataset, rule: str, wanted: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Improvement and responders under both treatments, and up to `wanted` usable completers.

    A completer is usable when the pain improvement and the responder status are known in
    both conditions; they are taken in the order of their codes.
    """
    people = trial.participants
    improvement = percent_improvement(trial)
    improvement = improvement[improvement["condition"].isin(["active", "placebo"])]
    response = responders_from_improvement(improvement, rule)
    completers = set(people.loc[people["status"] == "completed", "participant_id"])
    known = response["responder"].notna().groupby(response["participant_id"]).agg(["all", "size"])
    decided = known["all"] & (known["size"] == 2)
    pain_rows = improvement[improvement["item"] == "pain"]
    pain_known = pain_rows["improvement"].notna().groupby(pain_rows["participant_id"]).all()
    usable = sorted(
        pid for pid in completers if decided.get(pid, False) and pain_known.get(pid, False)
    )[:wanted]
    return improvement, response, usable


def _per_trial_figures(
    pain: pd.DataFrame, response: pd.DataFrame, trials: int
) -> tuple[dict[str, float], dict[str, float]]:
    """The mean and the SD over trials of each trial's pain reduction and responder rate."""
    per_trial = pd.DataFrame(
        {
            "pain": pain.groupby(["trial", "condition"])["improvement"].mean(),
            "responders": response.groupby(["trial", "condition"])["responder"].mean() * 100,
        }
    ).unstack("condition")
    figures: dict[str, float] = {}
    spread: dict[str, float] = {}
    for measure in ("pain", "responders"):
        for condition in ("active", "placebo"):
            column = per_trial[(measure, condition)].astype(float)
            figures[f"{measure}_{condition}"] = float(column.mean())
            spread[f"{measure}_{condition}"] = float(column.std(ddof=1)) if trials > 1 else 0.0
    return figures, spread


def _item_means(improvement: pd.DataFrame) -> pd.DataFrame:
    """Mean improvement per item and condition, their difference and the share significant."""
    items = improvement.groupby(["item", "condition"], sort=False)["improvement"].mean().unstack()
    items = items.reindex(columns=["active", "placebo"])
    items["difference"] = items["active"] - items["placebo"]
    items["significant"] = _paired_significance(improvement).reindex(items.index)
    return items.reset_index()


def _paired_significance(improvement: pd.DataFrame) -> pd.Series:
    """Per item, the share of trials whose paired t-test of active vs placebo has P < 0.05."""
    wide = improvement.pivot_table(
        index=["item", "trial", "participant_id"], columns="condition", values="improvement"
    )
    difference = (wide["active"] - wide["placebo"]).dropna()
    by_trial = difference.groupby(level=["item", "trial"]).agg(["mean", "std", "count"])
    t = by_trial["mean"] / (by_trial["std"] / np.sqrt(by_trial["count"]))
    p = 2 * stats.t.sf(np.abs(t.to_numpy()), by_trial["count"].to_numpy() - 1)
    significant = pd.Series(p < 0.05, index=by_trial.index)
    return significant.groupby(level="item").mean() * 100


SEARCHED = ("placebo_mean", "placebo_sd", "drug_responder_mean", "fatigue_sleep_drug_loading")
"""The parameters the search sets; everything else is taken from literature or assumed."""


def with_search_values(
    parameters: SimulationParameters, values: Sequence[float] | npt.NDArray[np.float64]
) -> SimulationParameters:
    """`parameters` with the searched values (in the order of SEARCHED) put in."""
    placebo_mean, placebo_sd, responder_mean, loading = (float(v) for v in values)
    items = dict(parameters.items)
    for name in ("fatigue", "sleep"):
        items[name] = dataclasses.replace(items[name], drug_loading=loading)
    return dataclasses.replace(
        parameters,
        placebo_mean=placebo_mean,
        placebo_sd=max(placebo_sd, 0.0),
        drug_responder_mean=responder_mean,
        items=items,
    )


def search(
    start: SimulationParameters | None = None,
    *,
    trials: int = 250,
    iterations: int = 60,
    seed: int = CALIBRATION_SEED,
    verbose: bool = True,
) -> SimulationParameters:
    """Nelder-Mead search of SEARCHED so the figures meet TARGETS (common random numbers)."""
    from scipy.optimize import minimize

    base = start if start is not None else SimulationParameters()
    x0 = [
        base.placebo_mean,
        base.placebo_sd,
        base.drug_responder_mean,
        base.items["fatigue"].drug_loading,
    ]

    def loss(values: np.ndarray) -> float:
        began = time.perf_counter()
        result = calibration_figures(with_search_values(base, values), trials=trials, seed=seed)
        value = sum(((result.figures[k] - TARGETS[k]) / TOLERANCES[k]) ** 2 for k in TARGETS)
        if verbose:
            shown = ", ".join(f"{v:.4f}" for v in values)
            got = ", ".join(f"{k}={result.figures[k]:.1f}" for k in TARGETS)
            print(f"[{shown}] -> {got}; loss {value:.3f} ({time.perf_counter() - began:.0f} s)")
        return value

    best = minimize(
        loss,
        np.array(x0),
        method="Nelder-Mead",
        options={
            "maxfev": iterations,
            "xatol": 0.003,
            "fatol": 0.01,
            "initial_simplex": _simplex(x0),
        },
    )
    return with_search_values(base, best.x)


def _simplex(x0: Sequence[float]) -> np.ndarray:
    steps = np.array([0.03, 0.04, 0.06, 0.15])
    simplex = np.tile(np.asarray(x0, dtype=float), (len(x0) + 1, 1))
    for k in range(len(x0)):
        simplex[k + 1, k] += steps[k]
    return simplex


def main(argv: Sequence[str] | None = None) -> int:
    """Print the calibration table; with --search, search first and print the values found."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--search", action="store_true", help="run the calibration search")
    parser.add_argument("--trials", type=int, default=500)
    args = parser.parse_args(argv)
    parameters = SimulationParameters()
    if args.search:
        parameters = search(parameters)
        print("found:")
        print(f"  placebo_mean = {parameters.placebo_mean:.4f}")
        print(f"  placebo_sd = {parameters.placebo_sd:.4f}")
        print(f"  drug_responder_mean = {parameters.drug_responder_mean:.4f}")
        print(f"  fatigue/sleep drug_loading = {parameters.items['fatigue'].drug_loading:.4f}")
    began = time.perf_counter()
    result = calibration_figures(parameters, trials=args.trials)
    with pd.option_context("display.width", 120, "display.precision", 2):
        print(result.table().to_string(index=False))
        print(result.item_means.to_string(index=False))
    print(
        f"{result.trials} trials of {result.trial_size} completers from {result.simulated} "
        f"participants; missing days {result.missing_share:.1%}, withdrawn "
        f"{result.dropout_share:.1%}; {time.perf_counter() - began:.1f} s"
    )
    print(
        "at least 30% less pain: " + ", ".join(f"{k} {v:.1f}%" for k, v in result.pain_30.items())
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
