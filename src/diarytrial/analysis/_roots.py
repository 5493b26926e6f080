"""Root finders of the analysis, without importing ``scipy.optimize``.

``scipy.optimize`` takes a large part of a second to import, and its vectorised root finder
spends most of its time on bookkeeping when each function evaluation is cheap. The two
functions here take the same steps in the same floating-point arithmetic as the SciPy routines
they are named after (SciPy 1.17, BSD licence), so they return the same roots to the last bit
(``tests/analysis/test_roots.py`` compares them):

* :func:`find_roots` -- Chandrupatla's bracketing method, vectorised over brackets, as
  ``scipy.optimize.elementwise.find_root``;
* :func:`brentq` -- Brent's method for one scalar root, as ``scipy.optimize.brentq``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_EPS = float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).smallest_normal)
_MAXITER = math.log2(float(np.finfo(np.float64).max)) - math.log2(_TINY)


def find_roots(
    func: Callable[[FloatArray, IntArray], FloatArray],
    lo: FloatArray,
    hi: FloatArray,
    idx: IntArray,
    *,
    xatol: float | None = None,
    xrtol: float | None = None,
) -> FloatArray:
    """Roots of ``func(x, idx)`` in the brackets [lo, hi] by Chandrupatla's method.

    ``func`` receives only the brackets still being refined, with ``idx`` compressed alongside,
    so that it can tell which problem each abscissa belongs to. A bracket converges when its
    width falls below ``xatol + xrtol * |x|`` (defaults: 4 x the smallest normal double and
    4 x machine epsilon) or the function value below the smallest normal double; the result is
    NaN where the bracket holds no sign change or the function is NaN.

    References
    ----------
    Chandrupatla, T. R. (1997). A new hybrid quadratic/bisection algorithm for finding the
    zero of a nonlinear function without using derivatives. *Advances in Engineering
    Software* 28(3), 145-149.
    """
    xatol = 4 * _TINY if xatol is None else xatol
    xrtol = 4 * _EPS if xrtol is None else xrtol
    fatol = _TINY
    x1 = np.array(lo, dtype=np.float64)
    x2 = np.array(hi, dtype=np.float64)
    args = np.array(idx)
    f1 = np.asarray(func(x1, args), dtype=np.float64).copy()
    f2 = np.asarray(func(x2, args), dtype=np.float64).copy()
    n = x1.shape[0]
    result = np.zeros(n)
    success = np.zeros(n, dtype=bool)
    active = np.arange(n)
    x3 = f3 = np.zeros(n)
    t: FloatArray | float = 0.5

    # SciPy's relative function tolerance, 0 x min(|f(lo)|, |f(hi)|): NaN where an end is not
    # finite, which then never counts as converged on the function value.
    ftol = fatol + 0.0 * np.minimum(np.abs(f1), np.abs(f2))

    def check() -> tuple[npt.NDArray[np.bool_], FloatArray, FloatArray]:
        """The brackets that converged or failed; the widths and tolerances of all."""
        smaller = np.abs(f1) < np.abs(f2)
        xmin = np.where(smaller, x1, x2)
        fmin = np.where(smaller, f1, f2)
        hit = np.abs(fmin) <= ftol
        failed = ~hit & (
            (np.sign(f1) == np.sign(f2))
            | ~(np.isfinite(x1) & np.isfinite(x2))
            | (np.isnan(f1) & np.isnan(f2))
        )
        xmin[failed] = np.nan
        dx = np.abs(x2 - x1)
        tol = np.abs(xmin) * xrtol + xatol
        converged = hit | (dx < tol)
        stop = converged | failed
        result[active[stop]] = xmin[stop]
        success[active[stop]] = converged[stop]
        return stop, dx, tol

    stop, dx, tol = check()
    nit = 0
    while True:
        if stop.any():
            keep = ~stop
            active = active[keep]
            x1, x2, f1, f2, args = x1[keep], x2[keep], f1[keep], f2[keep], args[keep]
            x3, f3, dx, tol, ftol = x3[keep], f3[keep], dx[keep], tol[keep], ftol[keep]
            if isinstance(t, np.ndarray):
                t = t[keep]
        if nit and active.shape[0]:
            # The next step: inverse quadratic interpolation where it is safe, else bisection.
            xi1 = (x1 - x2) / (x3 - x2)
            with np.errstate(divide="ignore", invalid="ignore"):
                phi1 = (f1 - f2) / (f3 - f2)
            alpha = (x3 - x1) / (x2 - x1)
            j = ((1 - np.sqrt(1 - xi1)) < phi1) & (phi1 < np.sqrt(xi1))
            step = np.full_like(alpha, 0.5)
            f1j, f2j, f3j, alphaj = f1[j], f2[j], f3[j], alpha[j]
            step[j] = f1j / (f1j - f2j) * f3j / (f3j - f2j) - alphaj * f1j / (f3j - f1j) * f2j / (
                f2j - f3j
            )
            tl = 0.5 * tol / dx
            t = np.clip(step, tl, 1 - tl)
        if nit >= _MAXITER or active.shape[0] == 0:
            break
        x = x1 + t * (x2 - x1)
        f = np.asarray(func(x, args), dtype=np.float64)
        x3, f3 = x2.copy(), f2.copy()
        same = np.sign(f) == np.sign(f1)
        x3[same], f3[same] = x1[same], f1[same]
        x2[~same], f2[~same] = x1[~same], f1[~same]
        x1, f1 = x, f
        nit += 1
        stop, dx, tol = check()
    found: FloatArray = np.where(success, result, np.nan)
    return found


def brentq(
    func: Callable[[float], float],
    a: float,
    b: float,
    *,
    xtol: float = 2e-12,
    rtol: float = 4 * _EPS,
    maxiter: int = 100,
) -> float:
    """A root of ``func`` in [a, b] by Brent's method, as ``scipy.optimize.brentq``.

    Raises ValueError when ``func(a)`` and ``func(b)`` have the same sign, when ``func``
    returns NaN, or after `maxiter` steps without convergence.

    References
    ----------
    Brent, R. P. (1973). *Algorithms for Minimization Without Derivatives*, ch. 4.
    Prentice-Hall.
    """
    if xtol <= 0 or rtol < 4 * _EPS:
        raise ValueError(f"brentq needs xtol > 0 and rtol >= 4 eps, got {xtol}, {rtol}")

    def value(x: float) -> float:
        fx = float(func(x))
        if math.isnan(fx):
            raise ValueError(f"the function value at x={x} is NaN; the root search cannot go on")
        return fx

    xpre, xcur = float(a), float(b)
    xblk = fblk = spre = scur = 0.0
    fpre, fcur = value(xpre), value(xcur)
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    if math.copysign(1.0, fpre) == math.copysign(1.0, fcur):
        raise ValueError("f(a) and f(b) must have different signs")
    for _ in range(maxiter):
        if fpre != 0 and fcur != 0 and math.copysign(1.0, fpre) != math.copysign(1.0, fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:
                stry = -fcur * (xcur - xpre) / (fcur - fpre)  # secant
            else:
                dpre = (fpre - fcur) / (xpre - xcur)  # inverse quadratic
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):
                spre, scur = scur, stry
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        if abs(scur) > delta:
            xcur += scur
        else:
            xcur += delta if sbis > 0 else -delta
        fcur = value(xcur)
    raise ValueError(f"no root found to the tolerance in {maxiter} steps")
