"""Per-participant summary sums of the prewhitened data, as functions of rho.

Prewhitening one participant's series with gaps ``g_j = t_j - t_{j-1}`` and
``r_j = rho ** g_j`` gives ``a*_1 = a_1`` and
``a*_j = (a_j - r_j a_{j-1}) / sqrt(1 - r_j**2)`` for every column ``a`` of
``Q = [X, y]`` (``X`` holds the intercept, which is also the random-effect
column ``z``).  Writing ``delta = 1 - r`` and ``d_j = a_j - a_{j-1}``, the
numerator is ``delta a_{j-1} + d_j``, so every cross-product of transformed
columns is a fixed combination of three rho-free sums per gap value:

    sum_j a*_j b*_j = [delta P + D + E / delta] / (2 - delta)
    P = sum a_{j-1} b_{j-1},  D = sum (a_{j-1} d^b_j + d^a_j b_{j-1}),  E = sum d^a_j d^b_j

and, because ``z`` is the all-ones column,

    sum_j z*_j b*_j = [delta SP + SD] / (2 - delta),  SP = sum b_{j-1},  SD = sum d^b_j.

The sums are collected once per (participant, gap) and (trial, gap); after
that a new rho costs O(participants x gaps x q^2), independent of the number
of rows.  The ``delta`` form keeps the arithmetic accurate as rho -> 1, where
the textbook ``a_j - rho a_{j-1}`` form cancels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from ._design import Design, FloatArray, IntArray


@dataclass(frozen=True, eq=False)
class Sums:
    """Rho-free sums; trials on axis 0, zero-padded to the largest trial."""

    gaps: FloatArray  # (G,)
    first_zq: FloatArray  # (T, M, q) first row of each participant (all rows if G == 0)
    sp: FloatArray  # (T, G, M * q), gap-major so a new rho is one small matmul
    sd: FloatArray  # (T, G, M * q)
    first_qq: FloatArray  # (T, q, q)
    pp: FloatArray  # (T, G, q * q)
    dd: FloatArray  # (T, G, q * q)
    ee: FloatArray  # (T, G, q * q)
    n_gap: FloatArray  # (T, G) number of consecutive pairs with each gap
    nmp: FloatArray  # (T,) N - p


@dataclass(frozen=True, eq=False)
class RhoState:
    """Transformed sums at one rho per trial, and their rho-derivatives.

    ``zq[t, i] = z_i*' Q_i*``; ``outer`` holds ``zq zq'`` flattened, which is
    all the Woodbury correction for ``I + gamma z* z*'`` needs.
    """

    zq: FloatArray  # (k, M, q)
    dzq: FloatArray
    outer: FloatArray  # (k, M, q*q)
    douter: FloatArray
    qq: FloatArray  # (k, q, q)
    dqq: FloatArray
    logdet: FloatArray  # (k,) log|R|, R the AR(1) correlation matrix
    dlogdet: FloatArray
    nmp: FloatArray  # (k,)


def _pad(design: Design, per_group: FloatArray) -> FloatArray:
    out = np.zeros((design.n_trials, design.m_max, *per_group.shape[1:]), dtype=np.float64)
    out[design.group_trial, design.group_rank] = per_group
    return out


def _trial_row_bounds(design: Design) -> IntArray:
    """Row offsets of the trials (length T + 1); rows are sorted by trial."""
    per_trial = np.bincount(
        design.group_trial, weights=design.group_size, minlength=design.n_trials
    )
    bounds: IntArray = np.r_[0, np.cumsum(per_trial)].astype(np.intp)
    return bounds


def _per_trial_cross(lo: IntArray, hi: IntArray, left: FloatArray, right: FloatArray) -> FloatArray:
    """sum_{r in [lo_t, hi_t)} left_r right_r' per trial t (one GEMM per trial)."""
    out = np.empty((lo.shape[0], left.shape[1], right.shape[1]))
    for t in range(lo.shape[0]):
        out[t] = left[lo[t] : hi[t]].T @ right[lo[t] : hi[t]]
    return out


