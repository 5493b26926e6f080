"""The primary contrast: model coding, and the fit against nlme (fixtures/primary)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from diarytrial.analysis.primary import model_frame, primary_contrast, primary_contrasts
from diarytrial.dataset import TrialDataset, read_dataset
from diarytrial.protocol import load_example
from diarytrial.simulate import simulate_trial

FIXTURES = Path(__file__).parent / "fixtures" / "primary"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())


@pytest.fixture(scope="module")
def trial() -> TrialDataset:
    # the stored dataset ldn_pain.csv was made from (see fit.R)
    return read_dataset(FIXTURES / "trial")


def test_model_frame_is_the_fixture(trial: TrialDataset) -> None:
    frame = model_frame(trial, "pain")
    stored = pd.read_csv(FIXTURES / "ldn_pain.csv")
    assert list(frame.columns) == list(stored.columns)
    frame["participant_id"] = frame["participant_id"].astype(str)
    pd.testing.assert_frame_equal(frame, stored, check_dtype=False)


def test_model_frame_keeps_treatment_days_only(trial: TrialDataset) -> None:
    frame = model_frame(trial, "pain")
    periods = trial.periods
    baseline = periods[periods["condition"] == "baseline"]
    first_treatment_day = (
        pd.to_datetime(baseline["end"]).to_numpy().astype("datetime64[D]").astype(int) + 1
    )
    assert frame["day"].min() >= first_treatment_day.min()
    assert set(frame["active"]) == {0.0, 1.0}
    assert set(frame["period_2"]) == {0.0, 1.0}


def test_contrast_matches_nlme(trial: TrialDataset) -> None:
    result = primary_contrast(trial, "pain")
    # R: lme(y ~ active + period_2, random = ~1 | participant_id,
    #        correlation = corAR1(form = ~day | participant_id), method = "REML")
    assert result.estimate == pytest.approx(REFERENCE["active_estimate"], rel=1e-5)
    assert result.se == pytest.approx(REFERENCE["active_se"], rel=1e-5)
    assert result.p == pytest.approx(REFERENCE["active_p"], rel=1e-4)
    assert result.rho == pytest.approx(REFERENCE["rho"], rel=1e-5)
    assert result.sigma == pytest.approx(REFERENCE["sigma"], rel=1e-5)
    assert result.sigma_b == pytest.approx(REFERENCE["sigma_b"], rel=1e-5)
    assert result.period["period_2"][0] == pytest.approx(REFERENCE["period_2_estimate"], rel=1e-5)
    # R: the same model + sequence_2; summary(carry)$tTable["sequence_2", "p-value"]
    assert result.carryover_p == pytest.approx(REFERENCE["carryover_p"], rel=1e-4)
    assert result.improvement == -result.estimate  # pain: lower is better
    assert result.model == "lme+AR(1)"


def test_nof1_uses_blocks_and_gls() -> None:
    trial = simulate_trial(load_example("nof1-ldn"), participants=1, seed=1)
    result = primary_contrast(trial, "pain")
    assert result.model == "gls+AR(1)"
    assert set(result.period) == {"block_2", "block_3"}
    assert result.carryover_p is None


def test_unknown_item(trial: TrialDataset) -> None:
    with pytest.raises(ValueError, match="'stiffness' is not a diary item"):
        model_frame(trial, "stiffness")


def test_all_items_at_once_are_the_item_by_item_contrasts(trial: TrialDataset) -> None:
    items = [item.id for item in trial.protocol.protocol.diary.items]
    together, problems = primary_contrasts(trial, items)
    assert problems == {}
    assert list(together) == items
    # R: as test_contrast_matches_nlme, for pain
    assert together["pain"].estimate == pytest.approx(REFERENCE["active_estimate"], rel=1e-5)
    assert together["pain"].carryover_p == pytest.approx(REFERENCE["carryover_p"], rel=1e-4)
    for item in items:
        alone = primary_contrast(trial, item)
        for name in ("estimate", "se", "p", "ci_low", "ci_high", "sigma", "sigma_b"):
            assert getattr(together[item], name) == pytest.approx(
                getattr(alone, name), rel=1e-10
            ), (item, name)
        assert together[item].carryover_p == pytest.approx(alone.carryover_p, rel=1e-9)
        assert together[item].sensitivity_p == pytest.approx(alone.sensitivity_p, rel=1e-9)
        assert together[item].rho == pytest.approx(alone.rho, abs=1e-12)
        assert (together[item].df, together[item].n_obs, together[item].model) == (
            alone.df,
            alone.n_obs,
            alone.model,
        )


def test_an_item_without_values_is_a_problem_not_a_failure(trial: TrialDataset) -> None:
    diary = trial.diary[trial.diary["item"].astype(str) != "fatigue"]
    contrasts, problems = primary_contrasts(
        dataclasses.replace(trial, diary=diary), ["pain", "fatigue"]
    )
    assert list(contrasts) == ["pain"]
    assert problems == {"fatigue": "no daily values of 'fatigue' fall in the treatment periods"}
