"""Why a trial cannot be fitted: too few participants or nights, no variation, collinearity."""

from __future__ import annotations

import numpy as np

from . import _sums
from ._design import Design, IntArray
from ._reml import cholesky

COLLINEAR_TOL = 1e-10


def _collinear(design: Design, sums: _sums.Sums) -> IntArray:
    """Index of the first column of [X, y] (per trial) that adds no rank; -1 if none.

    Index p (the outcome) means y is an exact linear function of X.
    """
    qq = _sums.at_rho(sums, np.zeros(design.n_trials)).qq
    diag = np.diagonal(qq, axis1=1, axis2=2)
    scale = np.sqrt(np.where(diag > 0.0, diag, 1.0))
    corr = qq / (scale[:, :, None] * scale[:, None, :])
    # The squared pivots of the scaled matrix are 1 - R^2 of each column on
    # the columns before it, so a tiny pivot names the redundant column.
    pivot = np.diagonal(cholesky(corr), axis1=1, axis2=2)
    flag = ~(pivot**2 > COLLINEAR_TOL)
    flag[:, : design.p] |= design.constant
    flag[:, 0] = False
    return np.where(flag.any(axis=1), np.argmax(flag, axis=1), -1).astype(np.intp)


def trial_problems(
    design: Design, sums: _sums.Sums, *, random_intercept: bool, ar1: bool
) -> list[str]:
    """Reasons (one string per trial, "" if fine) that a trial cannot be fitted."""
    trial_first_group = np.r_[0, np.cumsum(design.n_groups)[:-1]]
    longest = np.maximum.reduceat(design.group_size, trial_first_group)
    bad_col = _collinear(design, sums)
    out: list[str] = []
    for t in range(design.n_trials):
        n_obs, n_groups = int(design.n_obs[t]), int(design.n_groups[t])
        if random_intercept and n_groups < 2:
            out.append(
                f"a random intercept needs at least 2 participants, found {n_groups}; "
                "for a single series (n-of-1) use gls_ar1()"
            )
        elif n_obs <= design.p + int(random_intercept) + int(ar1):
            out.append(
                f"only {n_obs} observation(s) for {design.p} fixed effect(s) plus the "
                "variance parameters; more diary nights are needed"
            )
        elif (random_intercept or ar1) and longest[t] < 2:
            out.append(
                "every participant has a single observation, so the within-participant "
                "structure (random intercept / AR(1)) is not identifiable"
            )
        elif design.y_constant[t]:
            out.append("the outcome has no variation (every value is the same)")
        elif bad_col[t] == design.p:
            out.append(
                "the outcome is an exact linear function of the fixed effects, leaving no "
                "residual variation to model"
            )
        elif bad_col[t] >= 0:
            name = design.terms[int(bad_col[t])]
            what = (
                "is constant"
                if design.constant[t, int(bad_col[t])]
                else "is collinear with the intercept and the other fixed effects"
            )
            out.append(f"fixed effect {name!r} {what}; drop it or recode the design")
        else:
            out.append("")
    return out
