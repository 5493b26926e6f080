"""Unit tests of the REML engine: the criterion, the API and the error messages."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diarytrial.analysis.mixed import (
    Correlation,
    MixedModelResult,
    _design,
    _reml,
    _sums,
    gls_ar1,
    mixed_model,
    mixed_model_arrays,
    mixed_model_batch,
    mixed_model_several,
)

FIXTURES = Path(__file__).parent / "fixtures" / "reml"
FIXED = ["active", "period"]


def _crossover(
    seed: int, n_id: int = 10, n_days: int = 16, rho: float = 0.5, sd_b: float = 1.0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    e = np.empty((n_id, n_days))
    e[:, 0] = rng.standard_normal(n_id)
    for t in range(1, n_days):
        e[:, t] = rho * e[:, t - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n_id)
    day = np.arange(n_days)
    period = (day >= n_days // 2).astype(float)
    active = np.where((np.arange(n_id) % 2 == 0)[:, None], period, 1.0 - period)
    y = 3.0 + 0.4 * active + 0.2 * period + rng.normal(0.0, sd_b, (n_id, 1)) + e
    keep = rng.random((n_id, n_days)) > 0.15
    ids, days = np.nonzero(keep)
    return pd.DataFrame(
        {
            "id": [f"P{i}" for i in ids],
            "day": days,
            "active": active[keep],
            "period": np.broadcast_to(period, (n_id, n_days))[keep],
            "y": y[keep],
        }
    )


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return _crossover(11)


# --- the criterion against a dense, textbook computation ---------------------------


def _dense_criterion(design: _design.Design, gamma: float, rho: float) -> tuple[float, np.ndarray]:
    assert design.day is not None
    n, p = design.x.shape
    v = np.zeros((n, n))
    for g in range(design.group_start.shape[0]):
        rows = np.flatnonzero(design.group == g)
        t = design.day[rows]
        v[np.ix_(rows, rows)] = rho ** np.abs(t[:, None] - t[None, :]) + gamma
    vinv = np.linalg.inv(v)
    m = design.x.T @ vinv @ design.x
    beta = np.linalg.solve(m, design.x.T @ vinv @ design.y)
    r = design.y - design.x @ beta
    rss = r @ vinv @ r
    f = (
        (n - p) * (1 + np.log(2 * np.pi * rss / (n - p)))
        + np.linalg.slogdet(v)[1]
        + np.linalg.slogdet(m)[1]
    )
    return float(f), beta


@pytest.mark.parametrize(("gamma", "rho"), [(0.7, 0.4), (0.0, 0.0), (2.0, -0.3), (0.3, 0.95)])
def test_criterion_matches_dense_computation(data: pd.DataFrame, gamma: float, rho: float) -> None:
    design = _design.from_frame(
        data.sample(frac=1.0, random_state=1),
        outcome="y",
        fixed=FIXED,
        group="id",
        time="day",
        trial=None,
    )
    state = _sums.at_rho(_sums.build(design, ar1=True), np.array([rho]))
    ev = _reml.evaluate(state, np.array([[gamma]]), rho_derivative=True)
    f, beta = _dense_criterion(design, gamma, rho)
    assert ev.f[0, 0] == pytest.approx(f, rel=1e-12)
    np.testing.assert_allclose(ev.beta[0, 0], beta, rtol=1e-10, atol=1e-12)
    h = 1e-6
    up, down = _dense_criterion(design, gamma + h, rho)[0], _dense_criterion(design, gamma, rho)[0]
    if gamma > 0:
        down = _dense_criterion(design, gamma - h, rho)[0]
        assert ev.f_gamma[0, 0] == pytest.approx((up - down) / (2 * h), rel=1e-6)
    else:
        assert ev.f_gamma[0, 0] == pytest.approx((up - down) / h, rel=1e-4)
    fr = (
        _dense_criterion(design, gamma, rho + h)[0] - _dense_criterion(design, gamma, rho - h)[0]
    ) / (2 * h)
    assert ev.f_rho[0, 0] == pytest.approx(fr, rel=1e-6)


def test_optimum_is_a_stationary_point(data: pd.DataFrame) -> None:
    fit = mixed_model(data, outcome="y", fixed=FIXED, group="id")
    design = _design.from_frame(data, outcome="y", fixed=FIXED, group="id", time="day", trial=None)
    sums = _sums.build(design, ar1=True)
    gamma = fit.sigma_b**2 / fit.sigma**2
    ev = _reml.evaluate(
        _sums.at_rho(sums, np.array([fit.rho])), np.array([[gamma]]), rho_derivative=True
    )
    assert abs(ev.f_gamma[0, 0]) < 1e-8
    assert abs(ev.f_rho[0, 0]) < 1e-7
    assert fit.loglik == pytest.approx(-0.5 * ev.f[0, 0], rel=1e-14)
    for dg, dr in [(1e-4, 0.0), (-1e-4, 0.0), (0.0, 1e-4), (0.0, -1e-4)]:
        other = _reml.evaluate(
            _sums.at_rho(sums, np.array([fit.rho + dr])), np.array([[gamma + dg]])
        )
        assert other.f[0, 0] > ev.f[0, 0]


# --- results and invariances ----------------------------------------------------


def test_result_fields_and_table(data: pd.DataFrame) -> None:
    fit = mixed_model(data, outcome="y", fixed=FIXED, group="id")
    table = fit.coefficients
    assert list(table.columns) == ["term", "estimate", "se", "df", "t", "p", "ci_low", "ci_high"]
    assert list(table["term"]) == ["(Intercept)", "active", "period"]
    assert fit.n_obs == len(data)
    assert fit.n_groups == data["id"].nunique()
    # nlme's inner df: N - M - (number of within-participant columns).
    assert fit.df == (fit.n_obs - fit.n_groups - 2.0,) * 3
    from scipy import stats

    crit = stats.t.ppf(0.975, fit.df[1])
    assert fit.ci_low[1] == pytest.approx(fit.estimate[1] - crit * fit.se[1])
    assert fit.ci_high[1] == pytest.approx(fit.estimate[1] + crit * fit.se[1])
    assert fit.p[1] == pytest.approx(2 * stats.t.sf(abs(fit.t[1]), fit.df[1]))
    assert fit.se == pytest.approx(tuple(np.sqrt(np.diag(np.array(fit.vcov)))))
    assert 0.0 < fit.rho < 1.0
    assert fit.sigma_b > 0.0
    assert fit.boundary is False
    assert fit.random_intercept is True


def test_between_participant_covariate_gets_outer_df(data: pd.DataFrame) -> None:
    frame = data.copy()
    frame["sequence"] = (frame["id"].str[1:].astype(int) % 2).astype(float)
    fit = mixed_model(frame, outcome="y", fixed=[*FIXED, "sequence"], group="id")
    m, n = fit.n_groups, fit.n_obs
    # getFixDF: outer df = M - 1 - p_outer, inner df = N - M - p_inner,
    # and the intercept gets the larger one.
    assert fit.df == (n - m - 2.0, n - m - 2.0, n - m - 2.0, m - 1.0 - 1.0)


def test_row_order_and_labels_do_not_matter(data: pd.DataFrame) -> None:
    fit = mixed_model(data, outcome="y", fixed=FIXED, group="id")
    shuffled = data.sample(frac=1.0, random_state=4).copy()
    shuffled["id"] = shuffled["id"].map(lambda s: 1000 + int(s[1:]))
    again = mixed_model(shuffled, outcome="y", fixed=FIXED, group="id")
    np.testing.assert_allclose(again.estimate, fit.estimate, rtol=1e-10)
    np.testing.assert_allclose(again.se, fit.se, rtol=1e-8)
    assert again.rho == pytest.approx(fit.rho, rel=1e-8)


@settings(max_examples=8, deadline=None)
@given(shift=st.floats(-100.0, 100.0), scale=st.floats(0.01, 100.0))
def test_affine_outcome_change(shift: float, scale: float) -> None:
    frame = _crossover(3, n_id=6, n_days=12)
    base = mixed_model(frame, outcome="y", fixed=FIXED, group="id")
    moved = frame.assign(y=frame["y"] * scale + shift)
    fit = mixed_model(moved, outcome="y", fixed=FIXED, group="id")
    assert fit.estimate[1] == pytest.approx(base.estimate[1] * scale, rel=1e-6, abs=1e-9)
    assert fit.se[1] == pytest.approx(base.se[1] * scale, rel=1e-6)
    assert fit.sigma == pytest.approx(base.sigma * scale, rel=1e-6)
    assert fit.rho == pytest.approx(base.rho, rel=1e-6, abs=1e-8)
    assert fit.t[1] == pytest.approx(base.t[1], rel=1e-6, abs=1e-8)


def test_random_intercept_only_model(data: pd.DataFrame) -> None:
    fit = mixed_model(data, outcome="y", fixed=FIXED, group="id", correlation="none", time=None)
    assert fit.rho == 0.0
    assert fit.correlation == "none"
    with_time = mixed_model(data, outcome="y", fixed=FIXED, group="id", correlation="none")
    assert with_time.estimate == pytest.approx(fit.estimate, rel=1e-12)


def test_boundary_fit_reports_zero_sd() -> None:
    frame = pd.read_csv(FIXTURES / "boundary.csv")
    fit = mixed_model(frame, outcome="y", fixed=FIXED, group="id", correlation="none")
    assert fit.sigma_b == 0.0
    assert fit.boundary is True


def test_gls_for_a_single_series() -> None:
    frame = pd.read_csv(FIXTURES / "nof1.csv")
    fit = gls_ar1(frame, outcome="y", fixed=FIXED)
    assert fit.random_intercept is False
    assert np.isnan(fit.sigma_b)
    assert fit.n_groups == 1
    assert fit.df == (fit.n_obs - 3.0,) * 3


# --- batched fits -----------------------------------------------------------------


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([f.assign(trial=f"T{k}") for k, f in enumerate(frames)], ignore_index=True)


@pytest.mark.parametrize("correlation", ["ar1", "none"])
def test_batch_matches_single_fits(correlation: Correlation) -> None:
    frames = [_crossover(seed, n_id=8, n_days=14) for seed in range(5)]
    frames.append(pd.read_csv(FIXTURES / "boundary.csv"))
    stacked = _stack(frames).sample(frac=1.0, random_state=2)
    out = mixed_model_batch(
        stacked,
        trial="trial",
        outcome="y",
        fixed=FIXED,
        group="id",
        contrast="active",
        correlation=correlation,
    )
    assert list(out.index) == sorted(out.index, key=lambda s: int(s[1:]))
    for k, frame in enumerate(frames):
        single = mixed_model(
            frame,
            outcome="y",
            fixed=FIXED,
            group="id",
            correlation=correlation,
        )
        row = out.loc[f"T{k}"]
        assert row["status"] == "ok"
        assert row["estimate"] == pytest.approx(single.estimate[1], rel=1e-8, abs=1e-12)
        assert row["se"] == pytest.approx(single.se[1], rel=1e-7)
        assert row["p"] == pytest.approx(single.p[1], rel=1e-6, abs=1e-12)
        assert row["df"] == single.df[1]
        assert row["rho"] == pytest.approx(single.rho, abs=1e-8)
        assert row["sigma_b"] == pytest.approx(single.sigma_b, rel=1e-6, abs=1e-9)
        assert row["boundary"] == single.boundary


def test_batch_contrast_mapping() -> None:
    frames = [_crossover(seed, n_id=8, n_days=14) for seed in range(3)]
    out = mixed_model_batch(
        _stack(frames),
        trial="trial",
        outcome="y",
        fixed=FIXED,
        group="id",
        contrast={"active": 1.0, "period": -1.0},
    )
    single = mixed_model(frames[1], outcome="y", fixed=FIXED, group="id")
    vec = np.array([0.0, 1.0, -1.0])
    assert out.loc["T1", "estimate"] == pytest.approx(vec @ np.array(single.estimate), rel=1e-8)
    se = float(np.sqrt(vec @ np.array(single.vcov) @ vec))
    assert out.loc["T1", "se"] == pytest.approx(se, rel=1e-7)


def test_array_layout_matches_long_layout() -> None:
    rng = np.random.default_rng(5)
    y = rng.standard_normal((4, 6, 10)) + rng.standard_normal((4, 6, 1))
    y[rng.random(y.shape) < 0.2] = np.nan
    y[2, 3, :] = np.nan  # a participant with no diary at all is simply absent
    period = (np.arange(10) >= 5).astype(float)
    active = np.where((np.arange(6) % 2 == 0)[:, None], period, 1 - period)
    out = mixed_model_arrays(y, {"active": active, "period": period}, contrast="active")
    t, i, d = np.nonzero(~np.isnan(y))
    long = pd.DataFrame(
        {
            "trial": t,
            "id": i,
            "day": d,
            "y": y[t, i, d],
            "active": active[i, d],
            "period": period[d],
        }
    )
    again = mixed_model_batch(
        long, trial="trial", outcome="y", fixed=FIXED, group="id", contrast="active"
    )
    np.testing.assert_allclose(out["estimate"], again["estimate"], rtol=1e-10)
    np.testing.assert_allclose(out["p"], again["p"], rtol=1e-8)
    assert out.loc[2, "n_groups"] == 5


def test_batch_flags_unfittable_trials_without_raising() -> None:
    good = _crossover(1, n_id=6, n_days=12)
    lonely = good[good["id"] == "P0"]
    out = mixed_model_batch(
        _stack([good, lonely]),
        trial="trial",
        outcome="y",
        fixed=FIXED,
        group="id",
        contrast="active",
    )
    rows = out.to_dict(orient="index")
    assert rows["T0"]["status"] == "ok"
    assert "at least 2 participants" in rows["T1"]["status"]
    assert np.isnan(rows["T1"]["estimate"])


def _same_fit(a: MixedModelResult, b: MixedModelResult) -> None:
    """Two fits of one model, rho found by different bracketing methods to 1e-14."""
    assert a.terms == b.terms
    for name in ("estimate", "se", "p", "ci_low", "ci_high"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-10, abs=1e-13), name
    assert a.df == b.df
    assert (a.sigma, a.sigma_b, a.loglik) == pytest.approx(
        (b.sigma, b.sigma_b, b.loglik), rel=1e-10
    )
    assert a.rho == pytest.approx(b.rho, abs=1e-12)
    assert (a.boundary, a.n_obs, a.n_groups, a.correlation) == (
        b.boundary,
        b.n_obs,
        b.n_groups,
        b.correlation,
    )


@pytest.mark.parametrize("correlation", ["ar1", "none"])
def test_several_fits_at_once_are_the_single_fits(correlation: Correlation) -> None:
    frames = [
        _crossover(seed, n_id=8, n_days=14, rho=rho)
        for seed, rho in enumerate((-0.4, 0.0, 0.5, 0.8))
    ]
    frames.append(pd.read_csv(FIXTURES / "boundary.csv"))
    several = mixed_model_several(
        frames, outcome="y", fixed=FIXED, group="id", correlation=correlation
    )
    assert len(several) == len(frames)
    for frame, fit in zip(frames, several, strict=True):
        assert isinstance(fit, MixedModelResult)
        single = mixed_model(frame, outcome="y", fixed=FIXED, group="id", correlation=correlation)
        _same_fit(fit, single)


def test_several_fits_report_each_frames_own_error() -> None:
    good = _crossover(1, n_id=6, n_days=12)
    lonely = good[good["id"] == "P0"]
    flat = good.assign(y=1.0)
    several = mixed_model_several([good, lonely, flat], outcome="y", fixed=FIXED, group="id")
    assert isinstance(several[0], MixedModelResult)
    _same_fit(several[0], mixed_model(good, outcome="y", fixed=FIXED, group="id"))
    for frame, fit in zip((lonely, flat), several[1:], strict=True):
        assert isinstance(fit, ValueError)
        with pytest.raises(ValueError, match=f"^{re.escape(str(fit))}$"):
            mixed_model(frame, outcome="y", fixed=FIXED, group="id")


def test_several_fits_when_no_frame_can_be_fitted() -> None:
    good = _crossover(3, n_id=6, n_days=12)
    frames = [good[good["id"] == "P0"], good.assign(y=2.0), good[good["id"] == "P1"]]
    several = mixed_model_several(frames, outcome="y", fixed=FIXED, group="id")
    assert all(isinstance(fit, ValueError) for fit in several)
    assert "at least 2 participants" in str(several[0])
    assert "no variation" in str(several[1])


def test_several_fits_with_bad_data_in_one_frame() -> None:
    good = _crossover(2, n_id=6, n_days=12)
    broken = good.assign(y=good["y"].where(good.index != 3))  # a NaN outcome
    several = mixed_model_several([good, broken], outcome="y", fixed=FIXED, group="id")
    assert isinstance(several[0], MixedModelResult)
    assert isinstance(several[1], ValueError)
    assert "NaN" in str(several[1]) or "missing" in str(several[1])


# --- errors ---------------------------------------------------------------------


def _fit(frame: pd.DataFrame, **kwargs: object) -> object:
    options: dict[str, object] = {"outcome": "y", "fixed": FIXED, "group": "id"}
    options.update(kwargs)
    return mixed_model(frame, **options)  # type: ignore[arg-type]


def test_nan_outcome_is_rejected(data: pd.DataFrame) -> None:
    frame = data.copy()
    frame.loc[frame.index[3], "y"] = np.nan
    with pytest.raises(ValueError, match=r"outcome column 'y' has 1 missing .* absent row"):
        _fit(frame)


def test_infinite_fixed_effect_is_rejected(data: pd.DataFrame) -> None:
    frame = data.copy()
    frame.loc[frame.index[0], "period"] = np.inf
    with pytest.raises(ValueError, match="fixed-effect column 'period' has 1 missing or infinite"):
        _fit(frame)


def test_non_integer_days_are_rejected(data: pd.DataFrame) -> None:
    frame = data.assign(day=data["day"] + 0.5)
    with pytest.raises(ValueError, match="must hold whole days"):
        _fit(frame)


def test_dates_need_converting(data: pd.DataFrame) -> None:
    frame = data.assign(day=pd.Timestamp("2024-01-01") + pd.to_timedelta(data["day"], "D"))
    with pytest.raises(ValueError, match="convert dates to integer day numbers"):
        _fit(frame)


def test_duplicate_rows_are_rejected(data: pd.DataFrame) -> None:
    frame = pd.concat([data, data.iloc[[5]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"duplicate \(group, time\) rows: participant 'P\d+'"):
        _fit(frame)


def test_duplicates_are_checked_without_ar1(data: pd.DataFrame) -> None:
    frame = pd.concat([data, data.iloc[[5]]], ignore_index=True)
    with pytest.raises(ValueError, match="duplicate"):
        _fit(frame, correlation="none")


def test_one_participant_is_rejected_with_a_pointer_to_gls(data: pd.DataFrame) -> None:
    frame = data[data["id"] == "P1"]
    with pytest.raises(ValueError, match=r"at least 2 participants, found 1.*gls_ar1"):
        _fit(frame)


def test_constant_outcome_is_rejected(data: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="outcome has no variation"):
        _fit(data.assign(y=2.5))


def test_collinear_fixed_effect_is_rejected(data: pd.DataFrame) -> None:
    frame = data.assign(placebo=1.0 - data["active"])
    with pytest.raises(ValueError, match="'placebo' is collinear with the intercept"):
        _fit(frame, fixed=[*FIXED, "placebo"])


def test_constant_fixed_effect_is_rejected(data: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="fixed effect 'site' is constant"):
        _fit(data.assign(site=3.0), fixed=[*FIXED, "site"])


def test_single_observation_per_participant_is_rejected(data: pd.DataFrame) -> None:
    frame = data.groupby("id").head(1)
    with pytest.raises(ValueError, match="every participant has a single observation"):
        _fit(frame, fixed=[])


def test_outcome_exactly_explained_is_rejected(data: pd.DataFrame) -> None:
    frame = data.assign(y=1.0 + 2.0 * data["active"] - data["period"])
    with pytest.raises(ValueError, match="no residual variation"):
        _fit(frame)


def test_missing_and_misused_columns(data: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"column\(s\) \['dose'\] not found"):
        _fit(data, fixed=["dose"])
    with pytest.raises(ValueError, match="must be numeric"):
        _fit(data.assign(arm=np.where(data["active"] > 0, "A", "B")), fixed=["arm"])
    with pytest.raises(ValueError, match="cannot also be a fixed effect"):
        _fit(data, fixed=["y"])
    with pytest.raises(ValueError, match="more than once"):
        _fit(data, fixed=["active", "active"])
    with pytest.raises(TypeError, match="list of column names"):
        _fit(data, fixed="active")
    with pytest.raises(ValueError, match="group column 'id' has missing values"):
        _fit(data.assign(id=data["id"].where(data.index != data.index[0])))


def test_bad_options(data: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="correlation must be 'ar1' or 'none'"):
        _fit(data, correlation="ar2")
    with pytest.raises(ValueError, match="needs the time column"):
        _fit(data, time=None)
    with pytest.raises(ValueError, match="conf_level"):
        _fit(data, conf_level=95)
    with pytest.raises(ValueError, match="contrast names unknown"):
        mixed_model_batch(
            data.assign(trial=1),
            trial="trial",
            outcome="y",
            fixed=FIXED,
            group="id",
            contrast="dose",
        )


def test_array_layout_errors() -> None:
    with pytest.raises(ValueError, match=r"shape \(trials, participants, days\)"):
        mixed_model_arrays(np.zeros((3, 4)), {}, contrast="(Intercept)")
    y = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        mixed_model_arrays(y, {"active": np.ones(5)}, contrast="active")
    y[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="use NaN for a missing night"):
        mixed_model_arrays(y, {}, contrast="(Intercept)")
