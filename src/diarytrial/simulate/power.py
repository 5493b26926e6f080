"""Simulation-based power of the primary contrast and of the responder comparison."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from diarytrial.analysis.improvement import responders
from diarytrial.analysis.mixed import mixed_model_batch
from diarytrial.analysis.primary import adjustment_terms, model_frame
from diarytrial.dataset.model import TrialDataset
from diarytrial.protocol import ProtocolFile, parse_rule
from diarytrial.simulate.parameters import SimulationParameters
from diarytrial.simulate.trial import simulate_trial

Progress = Callable[[int, int], None]


def power_analysis(
    protocol: ProtocolFile,
    *,
    participants: Sequence[int],
    trials: int,
    seed: int,
    parameters: SimulationParameters | None = None,
    alpha: float = 0.05,
    progress: Progress | None = None,
) -> pd.DataFrame:
    r"""Estimate power by simulating `trials` trials for each number of `participants`.

    For each sample size *n*, ``trials x n`` participants are simulated in one run (participants
    are independent, so consecutive groups of *n* form the trials) and each trial is analysed as
    the real one would be: the primary item's mixed model with AR(1) residuals (the contrast
    ``active``, two-sided) and the exact McNemar test of the responder rule. Power is the share
    of analysable trials with p < `alpha`; its Monte Carlo standard error is
    :math:`\sqrt{\hat p (1 - \hat p) / T}`.

    Returns one row per sample size with columns ``participants``, ``trials``, ``fitted``
    (trials the mixed model could be fitted to), ``power_mixed``, ``se_mixed``,
    ``mean_estimate`` (mean contrast, item units), ``power_responders``, ``se_responders``,
    ``responder_rate_active``, ``responder_rate_placebo``.

    Examples
    --------
    >>> from diarytrial.protocol import load_example
    >>> table = power_analysis(load_example("ldn-fibromyalgia"), participants=[6], trials=3, seed=1)
    >>> table[["participants", "trials"]].to_numpy().tolist()
    [[6, 3]]
    """
    sizes = [int(n) for n in participants]
    if not sizes or min(sizes) < 2:
        raise ValueError("give sample sizes of at least 2 participants, e.g. 10,20,30")
    if trials < 1:
        raise ValueError(f"trials must be at least 1 (got {trials})")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha is a probability in (0, 1) (got {alpha})")
    rng = np.random.default_rng(seed)
    rows = []
    total = sum(sizes) * trials
    done = 0
    for n in sizes:
        dataset = simulate_trial(
            protocol,
            participants=n * trials,
            seed=rng,
            parameters=parameters,
            events=False,
            items=_analysed_items(protocol),
        )
        rows.append(_power_at(dataset, n, trials, alpha))
        done += n * trials
        if progress is not None:
            progress(done, total)
    return pd.DataFrame(rows)


def _analysed_items(protocol: ProtocolFile) -> list[str]:
    """The primary item and the responder rule's items: all a power analysis reads."""
    spec = protocol.protocol
    return list(dict.fromkeys([spec.diary.items[0].id, *parse_rule(spec.responder.rule).items()]))


def _trial_of(dataset: TrialDataset, n: int) -> pd.Series:
    ids = dataset.participants["participant_id"].astype(str)
    return pd.Series(np.arange(len(ids)) // n, index=ids.to_numpy())


def _power_at(dataset: TrialDataset, n: int, trials: int, alpha: float) -> dict[str, float]:
    item = dataset.protocol.protocol.diary.items[0].id
    trial_of = _trial_of(dataset, n)
    frame = model_frame(dataset, item)
    frame["trial"] = trial_of.reindex(frame["participant_id"].cat.categories).to_numpy()[
        frame["participant_id"].cat.codes.to_numpy()
    ]
    fits = mixed_model_batch(
        frame,
        trial="trial",
        outcome="y",
        fixed=["active", *adjustment_terms(frame, dataset)],
        group="participant_id",
        contrast="active",
        time="day",
        correlation="ar1",
    )
    fitted = fits[fits["status"] == "ok"]
    significant = (fitted["p"] < alpha).to_numpy()
    power_mixed = float(significant.mean()) if len(fitted) else math.nan

    rows = responders(dataset).dropna(subset=["responder"])
    rows = rows.assign(
        trial=rows["participant_id"].astype(str).map(trial_of),
        responder=rows["responder"].astype(bool),
    )
    wide = rows.pivot_table(
        index=["trial", "participant_id"], columns="condition", values="responder", aggfunc="first"
    ).dropna()
    only_active = (wide["active"] & ~wide["placebo"]).groupby(level="trial").sum()
    only_placebo = (~wide["active"] & wide["placebo"]).groupby(level="trial").sum()
    p_values = [
        1.0 if a + b == 0 else stats.binomtest(int(a), int(a + b), 0.5).pvalue
        for a, b in zip(only_active, only_placebo, strict=True)
    ]
    rates = rows.groupby("condition")["responder"].mean()
    power_responders = float(np.mean(np.array(p_values) < alpha)) if p_values else math.nan
    return {
        "participants": n,
        "trials": trials,
        "fitted": len(fitted),
        "power_mixed": power_mixed,
        "se_mixed": _mcse(power_mixed, len(fitted)),
        "mean_estimate": float(fitted["estimate"].mean()) if len(fitted) else math.nan,
        "power_responders": power_responders,
        "se_responders": _mcse(power_responders, len(p_values)),
        "responder_rate_active": float(rates.get("active", math.nan)),
        "responder_rate_placebo": float(rates.get("placebo", math.nan)),
    }


def _mcse(p: float, count: int) -> float:
    return math.sqrt(p * (1 - p) / count) if count and math.isfinite(p) else math.nan
