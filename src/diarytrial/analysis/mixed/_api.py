"""Public functions: one fit, the n-of-1 fit without a random intercept, and batched fits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _design, _fit, _sums
from ._design import BoolArray, Design, FloatArray
from ._problems import trial_problems
from ._result import Correlation, FitStatistics, MixedModelResult, statistics, t_tests


def _check_options(correlation: str, time: str | None, conf_level: float) -> bool:
    if correlation not in ("ar1", "none"):
        raise ValueError(f"correlation must be 'ar1' or 'none', got {correlation!r}")
    if correlation == "ar1" and time is None:
        raise ValueError("correlation='ar1' needs the time column: pass time='day' (or similar)")
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must be between 0 and 1, got {conf_level!r}")
    return correlation == "ar1"


def _fit_one(
    design: Design, *, ar1: bool, random_intercept: bool, conf_level: float
) -> MixedModelResult:
    sums = _sums.build(design, ar1=ar1)
    problem = trial_problems(design, sums, random_intercept=random_intercept, ar1=ar1)[0]
    if problem:
        raise ValueError(problem)
    opt = _fit.fit_single(sums, ar1=ar1, random_intercept=random_intercept)
    st = statistics(design, opt, random_intercept=random_intercept)
    return _result(
        design, opt, st, 0, ar1=ar1, random_intercept=random_intercept, conf_level=conf_level
    )


def _result(
    design: Design,
    opt: _fit.Optimum,
    st: FitStatistics,
    trial: int,
    *,
    ar1: bool,
    random_intercept: bool,
    conf_level: float,
) -> MixedModelResult:
    """The result of trial `trial` of a (possibly batched) fit."""
    est, cov, df = st.beta[trial], st.cov[trial], st.df[trial]
    se = np.sqrt(np.diagonal(cov))
    tval, pval, lo, hi = t_tests(est, se, df, conf_level)

    def tup(a: FloatArray) -> tuple[float, ...]:
        return tuple(float(v) for v in a)

    return MixedModelResult(
        terms=design.terms,
        estimate=tup(est),
        se=tup(se),
        df=tup(df),
        t=tup(tval),
        p=tup(pval),
        ci_low=tup(lo),
        ci_high=tup(hi),
        vcov=tuple(tup(row) for row in cov),
        sigma_b=float(st.sigma_b[trial]),
        sigma=float(st.sigma[trial]),
        rho=float(opt.rho[trial]),
        loglik=float(st.loglik[trial]),
        n_obs=int(design.n_obs[trial]),
        n_groups=int(design.n_groups[trial]),
        boundary=bool(opt.boundary[trial]),
        correlation="ar1" if ar1 else "none",
        random_intercept=random_intercept,
        conf_level=conf_level,
    )


# Over 80 lines for its docstring alone, the reference of the model (criterion, df, missing
# nights, sources); the body is three named steps: check the options, build the design, fit.
def mixed_model(
    data: pd.DataFrame,
    *,
    outcome: str,
    fixed: list[str],
    group: str,
    time: str | None = "day",
    correlation: Correlation = "ar1",
    conf_level: float = 0.95,
) -> MixedModelResult:
    r"""Fit a linear mixed model with random intercept and AR(1) errors by REML.

    The model, for participant :math:`i` and diary night :math:`j` on
    integer day :math:`t_{ij}`, is

    .. math::

        y_{ij} = x_{ij}'\beta + b_i + e_{ij}, \quad b_i \sim N(0, \sigma_b^2),
        \quad \operatorname{Cov}(e_{ij}, e_{ik}) = \sigma^2 \rho^{|t_{ij} - t_{ik}|},

    i.e. ``nlme::lme(y ~ x, random = ~1 | id, correlation = corAR1(form =
    ~day | id), method = "REML")``; with ``correlation="none"`` (rho = 0) it
    is ``lme4::lmer(y ~ x + (1 | id), REML = TRUE)``.

    Parameters
    ----------
    data : pandas.DataFrame
        Long format, one row per participant and diary night.  **Missing
        data rule:** a missing night is an absent row (NaN/inf values raise).
        Gaps from missing nights and washouts enter through
        :math:`\rho^{g}` for a gap of :math:`g` days, which is exact under
        the continuous-time AR(1) model and assumes the nights are missing
        at random.
    outcome : str
        Numeric outcome column.
    fixed : list of str
        Numeric fixed-effect columns; an intercept is added.  Encode
        factors as 0/1 columns (e.g. ``active``, ``period``).
    group : str
        Participant identifier column.
    time : str or None
        Integer day column (required for ``"ar1"``; with ``"none"`` it is
        only used to reject duplicate (participant, day) rows).
    correlation : {"ar1", "none"}
        Residual correlation within participant.
    conf_level : float
        Confidence level of the intervals.

    Returns
    -------
    MixedModelResult
        Estimates with REML standard errors
        :math:`\sqrt{\operatorname{diag}(\hat\sigma^2 (X'H^{-1}X)^{-1})}`,
        t-tests with nlme's denominator df, ``sigma_b``, ``sigma``, ``rho``,
        the REML log-likelihood and a boundary flag.

    Raises
    ------
    ValueError
        With a message saying what to fix: missing columns, non-numeric or
        non-finite values, non-integer days, duplicate (participant, day)
        rows, fewer than 2 participants, no outcome variation, a constant or
        collinear fixed effect, or a degenerate optimum.

    Notes
    -----
    Each participant's series is prewhitened,
    :math:`a^*_1 = a_1`, :math:`a^*_j = (a_j - \rho^{g_j} a_{j-1}) /
    \sqrt{1 - \rho^{2 g_j}}`, for :math:`y`, every column of :math:`X` and
    the random-effect column :math:`z = 1`, with
    :math:`\log|R_i| = \sum_j \log(1 - \rho^{2 g_j})`.  Then
    :math:`H_i^* = I + \gamma z_i^* z_i^{*\prime}`, :math:`\gamma =
    \sigma_b^2 / \sigma^2`, is inverted by Sherman-Morrison, so the profiled
    criterion (``beta`` and ``sigma^2`` profiled out)

    .. math::

        -2\ell_R(\gamma, \rho) = (N - p)\left[1 + \log\frac{2\pi\,RSS}{N - p}\right]
        + \sum_i \log(1 + \gamma s_i) + \log|R| + \log|X'H^{-1}X|

    costs O(participants x p^2) per evaluation once per-participant sums
    are formed.  For each rho, gamma is the root of the exact derivative
    :math:`\partial(-2\ell_R)/\partial\gamma` (or 0 on the boundary); rho
    is the root of the exact derivative of the profile in rho, bracketed
    on a grid over [-0.999, 0.999].  The intercept and participant-varying
    covariates get nlme's inner df :math:`N - M - p_{inner}`;
    participant-level covariates get :math:`M - 1 - p_{outer}`.  See
    ``docs/statistics.md`` for the derivation and validation.

    References
    ----------
    Pinheiro, J. C. & Bates, D. M. (2000). *Mixed-Effects Models in S and
    S-PLUS*. Springer.  Bates, D., Maechler, M., Bolker, B. & Walker, S.
    (2015). Fitting linear mixed-effects models using lme4. *Journal of
    Statistical Software* 67(1).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from diarytrial.analysis.mixed import mixed_model
    >>> rng = np.random.default_rng(7)
    >>> data = pd.DataFrame({"id": np.repeat(np.arange(8), 20), "day": np.tile(np.arange(20), 8)})
    >>> data["period"] = (data["day"] >= 10).astype(float)
    >>> data["active"] = (data["id"] % 2 == data["period"]).astype(float)
    >>> data["y"] = 0.5 * data["active"] + np.repeat(rng.normal(size=8), 20) + rng.normal(size=160)
    >>> fit = mixed_model(data, outcome="y", fixed=["active", "period"], group="id")
    >>> fit.n_obs, fit.n_groups, fit.df
    (160, 8, (150.0, 150.0, 150.0))
    >>> list(fit.coefficients.columns)
    ['term', 'estimate', 'se', 'df', 't', 'p', 'ci_low', 'ci_high']
    """
    ar1 = _check_options(correlation, time, conf_level)
    design = _design.from_frame(
        data, outcome=outcome, fixed=fixed, group=group, time=time, trial=None
    )
    return _fit_one(design, ar1=ar1, random_intercept=True, conf_level=conf_level)


def gls_ar1(
    data: pd.DataFrame,
    *,
    outcome: str,
    fixed: list[str],
    time: str = "day",
    group: str | None = None,
    conf_level: float = 0.95,
) -> MixedModelResult:
    """Fit AR(1) errors without a random intercept (n-of-1 path), by REML.

    This is ``nlme::gls(y ~ x, correlation = corAR1(form = ~day), method =
    "REML")`` (``form = ~day | id`` when ``group`` is given): the path for
    a single participant's long series, where a random intercept cannot be
    estimated.  Same transformation, missing-data rule and criterion as
    :func:`mixed_model` with gamma fixed at 0; every coefficient gets
    ``N - p`` df as in nlme's ``summary.gls``.  ``sigma_b`` is NaN.
    """
    _check_options("ar1", time, conf_level)
    design = _design.from_frame(
        data, outcome=outcome, fixed=fixed, group=group, time=time, trial=None
    )
    return _fit_one(design, ar1=True, random_intercept=False, conf_level=conf_level)


def mixed_model_several(
    frames: Sequence[pd.DataFrame],
    *,
    outcome: str,
    fixed: list[str],
    group: str,
    time: str | None = "day",
    correlation: Correlation = "ar1",
    conf_level: float = 0.95,
) -> list[MixedModelResult | ValueError]:
    """Fit :func:`mixed_model` to each of several data frames at once.

    For the items of one trial, which share their fixed effects: one pass builds the sums of
    every frame, and the search over rho and gamma runs on all of them together.  Each entry
    of the result is what ``mixed_model(frame, ...)`` returns, or the ``ValueError`` it
    raises.  rho is found to the same tolerance as :func:`mixed_model` (1e-14), by
    Chandrupatla's method where :func:`mixed_model` uses Brent's, so the two agree to about
    13 significant digits rather than bit for bit.  A frame whose fit takes another path
    (a kink in the profile likelihood, a failure) is refitted alone with :func:`mixed_model`.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from diarytrial.analysis.mixed import mixed_model_several
    >>> rng = np.random.default_rng(3)
    >>> data = pd.DataFrame({"id": np.repeat(np.arange(6), 20), "day": np.tile(np.arange(20), 6)})
    >>> data["active"] = ((data["day"] >= 10) == (data["id"] % 2 == 0)).astype(float)
    >>> frames = [data.assign(y=rng.normal(size=120)) for _ in range(3)]
    >>> fits = mixed_model_several(frames, outcome="y", fixed=["active"], group="id")
    >>> [fit.n_obs for fit in fits]
    [120, 120, 120]
    """
    ar1 = _check_options(correlation, time, conf_level)

    def alone(frame: pd.DataFrame) -> MixedModelResult | ValueError:
        try:
            return mixed_model(
                frame,
                outcome=outcome,
                fixed=fixed,
                group=group,
                time=time,
                correlation=correlation,
                conf_level=conf_level,
            )
        except ValueError as error:
            return error

    if len(frames) < 2:
        return [alone(frame) for frame in frames]
    try:
        design = _stacked(frames, outcome=outcome, fixed=fixed, group=group, time=time)
        if design is None:
            return [alone(frame) for frame in frames]
        sums = _sums.build(design, ar1=ar1)
        problems = trial_problems(design, sums, random_intercept=True, ar1=ar1)
        fine = [k for k, problem in enumerate(problems) if not problem]
        if len(fine) < len(frames):
            # Fit only the frames that can be fitted; the others give their own message.
            chosen = [frames[k] for k in fine]
            design = (
                _stacked(chosen, outcome=outcome, fixed=fixed, group=group, time=time)
                if len(chosen) > 1
                else None
            )
            if design is None:
                return [alone(frame) for frame in frames]
            sums = _sums.build(design, ar1=ar1)
        opt = _fit.fit_several(sums, ar1=ar1, random_intercept=True)
        st = statistics(design, opt, random_intercept=True)
    except (ValueError, TypeError):
        # A problem with one frame's data: each frame on its own gives its own message.
        return [alone(frame) for frame in frames]
    out: list[MixedModelResult | ValueError] = []
    position = dict(zip(fine, range(len(fine)), strict=True))
    for k, frame in enumerate(frames):
        t = position.get(k)
        if t is not None and opt.ok[t]:
            out.append(
                _result(design, opt, st, t, ar1=ar1, random_intercept=True, conf_level=conf_level)
            )
        else:
            out.append(alone(frame))
    return out


def _stacked(
    frames: Sequence[pd.DataFrame],
    *,
    outcome: str,
    fixed: list[str],
    group: str,
    time: str | None,
) -> Design | None:
    """One design with each frame as a trial; None if a frame has no rows."""
    label = "_frame"
    while any(label in frame.columns for frame in frames):
        label += "_"
    stacked = pd.concat(
        [frame.assign(**{label: k}) for k, frame in enumerate(frames)], ignore_index=True
    )
    design = _design.from_frame(
        stacked, outcome=outcome, fixed=fixed, group=group, time=time, trial=label
    )
    return design if design.n_trials == len(frames) else None


def _contrast_vector(terms: tuple[str, ...], contrast: str | Mapping[str, float]) -> FloatArray:
    weights = {contrast: 1.0} if isinstance(contrast, str) else dict(contrast)
    unknown = [name for name in weights if name not in terms]
    if unknown:
        raise ValueError(f"contrast names unknown term(s) {unknown}; terms are {list(terms)}")
    vec = np.array([float(weights.get(name, 0.0)) for name in terms])
    if not np.any(vec != 0.0):
        raise ValueError("contrast has no non-zero weight")
    return vec


def _fit_many(
    design: Design,
    *,
    ar1: bool,
    contrast: str | Mapping[str, float],
    conf_level: float,
    index_name: str | None,
) -> pd.DataFrame:
    vec = _contrast_vector(design.terms, contrast)
    sums = _sums.build(design, ar1=ar1)
    problems = np.array(trial_problems(design, sums, random_intercept=True, ar1=ar1))
    opt = _fit.fit_batch(sums, ar1=ar1, random_intercept=True)
    st = statistics(design, opt, random_intercept=True)
    est = st.beta @ vec
    se = np.sqrt(np.einsum("i,tij,j->t", vec, st.cov, vec))
    used: BoolArray = vec != 0.0
    df = st.df[:, used].min(axis=1)
    tval, pval, lo, hi = t_tests(est, se, df, conf_level)
    status = np.where(problems != "", problems, np.where(opt.ok, "ok", "optimisation failed"))
    failed = status != "ok"

    def clean(a: npt.NDArray[np.float64]) -> FloatArray:
        return np.where(failed, np.nan, a)

    out = pd.DataFrame(
        {
            "estimate": clean(est),
            "se": clean(se),
            "df": clean(df),
            "t": clean(tval),
            "p": clean(pval),
            "ci_low": clean(lo),
            "ci_high": clean(hi),
            "sigma_b": clean(st.sigma_b),
            "sigma": clean(st.sigma),
            "rho": clean(opt.rho),
            "loglik": clean(st.loglik),
            "n_obs": design.n_obs,
            "n_groups": design.n_groups,
            "boundary": opt.boundary & ~failed,
            "status": status,
        },
        index=design.trial_labels,
    )
    out.index.name = index_name
    return out


def mixed_model_batch(
    data: pd.DataFrame,
    *,
    trial: str,
    outcome: str,
    fixed: list[str],
    group: str,
    contrast: str | Mapping[str, float],
    time: str | None = "day",
    correlation: Correlation = "ar1",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Fit :func:`mixed_model` to every trial of a stacked long dataset at once.

    Intended for power analysis: all trials share one pass over the rows and
    the optimisation is vectorised across trials.  Per trial, gamma is the
    first upward root of the exact derivative (or 0) and rho the bracketed
    root of the profile derivative, so results agree with
    :func:`mixed_model` unless a trial's criterion has several local optima.

    Parameters
    ----------
    data : pandas.DataFrame
        Long format with a trial identifier column; other columns as in
        :func:`mixed_model`.  Participant ids may repeat across trials.
    trial : str
        Trial (simulation replicate) identifier column.
    contrast : str or mapping of str to float
        A term name (e.g. ``"active"``) or weights of a linear combination
        of terms.  The df of a combination is the smallest df of its terms.
    outcome, fixed, group, time, correlation, conf_level
        As in :func:`mixed_model`.

    Returns
    -------
    pandas.DataFrame
        One row per trial (index: trial id) with ``estimate, se, df, t, p,
        ci_low, ci_high`` of the contrast, ``sigma_b, sigma, rho, loglik,
        n_obs, n_groups, boundary`` and ``status`` ("ok", or why the trial
        could not be fitted, in which case the numbers are NaN).  Data-level
        errors (missing columns, NaN values, duplicate rows, ...) still raise
        ValueError.
    """
    ar1 = _check_options(correlation, time, conf_level)
    design = _design.from_frame(
        data, outcome=outcome, fixed=fixed, group=group, time=time, trial=trial
    )
    return _fit_many(design, ar1=ar1, contrast=contrast, conf_level=conf_level, index_name=trial)


def mixed_model_arrays(
    y: npt.ArrayLike,
    covariates: Mapping[str, npt.ArrayLike],
    *,
    contrast: str | Mapping[str, float],
    correlation: Correlation = "ar1",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Batched fit from a (trials, participants, days) array layout.

    Parameters
    ----------
    y : array_like, shape (trials, participants, days)
        Outcome; NaN marks a missing night (the row is absent), so washouts
        and dropout are NaN runs.  Day ``d`` is position ``d`` on the last
        axis.  A participant with no observed night is absent.
    covariates : mapping of str to array_like
        Fixed-effect covariates, each broadcastable to ``y.shape`` (e.g.
        ``period`` of shape ``(1, 1, days)``); an intercept is added.
    contrast, correlation, conf_level
        As in :func:`mixed_model_batch`.

    Returns
    -------
    pandas.DataFrame
        As :func:`mixed_model_batch`, indexed by trial position.
    """
    _check_options(correlation, "day", conf_level)
    design = _design.from_arrays(y, covariates)
    return _fit_many(
        design,
        ar1=correlation == "ar1",
        contrast=contrast,
        conf_level=conf_level,
        index_name="trial",
    )
