"""Solvers: gamma from the root of df/dgamma, rho from the root of dg/drho.

``g(rho) = min_gamma f(gamma, rho)`` is the criterion profiled over gamma;
by the envelope theorem ``g'(rho) = df/drho`` at ``gamma_hat(rho)``, so both
one-dimensional problems are root-finding on exact derivatives.

gamma: df/dgamma is evaluated on a log grid over [0, 1e8]; every upward
sign change is solved (Chandrupatla's bracketing method,
:func:`diarytrial.analysis._roots.find_roots`, the steps of SciPy's
``elementwise.find_root`` without its overhead, vectorised over trials and
brackets) and the candidate with the lowest criterion wins, the boundary
``gamma = 0`` being a candidate whenever df/dgamma(0) >= 0.  Chandrupatla's
method, like Brent's, keeps a sign-changing bracket and converges to machine
precision.

rho: the profile is evaluated on a grid over [-0.999, 0.999] (all grid
points at once); the root of g' in the bracket around the grid minimum is
then found with Brent's method (single fit) or Chandrupatla's (batch).  A minimum at the
edge of the grid is reported as a boundary fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from diarytrial.analysis._roots import brentq, find_roots

from ._design import BoolArray, FloatArray, IntArray
from ._reml import Evaluation, evaluate
from ._sums import RhoState, Sums, at_rho

GAMMA_GRID = np.array([0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0])
GAMMA_GRID = np.concatenate([GAMMA_GRID, [1e3, 1e4, 1e6, 1e8]])
RHO_LIMIT = 0.999
RHO_GRID = np.concatenate(
    [[-RHO_LIMIT, -0.99, -0.95], np.linspace(-0.9, 0.9, 19), [0.95, 0.99, RHO_LIMIT]]
)
BATCH_RHO_GRID = np.array(
    [-RHO_LIMIT, -0.9, -0.6, -0.3, 0.0, 0.2, 0.4, 0.6, 0.75, 0.9, 0.97, RHO_LIMIT]
)


# Batched fits (power analysis) stop well short of machine precision: the
# grid only has to rank rho values, and p-values need ~6 digits, not 15.
ROUGH = {"xrtol": 1e-6, "xatol": 1e-12}
BATCH_GAMMA_TOL = {"xrtol": 1e-11, "xatol": 1e-14}
BATCH_RHO_TOL = {"xatol": 1e-10, "xrtol": 0.0}
# Several full-precision fits at once (the items of one trial): rho to the
# precision brentq gives a single fit (xtol 1e-14, rtol 1e-15).
EXACT_RHO_TOL = {"xatol": 1e-14, "xrtol": 1e-15}


class DegenerateFitError(ValueError):
    """The REML criterion has no interior optimum the engine can report."""


@dataclass(frozen=True, eq=False)
class Optimum:
    """Per-trial optimum; ``ok`` is False where the trial could not be fitted."""

    gamma: FloatArray
    rho: FloatArray
    boundary: BoolArray
    ok: BoolArray
    evaluation: Evaluation  # at the optimum, K = 1


def _find_roots(
    func: Callable[[FloatArray, IntArray], FloatArray],
    lo: FloatArray,
    hi: FloatArray,
    idx: IntArray,
    tolerances: dict[str, float] | None,
) -> FloatArray:
    """Roots of ``func(x, idx)`` in the brackets [lo, hi], NaN where not found.

    Chandrupatla's method hands ``func`` only the still-active elements, with ``idx``
    compressed alongside, so ``idx`` tells the criterion which trials to use.
    """
    return find_roots(func, lo, hi, idx, **(tolerances or {}))


def _gamma_hat(st: RhoState, tolerances: dict[str, float] | None = None) -> FloatArray:
    """Global REML optimum of gamma for every row of ``st``; NaN if degenerate."""
    k = st.zq.shape[0]
    grid = GAMMA_GRID
    slope = evaluate(st, np.broadcast_to(grid, (k, grid.shape[0]))).f_gamma
    at_zero = slope[:, 0] >= 0.0
    rows, cols = np.nonzero((slope[:, :-1] < 0.0) & (slope[:, 1:] >= 0.0))
    roots = np.zeros(0)
    if rows.shape[0]:

        def fprime(gam: FloatArray, idx: IntArray) -> FloatArray:
            return evaluate(st, gam[:, None], idx=idx).f_gamma[:, 0]

        roots = _find_roots(fprime, grid[cols], grid[cols + 1], rows, tolerances)
    cand_rows = np.concatenate([rows, np.flatnonzero(at_zero)])
    cand = np.concatenate([roots, np.zeros(int(at_zero.sum()))])
    if cand_rows.shape[0] == 0:
        return np.full(k, np.nan)  # no root and no boundary optimum anywhere: degenerate
    values = evaluate(st, np.nan_to_num(cand)[:, None], idx=cand_rows).f[:, 0]
    values = np.where(np.isfinite(cand) & np.isfinite(values), values, np.inf)
    order = np.lexsort((values, cand_rows))
    first = order[np.r_[True, cand_rows[order][1:] != cand_rows[order][:-1]]]
    gamma = np.full(k, np.nan)
    gamma[cand_rows[first]] = np.where(np.isfinite(values[first]), cand[first], np.nan)
    # df/dgamma < 0 at gamma = 1e8 means sigma^2 -> 0: nothing sensible to report.
    bad = ~np.isfinite(slope).all(axis=1) | (slope[:, -1] < 0.0)
    gamma[bad] = np.nan
    return gamma


def _profile(
    sums: Sums,
    rho: FloatArray,
    idx: IntArray,
    random_intercept: bool,
    tolerances: dict[str, float] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """g(rho), g'(rho) and gamma_hat(rho), one rho per entry of ``idx``."""
    st = at_rho(sums, rho, idx)
    gamma = _gamma_hat(st, tolerances) if random_intercept else np.zeros(rho.shape[0])
    ev = evaluate(st, np.nan_to_num(gamma)[:, None], rho_derivative=True)
    bad = ~np.isfinite(gamma)
    return np.where(bad, np.nan, ev.f[:, 0]), np.where(bad, np.nan, ev.f_rho[:, 0]), gamma