def build(design: Design, *, ar1: bool) -> Sums:
    """Collect the rho-free sums in a few vectorised passes over the rows."""
    q_rows = np.column_stack([design.x, design.y])
    n_trials, q = design.n_trials, q_rows.shape[1]
    nmp = (design.n_obs - design.p).astype(np.float64)
    bounds = _trial_row_bounds(design)
    if not ar1:
        return _build_without_ar1(design, q_rows, bounds, nmp)
    if design.day is None:
        raise ValueError("an AR(1) fit needs a time column")
    pairs = _pairs(design.group_start, design.day, q_rows.shape[0])
    first = q_rows[design.group_start]
    sp, sd = _group_gap_sums(design, q_rows, first, pairs)
    pp, dd, ee = _trial_gap_sums(design, q_rows, bounds, pairs)
    trial_first_group = np.r_[0, np.cumsum(design.n_groups)[:-1]]
    first_outer = first[:, :, None] * first[:, None, :]
    first_qq = np.add.reduceat(first_outer, trial_first_group, axis=0)
    n_g = pairs.gaps.shape[0]
    return Sums(
        gaps=pairs.gaps,
        first_zq=_pad(design, first),
        sp=_gap_major(design, sp),
        sd=_gap_major(design, sd),
        first_qq=first_qq,
        pp=pp.reshape(n_trials, n_g, q * q),
        dd=dd.reshape(n_trials, n_g, q * q),
        ee=ee.reshape(n_trials, n_g, q * q),
        n_gap=pp[:, :, 0, 0].copy(),
        nmp=nmp,
    )


def _build_without_ar1(
    design: Design, q_rows: FloatArray, bounds: IntArray, nmp: FloatArray
) -> Sums:
    """The sums without AR(1), where the transformation is the identity: the "first row"
    slots simply hold the full sums and there are no gap terms."""
    n_trials, q = design.n_trials, q_rows.shape[1]
    zq = np.add.reduceat(q_rows, design.group_start, axis=0)
    empty = np.zeros((n_trials, 0, q * q))
    return Sums(
        gaps=np.zeros(0),
        first_zq=_pad(design, zq),
        sp=np.zeros((n_trials, 0, design.m_max * q)),
        sd=np.zeros((n_trials, 0, design.m_max * q)),
        first_qq=_per_trial_cross(bounds[:-1], bounds[1:], q_rows, q_rows),
        pp=empty,
        dd=empty.copy(),
        ee=empty.copy(),
        n_gap=np.zeros((n_trials, 0)),
        nmp=nmp,
    )


@dataclass(frozen=True, eq=False)
class _Pairs:
    """The pairs of consecutive rows of one participant, and the gap of each.

    Pair i is (row i, row i + 1). ``inside`` indexes the pairs within a participant,
    ``gap_inside`` their gap slots in ``gaps``; ``gap`` holds the slot of every pair (0 for
    those straddling two participants). ``dominant`` is the most common gap slot, ``odd`` the
    pairs with another gap.
    """

    gaps: FloatArray
    inside: IntArray
    gap_inside: IntArray
    gap: IntArray
    dominant: int
    odd: IntArray


def _pairs(starts: IntArray, day: npt.NDArray[np.int64], n: int) -> _Pairs:
    """The pairs of consecutive rows within a participant (first rows `starts`) of `n` rows."""
    # Pair i is (row i, row i + 1); it is "inside" unless row i + 1 starts a group.
    inside = np.ones(max(n - 1, 0), dtype=bool)
    inside[starts[1:] - 1] = False
    gap_all = np.diff(day)
    inside_idx = np.flatnonzero(inside)
    gaps, gidx_inside = _gap_index(gap_all[inside_idx])
    n_g = gaps.shape[0]
    gidx = np.zeros(max(n - 1, 0), dtype=np.intp)
    gidx[inside_idx] = gidx_inside
    dominant = int(np.argmax(np.bincount(gidx_inside, minlength=n_g))) if n_g else 0
    return _Pairs(
        gaps=gaps,
        inside=inside_idx,
        gap_inside=gidx_inside,
        gap=gidx,
        dominant=dominant,
        odd=inside_idx[gidx_inside != dominant],
    )


