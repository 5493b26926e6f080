"""The REML engine against lme4 and nlme on stored fixtures (no R needed).

The datasets and R's numbers live in ``fixtures/reml``; regenerate them with
``Rscript tests/analysis/fixtures/reml/make_reference.R``.  In the R calls
quoted below, ``data`` is ``read.csv("<dataset>.csv")`` and the control
objects are defined in that script: ``lmer_ctrl`` tightens nloptwrap's
tolerances; ``lme_ctrl`` / ``lme_ctrl_bfgs`` / ``gls_ctrl`` are the tightest
nlminb / optim settings (the script keeps whichever reaches the higher REML
log-likelihood).

Tolerances: <= 1e-6 relative against lme4 (random intercept) and <= 1e-5
against nlme (AR(1)); nlme's optimiser stops about 1e-10 short of the REML
maximum in log-likelihood, which is where its ~1e-6 differences come from.
Our log-likelihood must be at least R's (to rounding).
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from diarytrial.analysis.mixed import (
    MixedModelResult,
    gls_ar1,
    mixed_model,
    mixed_model_batch,
)

FIXTURES = Path(__file__).parent / "fixtures" / "reml"
FIXED = ["active", "period"]


@cache
def _reference() -> dict[str, Any]:
    with (FIXTURES / "reference.json").open() as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


def _ref(dataset: str, fit: str) -> dict[str, Any]:
    entry: dict[str, Any] = _reference()["datasets"][dataset]["fits"][fit]
    return entry


def _data(dataset: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"{dataset}.csv")


def _close_p(ours: float, theirs: float, rtol: float) -> bool:
    # Tiny p-values amplify the relative error of t, so compare log p there.
    if abs(ours - theirs) <= 1e-9:
        return True
    return abs(math.log(ours) - math.log(theirs)) <= rtol * max(1.0, abs(math.log(theirs)))


def _assert_matches(
    fit: MixedModelResult, ref: dict[str, Any], *, rtol: float, boundary: bool = False
) -> None:
    """Every number R reported for this fit, within ``rtol`` (relative)."""
    table = fit.coefficients.set_index("term")
    assert list(table.index) == list(ref["coefficients"])
    for term, want in ref["coefficients"].items():
        row = table.loc[term]
        assert row["estimate"] == pytest.approx(want["estimate"], rel=rtol), term
        assert row["se"] == pytest.approx(want["se"], rel=rtol), term
        if want["df"] is not None:
            assert row["df"] == want["df"], term
            assert row["t"] == pytest.approx(want["t"], rel=rtol), term
            assert _close_p(row["p"], want["p"], rtol), (term, row["p"], want["p"])
    assert fit.sigma == pytest.approx(ref["sigma"], rel=rtol)
    if ref["sigma_b"] is None:
        assert math.isnan(fit.sigma_b)
    elif boundary:
        # R cannot reach sigma_b = 0 exactly (nlme works on log sigma_b).
        assert fit.sigma_b == 0.0
        assert ref["sigma_b"] < 1e-4 * ref["sigma"]
    else:
        assert fit.sigma_b == pytest.approx(ref["sigma_b"], rel=rtol)
    assert fit.rho == pytest.approx(ref["rho"], rel=rtol, abs=rtol)
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-9)
    assert fit.loglik >= ref["loglik"] - 1e-9 * abs(ref["loglik"])
    assert fit.n_obs == ref["n_obs"]
    assert fit.n_groups == ref["n_groups"]
    assert fit.boundary == boundary


# --- balanced: 24 participants, AB/BA, 2 x 28 days, 7-day washout (a gap of 8) ------


def test_balanced_ar1() -> None:
    fit = mixed_model(_data("balanced"), outcome="y", fixed=FIXED, group="id")
    # R: lme(y ~ active + period, data, random = ~1 | id,
    #        correlation = corAR1(form = ~day | id), method = "REML", control = lme_ctrl)
    _assert_matches(fit, _ref("balanced", "lme_ar1"), rtol=1e-5)


def test_balanced_random_intercept_lme4() -> None:
    fit = mixed_model(_data("balanced"), outcome="y", fixed=FIXED, group="id", correlation="none")
    # R: lmer(y ~ active + period + (1 | id), data, REML = TRUE, control = lmer_ctrl)
    _assert_matches(fit, _ref("balanced", "lmer_ri"), rtol=1e-6)
    # R: lme(y ~ active + period, data, random = ~1 | id, method = "REML",
    #        control = lme_ctrl_bfgs)   -- for nlme's df and p-values
    _assert_matches(fit, _ref("balanced", "lme_ri"), rtol=1e-5)


# --- missing20: 30 participants, 20% of nights missing, 2 dropouts -----------------


def test_missing_nights_ar1() -> None:
    fit = mixed_model(_data("missing20"), outcome="y", fixed=FIXED, group="id")
    # R: lme(y ~ active + period, data, random = ~1 | id,
    #        correlation = corAR1(form = ~day | id), method = "REML", control = lme_ctrl)
    _assert_matches(fit, _ref("missing20", "lme_ar1"), rtol=1e-5)


def test_missing_nights_random_intercept_lme4() -> None:
    fit = mixed_model(_data("missing20"), outcome="y", fixed=FIXED, group="id", correlation="none")
    # R: lmer(y ~ active + period + (1 | id), data, REML = TRUE, control = lmer_ctrl)
    _assert_matches(fit, _ref("missing20", "lmer_ri"), rtol=1e-6)
    # R: lme(y ~ active + period, data, random = ~1 | id, method = "REML", control = lme_ctrl)
    _assert_matches(fit, _ref("missing20", "lme_ri"), rtol=1e-5)


def test_missing_nights_between_participant_covariate() -> None:
    fit = mixed_model(_data("missing20"), outcome="y", fixed=[*FIXED, "sequence"], group="id")
    # R: lme(y ~ active + period + sequence, data, random = ~1 | id,
    #        correlation = corAR1(form = ~day | id), method = "REML", control = lme_ctrl)
    # (sequence is participant-level, so nlme gives it M - 1 - 1 = 28 df)
    _assert_matches(fit, _ref("missing20", "lme_ar1_sequence"), rtol=1e-5)


# --- negative_rho: 16 participants, 2 x 10 days, rho = -0.4 ------------------------


def test_negative_autocorrelation_ar1() -> None:
    fit = mixed_model(_data("negative_rho"), outcome="y", fixed=FIXED, group="id")
    # R: lme(y ~ active + period, data, random = ~1 | id,
    #        correlation = corAR1(form = ~day | id), method = "REML",
    #        control = lme_ctrl_bfgs)
    _assert_matches(fit, _ref("negative_rho", "lme_ar1"), rtol=1e-5)


def test_negative_autocorrelation_random_intercept_lme4() -> None:
    fit = mixed_model(
        _data("negative_rho"), outcome="y", fixed=FIXED, group="id", correlation="none"
    )
    # R: lmer(y ~ active + period + (1 | id), data, REML = TRUE, control = lmer_ctrl)
    _assert_matches(fit, _ref("negative_rho", "lmer_ri"), rtol=1e-6)
    # R: lme(y ~ active + period, data, random = ~1 | id, method = "REML",
    #        control = lme_ctrl_bfgs)
    _assert_matches(fit, _ref("negative_rho", "lme_ri"), rtol=1e-5)


# --- boundary: 12 participants whose means were made equal: REML sigma_b = 0 -------


def test_boundary_random_intercept_lme4() -> None:
    fit = mixed_model(_data("boundary"), outcome="y", fixed=FIXED, group="id", correlation="none")
    # R: lmer(y ~ active + period + (1 | id), data, REML = TRUE, control = lmer_ctrl)
    #    -> "boundary (singular) fit", isSingular() TRUE
    ref = _ref("boundary", "lmer_ri")
    assert ref["singular"] is True
    _assert_matches(fit, ref, rtol=1e-6, boundary=True)
    # R: lme(y ~ active + period, data, random = ~1 | id, method = "REML", control = lme_ctrl)
    _assert_matches(fit, _ref("boundary", "lme_ri"), rtol=1e-5, boundary=True)


def test_boundary_ar1() -> None:
    fit = mixed_model(_data("boundary"), outcome="y", fixed=FIXED, group="id")
    # R: lme(y ~ active + period, data, random = ~1 | id,
    #        correlation = corAR1(form = ~day | id), method = "REML", control = lme_ctrl)
    _assert_matches(fit, _ref("boundary", "lme_ar1"), rtol=1e-5, boundary=True)


# --- nof1: one participant, 84 days in 4 blocks, 15% missing: gls path ------------


def test_single_series_gls() -> None:
    fit = gls_ar1(_data("nof1"), outcome="y", fixed=FIXED, time="day")
    # R: gls(y ~ active + period, data, correlation = corAR1(form = ~day),
    #        method = "REML", control = gls_ctrl)
    _assert_matches(fit, _ref("nof1", "gls_ar1"), rtol=1e-5)


# --- the batched engine reproduces the same R numbers -------------------------------


def test_batch_reproduces_r() -> None:
    names = ["balanced", "missing20", "negative_rho", "boundary"]
    stacked = pd.concat([_data(n).assign(trial=n) for n in names], ignore_index=True)
    out = mixed_model_batch(
        stacked, trial="trial", outcome="y", fixed=FIXED, group="id", contrast="active"
    )
    for name in names:
        # R: lme(y ~ active + period, data, random = ~1 | id,
        #        correlation = corAR1(form = ~day | id), method = "REML", control = ...)
        ref = _ref(name, "lme_ar1")
        want = ref["coefficients"]["active"]
        row = out.loc[name].to_dict()
        assert row["estimate"] == pytest.approx(want["estimate"], rel=1e-5)
        assert row["se"] == pytest.approx(want["se"], rel=1e-5)
        assert row["df"] == want["df"]
        assert _close_p(row["p"], want["p"], 1e-5)
        assert row["rho"] == pytest.approx(ref["rho"], rel=1e-5, abs=1e-5)
        assert np.isfinite(row["loglik"])
