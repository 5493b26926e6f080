"""The profiled REML criterion and its exact derivatives.

With ``V = sigma^2 H``, ``H_i = R_i(rho) + gamma 1 1'`` and everything
prewhitened so that ``H_i* = I + gamma z_i* z_i*'``, Woodbury gives
``H_i*^{-1} = I - w_i z_i* z_i*'`` with ``w_i = gamma / (1 + gamma s_i)`` and
``s_i = z_i*' z_i*``.  So

    C(gamma, rho) = Q*' H*^{-1} Q* = QQ - sum_i w_i (z_i*'Q_i*)'(z_i*'Q_i*)

holds ``X'H^{-1}X``, ``X'H^{-1}y`` and ``y'H^{-1}y`` in one (p+1)-square
matrix.  Its Cholesky factor gives the GLS estimate, the residual sum of
squares ``RSS`` (the square of the last diagonal element) and
``log|X'H^{-1}X|``.  Profiling ``beta`` and ``sigma^2 = RSS / (N - p)`` out
leaves (Pinheiro & Bates 2000, sec. 2.2; Bates et al. 2015, eq. 42)

    f = -2 logLik_REML = (N - p) [1 + log(2 pi RSS / (N - p))]
        + sum_i log(1 + gamma s_i) + log|R(rho)| + log|X'H^{-1}X|.

Because ``RSS = min_beta e'Ce`` with ``e = (-beta, 1)``, its derivative in
any parameter is ``e' (dC) e`` (envelope theorem), hence

    df/dgamma = -(N - p) e'D e / RSS + sum_i s_i / (1 + gamma s_i) - tr(M^{-1} D_XX)
    D = sum_i (1 + gamma s_i)^{-2} (z_i*'Q_i*)'(z_i*'Q_i*)

and similarly for rho, with ``dC/drho`` from the rho-derivatives of the
transformed sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._design import FloatArray, IntArray
from ._sums import RhoState

LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Criterion and friends at a (k, K) array of gamma values."""

    f: FloatArray
    f_gamma: FloatArray
    f_rho: FloatArray
    beta: FloatArray  # (k, K, p) on the centred scale
    minv: FloatArray  # (k, K, p, p) = (X'H^{-1}X)^{-1}
    rss: FloatArray