def _group_gap_sums(
    design: Design, q_rows: FloatArray, first: FloatArray, pairs: _Pairs
) -> tuple[FloatArray, FloatArray]:
    """SP and SD per participant and gap, shape (groups, G, q)."""
    n_groups = design.group_start.shape[0]
    n_g, q = pairs.gaps.shape[0], q_rows.shape[1]
    starts = design.group_start
    ends = starts + design.group_size
    dominant, odd, gidx = pairs.dominant, pairs.odd, pairs.gap
    # Totals over all of a participant's pairs telescope, so only the pairs
    # with a non-dominant gap (washouts, missed nights) need explicit sums;
    # the dominant gap (usually 1 day) gets the remainder.
    group_sum = np.add.reduceat(q_rows, starts, axis=0)
    last = q_rows[ends - 1]
    sp = np.zeros((n_groups, n_g, q))
    sd = np.zeros((n_groups, n_g, q))
    sp[:, dominant] = group_sum - last
    sd[:, dominant] = last - first
    odd_prev = q_rows[odd]
    odd_diff = q_rows[odd + 1] - odd_prev
    odd_group = design.group[odd]
    for target, values in ((sp, odd_prev), (sd, odd_diff)):
        moved = _key_sum(odd_group * n_g + gidx[odd], values, n_groups * n_g)
        moved = moved.reshape(n_groups, n_g, q)
        target += moved
        target[:, dominant] -= moved.sum(axis=1)
    sp[:, :, 0] = np.bincount(
        design.group[pairs.inside] * n_g + pairs.gap_inside, minlength=n_groups * n_g
    ).reshape(n_groups, n_g)
    sd[:, :, 0] = 0.0
    return sp, sd