@dataclass(frozen=True, eq=False)
class _Bracket:
    lo: FloatArray
    hi: FloatArray
    start: FloatArray  # grid minimum
    refine: BoolArray  # g' changes sign in [lo, hi]
    edge: BoolArray  # minimum at the end of the grid, pointing outwards
    ok: BoolArray


def _bracket(grid: FloatArray, values: FloatArray, slopes: FloatArray) -> _Bracket:
    n = values.shape[0]
    rows = np.arange(n)
    ok: BoolArray = np.asarray(np.isfinite(values).any(axis=1))
    k = np.argmin(np.where(np.isfinite(values), values, np.inf), axis=1)
    last = grid.shape[0] - 1
    sk = slopes[rows, k]
    right = (sk < 0.0) & (k < last) & (slopes[rows, np.minimum(k + 1, last)] > 0.0)
    left = (sk > 0.0) & (k > 0) & (slopes[rows, np.maximum(k - 1, 0)] < 0.0)
    edge = ((k == last) & (sk <= 0.0)) | ((k == 0) & (sk >= 0.0))
    return _Bracket(
        lo=np.where(right, grid[k], grid[np.maximum(k - 1, 0)]),
        hi=np.where(right, grid[np.minimum(k + 1, last)], grid[k]),
        start=grid[k],
        refine=ok & (right | left),
        edge=ok & edge,
        ok=ok,
    )