def cholesky(a: FloatArray) -> FloatArray:
    """Lower Cholesky factor of a stack of small matrices, NaN where not PD."""
    n = a.shape[-1]
    lower = np.zeros_like(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(n):
            rest = a[..., j, j] - np.sum(lower[..., j, :j] ** 2, axis=-1)
            diag = np.sqrt(np.where(rest > 0.0, rest, np.nan))
            lower[..., j, j] = diag
            for i in range(j + 1, n):
                inner = np.sum(lower[..., i, :j] * lower[..., j, :j], axis=-1)
                lower[..., i, j] = (a[..., i, j] - inner) / diag
    return lower


def _small_algebra(c: FloatArray, q: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """beta, (X'H^-1X)^-1, RSS and log|X'H^-1X| from flattened C matrices.

    ``c`` has shape (..., q*q).  The matrices are tiny (q = p + 1) and there
    are many of them (trials x candidate gammas), so the Cholesky
    factorisation is unrolled over matrix entries and vectorised over the
    stack: far faster than a batched LAPACK call per 4x4 matrix, and a
    matrix that is not positive definite yields NaN instead of an exception.
    """
    p = q - 1
    low: dict[tuple[int, int], FloatArray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(q):
            rest = c[..., j * q + j].copy()
            for m in range(j):
                rest -= low[j, m] * low[j, m]
            diag = np.sqrt(np.where(rest > 0.0, rest, np.nan))
            low[j, j] = diag
            for i in range(j + 1, q):
                acc = c[..., i * q + j].copy()
                for m in range(j):
                    acc -= low[i, m] * low[j, m]
                low[i, j] = acc / diag
        inv: dict[tuple[int, int], FloatArray] = {}
        for j in range(p):
            inv[j, j] = 1.0 / low[j, j]
            for i in range(j + 1, p):
                acc = low[i, j] * inv[j, j]
                for m in range(j + 1, i):
                    acc = acc + low[i, m] * inv[m, j]
                inv[i, j] = -acc / low[i, i]
        # With C = L L', beta = L11'^{-1} l21, RSS = l22^2, M^{-1} = L11'^{-1} L11^{-1}.
        shape = c.shape[:-1]
        beta = np.empty((*shape, p))
        minv = np.empty((*shape, p, p))
        for a in range(p):
            acc = inv[a, a] * low[p, a]
            for i in range(a + 1, p):
                acc = acc + inv[i, a] * low[p, i]
            beta[..., a] = acc
            for b in range(a, p):
                acc = inv[b, a] * inv[b, b]
                for i in range(b + 1, p):
                    acc = acc + inv[i, a] * inv[i, b]
                minv[..., a, b] = acc
                minv[..., b, a] = acc
        logdet = 2.0 * sum(np.log(low[j, j]) for j in range(p))
    return beta, minv, low[p, p] ** 2, np.asarray(logdet, dtype=np.float64)


def _quad(e: FloatArray, a: FloatArray) -> FloatArray:
    """e' A e for stacks of vectors (..., q) and flattened matrices (..., q*q)."""
    q = e.shape[-1]
    total = np.zeros(e.shape[:-1])
    for i in range(q):
        total += e[..., i] * e[..., i] * a[..., i * q + i]
        for j in range(i + 1, q):
            total += 2.0 * e[..., i] * e[..., j] * a[..., i * q + j]
    return total


def _trace(minv: FloatArray, a: FloatArray, q: int) -> FloatArray:
    """tr(M^{-1} A_XX) with A flattened (..., q*q) and M^{-1} symmetric (..., p, p)."""
    p = q - 1
    total = np.zeros(minv.shape[:-2])
    for i in range(p):
        total += minv[..., i, i] * a[..., i * q + i]
        for j in range(i + 1, p):
            total += 2.0 * minv[..., i, j] * a[..., i * q + j]
    return total


def _wsum(weights: FloatArray, per_group: FloatArray) -> FloatArray:
    """sum_m weights[t, k, m] * per_group[t, m, :].

    einsum's own loop rather than BLAS: these products are small and many,
    and multithreaded BLAS stalls badly when the machine's cores are busy.
    """
    out: FloatArray = np.einsum("tkm,tmj->tkj", weights, per_group, optimize=False)
    return out


def evaluate(
    st: RhoState,
    gamma: FloatArray,
    *,
    idx: IntArray | None = None,
    rho_derivative: bool = False,
) -> Evaluation:
    """Profiled REML criterion ``f`` and its gradient at ``gamma`` (shape (k, K)).

    ``idx`` selects trials of ``st`` (all if None); only the arrays needed
    are gathered, which matters inside the batched root finders.
    """

    def sel(a: FloatArray) -> FloatArray:
        return a if idx is None else a[idx]

    zq, outer = sel(st.zq), sel(st.outer)
    k, _, q = zq.shape
    kk = gamma.shape[1]
    s = zq[:, None, :, 0]
    g = gamma[:, :, None]
    gs = g * s
    den = 1.0 + gs
    w = g / den
    d = 1.0 / (den * den)
    c = sel(st.qq).reshape(k, 1, q * q) - _wsum(w, outer)
    dgam = _wsum(d, outer)
    beta, minv, rss, logdet_m = _small_algebra(c, q)
    e = np.concatenate([-beta, np.ones((k, kk, 1))], axis=-1)
    nmp = sel(st.nmp)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (
            nmp * (1.0 + LOG_2PI + np.log(rss / nmp))
            + np.sum(np.log1p(gs), axis=-1)
            + sel(st.logdet)[:, None]
            + logdet_m
        )
        f_gamma = -nmp * _quad(e, dgam) / rss + np.sum(s / den, axis=-1) - _trace(minv, dgam, q)
        if rho_derivative:
            ds = sel(st.dzq)[:, None, :, 0]
            dw = -(g * g) * ds * d
            crho = sel(st.dqq).reshape(k, 1, q * q) - (_wsum(dw, outer) + _wsum(w, sel(st.douter)))
            f_rho = (
                nmp * _quad(e, crho) / rss
                + np.sum(g * ds / den, axis=-1)
                + _trace(minv, crho, q)
                + sel(st.dlogdet)[:, None]
            )
        else:
            f_rho = np.full_like(f, np.nan)
    return Evaluation(f=f, f_gamma=f_gamma, f_rho=f_rho, beta=beta, minv=minv, rss=rss)