def _trial_gap_sums(
    design: Design, q_rows: FloatArray, bounds: IntArray, pairs: _Pairs
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """P, D and E per trial and gap, shape (T, G, q, q)."""
    n_trials, n_g, q = design.n_trials, pairs.gaps.shape[0], q_rows.shape[1]
    starts, dominant = design.group_start, pairs.dominant
    # Trial-level cross-products: one GEMM per trial over all pairs of
    # consecutive rows, minus the pairs that straddle two participants,
    # with the non-dominant pairs moved to their own gap slot.
    prev = q_rows[:-1]
    diff = np.diff(q_rows, axis=0)
    # Trial t owns pairs [bounds_t, bounds_{t+1} - 1): its last row pairs
    # with the next trial's first row, which is no pair at all.
    lo, hi = bounds[:-1], bounds[1:] - 1
    pp = np.zeros((n_trials, n_g, q, q))
    dd = np.zeros_like(pp)
    ee = np.zeros_like(pp)
    pp[:, dominant] = _per_trial_cross(lo, hi, prev, prev)
    cross = _per_trial_cross(lo, hi, prev, diff)
    dd[:, dominant] = cross + cross.transpose(0, 2, 1)
    ee[:, dominant] = _per_trial_cross(lo, hi, diff, diff)
    same_trial = design.group_trial[1:] == design.group_trial[:-1]
    straddle = (starts[1:] - 1)[same_trial]
    _move(pp, dd, ee, design, q_rows, straddle, dominant, None)
    _move(pp, dd, ee, design, q_rows, pairs.odd, dominant, pairs.gap[pairs.odd])
    return pp, dd, ee


def _gap_major(design: Design, per_group: FloatArray) -> FloatArray:
    """(groups, G, q) -> zero-padded (T, G, M * q)."""
    padded = _pad(design, per_group)
    t, m, g, q = padded.shape
    return np.ascontiguousarray(padded.transpose(0, 2, 1, 3)).reshape(t, g, m * q)


def _key_sum(key: IntArray, values: FloatArray, size: int) -> FloatArray:
    """Row sums of ``values`` by integer ``key`` (a sparse indicator product)."""
    n = key.shape[0]
    indicator = sparse.csr_array((np.ones(n), (key, np.arange(n))), shape=(size, n))
    return np.asarray(indicator @ values, dtype=np.float64)


def _move(
    pp: FloatArray,
    dd: FloatArray,
    ee: FloatArray,
    design: Design,
    q_rows: FloatArray,
    pairs: IntArray,
    dominant: int,
    to_gap: IntArray | None,
) -> None:
    """Take ``pairs`` out of the dominant-gap sums; add them to ``to_gap`` slots."""
    if pairs.shape[0] == 0:
        return
    n_trials, n_g, q, _ = pp.shape
    trial = design.group_trial[design.group[pairs]]
    key = trial * n_g + (dominant if to_gap is None else to_gap)
    size = n_trials * n_g
    prev = np.ascontiguousarray(q_rows[pairs].T)
    diff = np.ascontiguousarray(q_rows[pairs + 1].T) - prev
    moved = np.zeros((3, size, q, q))
    # Entry by entry with bincount: big (pairs x q x q) temporaries cost far
    # more than the arithmetic on a busy machine.
    for a in range(q):
        for b in range(a, q):
            moved[0, :, a, b] = np.bincount(key, weights=prev[a] * prev[b], minlength=size)
            moved[1, :, a, b] = np.bincount(
                key, weights=prev[a] * diff[b] + diff[a] * prev[b], minlength=size
            )
            moved[2, :, a, b] = np.bincount(key, weights=diff[a] * diff[b], minlength=size)
            moved[:, :, b, a] = moved[:, :, a, b]
    moved = moved.reshape(3, n_trials, n_g, q, q)
    for j, target in enumerate((pp, dd, ee)):
        target[:, dominant] -= moved[j].sum(axis=1)
        if to_gap is not None:
            target += moved[j]


def _gap_index(gap: npt.NDArray[np.int64]) -> tuple[FloatArray, IntArray]:
    if gap.shape[0] == 0:
        return np.ones(1), np.zeros(0, dtype=np.intp)
    top = int(gap.max())
    if top <= 4 * gap.shape[0] + 1024:
        # Gaps are small integers in practice: a lookup table beats sorting.
        present = np.flatnonzero(np.bincount(gap, minlength=top + 1))
        lookup = np.zeros(top + 1, dtype=np.intp)
        lookup[present] = np.arange(present.shape[0])
        return present.astype(np.float64), lookup[gap]
    values, inverse = np.unique(gap, return_inverse=True)
    return values.astype(np.float64), inverse.astype(np.intp)


def _delta(rho: FloatArray, gaps: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``delta = 1 - rho**g`` and ``d delta / d rho``, shapes (k, G)."""
    r = rho[:, None]
    g = gaps[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = -np.expm1(g * np.log(np.where(r > 0, r, 1.0)))
    delta = np.where(r > 0, positive, 1.0 - np.power(r, g))
    ddelta = -g * np.power(r, g - 1.0)
    return delta, ddelta


def _weighted(coef: FloatArray, arr: FloatArray) -> FloatArray:
    """sum_g coef[t, g] * arr[t, g, :], shape (k, X)."""
    out: FloatArray = np.einsum("tg,tgx->tx", coef, arr, optimize=False)
    return out


def at_rho(sums: Sums, rho: FloatArray, idx: IntArray | None = None) -> RhoState:
    """Transformed sums for the trials ``idx`` (all if None), one rho each."""

    def sel(a: FloatArray) -> FloatArray:
        return a if idx is None else a[idx]

    first_zq, first_qq = sel(sums.first_zq), sel(sums.first_qq)
    k, m, q = first_zq.shape
    if sums.gaps.shape[0] == 0:
        zq, qq = first_zq, first_qq
        dzq = np.zeros_like(zq)
        dqq = np.zeros_like(qq)
        logdet = np.zeros(k)
        dlogdet = np.zeros(k)
    else:
        delta, ddelta = _delta(rho, sums.gaps)
        two = 2.0 - delta
        slope = ddelta / two**2
        sp, sd = sel(sums.sp), sel(sums.sd)
        zq = first_zq + (_weighted(delta / two, sp) + _weighted(1.0 / two, sd)).reshape(k, m, q)
        dzq = (_weighted(2.0 * slope, sp) + _weighted(slope, sd)).reshape(k, m, q)
        pp, dd, ee = sel(sums.pp), sel(sums.dd), sel(sums.ee)
        qq = first_qq + (
            _weighted(delta / two, pp)
            + _weighted(1.0 / two, dd)
            + _weighted(1.0 / (delta * two), ee)
        ).reshape(k, q, q)
        dqq = (
            _weighted(2.0 * slope, pp)
            + _weighted(slope, dd)
            + _weighted(2.0 * slope * (delta - 1.0) / delta**2, ee)
        ).reshape(k, q, q)
        n_gap = sel(sums.n_gap)
        logdet = np.sum(n_gap * (np.log(delta) + np.log(two)), axis=1)
        dlogdet = np.sum(n_gap * ddelta * 2.0 * (1.0 - delta) / (delta * two), axis=1)
    outer = (zq[:, :, :, None] * zq[:, :, None, :]).reshape(k, m, q * q)
    cross = zq[:, :, :, None] * dzq[:, :, None, :]
    douter = (cross + cross.transpose(0, 1, 3, 2)).reshape(k, m, q * q)
    return RhoState(
        zq=zq,
        dzq=dzq,
        outer=outer,
        douter=douter,
        qq=qq,
        dqq=dqq,
        logdet=logdet,
        dlogdet=dlogdet,
        nmp=sel(sums.nmp),
    )