def _grid_profile(
    sums: Sums,
    grid: FloatArray,
    trials: IntArray,
    random_intercept: bool,
    tolerances: dict[str, float] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Profile values and slopes, shape (len(trials), len(grid))."""
    n, r = trials.shape[0], grid.shape[0]
    if n == 1:
        # One trial: all grid points in one vectorised pass.
        values, slopes, _ = _profile(
            sums, grid.copy(), np.repeat(trials, r), random_intercept, tolerances
        )
        return values.reshape(1, r), slopes.reshape(1, r)
    values = np.empty((n, r))
    slopes = np.empty((n, r))
    for c in range(r):
        values[:, c], slopes[:, c], _ = _profile(
            sums, np.full(n, grid[c]), trials, random_intercept, tolerances
        )
    return values, slopes


# --- single fit --------------------------------------------------------------------


def _gamma_single(st: RhoState) -> float:
    """gamma_hat for one trial; raises where the batch would report NaN."""
    gamma = float(_gamma_hat(st)[0])
    if not np.isfinite(gamma):
        raise DegenerateFitError(
            "the REML criterion has no finite optimum: either the outcome is (nearly) an exact "
            "linear function of the fixed effects, or it barely varies within participants "
            "(sigma_b^2 / sigma^2 > 1e8)"
        )
    return gamma


def fit_single(sums: Sums, *, ar1: bool, random_intercept: bool) -> Optimum:
    """Fit one trial (``sums`` with a single trial on axis 0)."""
    rho = 0.0
    rho_bound = False
    if ar1:
        values, slopes = _grid_profile(sums, RHO_GRID, np.zeros(1, np.intp), random_intercept)
        if not np.all(np.isfinite(values)):
            raise DegenerateFitError(
                "the REML criterion is not finite for some rho in (-1, 1): check that the "
                "outcome is not an exact linear function of the fixed effects"
            )
        br = _bracket(RHO_GRID, values, slopes)

        def profile(r: float) -> tuple[float, float]:
            st = at_rho(sums, np.array([r]))
            gamma = _gamma_single(st) if random_intercept else 0.0
            ev = evaluate(st, np.array([[gamma]]), rho_derivative=True)
            return float(ev.f[0, 0]), float(ev.f_rho[0, 0])

        if br.refine[0]:
            rho = brentq(lambda r: profile(r)[1], br.lo[0], br.hi[0], xtol=1e-14, rtol=1e-15)
        elif br.edge[0]:
            rho, rho_bound = float(br.start[0]), True
        else:
            # g' did not bracket the grid minimum (a kink where gamma_hat
            # leaves the boundary): bounded Brent on g itself.
            from scipy.optimize import minimize_scalar  # rare: not imported up front

            res = minimize_scalar(
                lambda r: profile(float(r))[0],
                bounds=(float(br.lo[0]), float(br.hi[0])),
                method="bounded",
                options={"xatol": 1e-12},
            )
            rho = float(res.x)
    st = at_rho(sums, np.array([rho]))
    gamma = _gamma_single(st) if random_intercept else 0.0
    ev = evaluate(st, np.array([[gamma]]), rho_derivative=ar1)
    return Optimum(
        gamma=np.array([gamma]),
        rho=np.array([rho]),
        boundary=np.array([(random_intercept and gamma == 0.0) or rho_bound]),
        ok=np.array([True]),
        evaluation=ev,
    )


# --- several full-precision fits at once -------------------------------------------


def fit_several(sums: Sums, *, ar1: bool, random_intercept: bool) -> Optimum:
    """Fit every trial in ``sums`` as :func:`fit_single` would, all at once.

    The same rho grid, bracket and gamma solver as :func:`fit_single`, vectorised over the
    trials (the root in rho by Chandrupatla's method at brentq's tolerance instead of brentq
    itself, so rho agrees to about 1e-14).  ``ok`` is False where :func:`fit_single` would
    take another path (a kink of the profile, a failure): refit those trials one by one.
    """
    n = sums.first_zq.shape[0]
    everyone = np.arange(n)
    rho = np.zeros(n)
    rho_bound = np.zeros(n, dtype=bool)
    ok: BoolArray = np.ones(n, dtype=bool)
    if ar1:
        r = RHO_GRID.shape[0]
        values, slopes, _ = _profile(
            sums, np.tile(RHO_GRID, n), np.repeat(everyone, r), random_intercept
        )
        values, slopes = values.reshape(n, r), slopes.reshape(n, r)
        br = _bracket(RHO_GRID, values, slopes)
        ok = np.isfinite(values).all(axis=1) & (br.refine | br.edge)
        rho, rho_bound = br.start.copy(), br.edge & ~br.refine
        todo = np.flatnonzero(ok & br.refine)
        if todo.shape[0]:

            def gprime(r: FloatArray, idx: IntArray) -> FloatArray:
                return _profile(sums, r, idx, random_intercept)[1]

            found = _find_roots(gprime, br.lo[todo], br.hi[todo], todo, EXACT_RHO_TOL)
            ok[todo] &= np.isfinite(found)
            rho[todo] = np.where(np.isfinite(found), found, rho[todo])
    st = at_rho(sums, rho, everyone)
    gamma = _gamma_hat(st) if random_intercept else np.zeros(n)
    ok &= np.isfinite(gamma)
    ev = evaluate(st, np.nan_to_num(gamma)[:, None], rho_derivative=ar1)
    ok &= np.isfinite(ev.f[:, 0]) & np.isfinite(ev.rss[:, 0])
    return Optimum(
        gamma=gamma,
        rho=rho,
        boundary=(random_intercept & (gamma == 0.0)) | rho_bound,
        ok=ok,
        evaluation=ev,
    )


# --- batched fit -------------------------------------------------------------------


def fit_batch(sums: Sums, *, ar1: bool, random_intercept: bool) -> Optimum:
    """Fit every trial in ``sums`` at once; failures are flagged, not raised."""
    n = sums.first_zq.shape[0]
    everyone = np.arange(n)
    rho = np.zeros(n)
    rho_bound = np.zeros(n, dtype=bool)
    ok: BoolArray = np.ones(n, dtype=bool)
    if ar1:
        values, slopes = _grid_profile(sums, BATCH_RHO_GRID, everyone, random_intercept, ROUGH)
        br = _bracket(BATCH_RHO_GRID, values, slopes)
        ok, rho, rho_bound = br.ok, br.start.copy(), br.edge
        todo = np.flatnonzero(br.refine)
        if todo.shape[0]:

            def gprime(r: FloatArray, idx: IntArray) -> FloatArray:
                return _profile(sums, r, idx, random_intercept, BATCH_GAMMA_TOL)[1]

            found = _find_roots(gprime, br.lo[todo], br.hi[todo], todo, BATCH_RHO_TOL)
            rho[todo] = np.where(np.isfinite(found), found, rho[todo])
    st = at_rho(sums, rho, everyone)
    gamma = _gamma_hat(st) if random_intercept else np.zeros(n)
    ok = ok & np.isfinite(gamma)
    ev = evaluate(st, np.nan_to_num(gamma)[:, None], rho_derivative=ar1)
    ok &= np.isfinite(ev.f[:, 0]) & np.isfinite(ev.rss[:, 0])
    return Optimum(
        gamma=gamma,
        rho=rho,
        boundary=(random_intercept & (gamma == 0.0)) | rho_bound,
        ok=ok,
        evaluation=ev,
    )
