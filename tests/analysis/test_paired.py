"""Paired t, Wilcoxon signed-rank and exact McNemar, against R (fixtures/paired)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diarytrial.analysis.paired import (
    mcnemar_exact,
    paired_t,
    paired_values,
    wilcoxon_signed_rank,
)

REFERENCE = json.loads((Path(__file__).parent / "fixtures/paired/reference.json").read_text())
CASES = REFERENCE["paired"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_paired_t_matches_r(name: str) -> None:
    case = CASES[name]
    result = paired_t(case["a"], case["b"])
    # R: t.test(a, b, paired = TRUE)
    assert result.t == pytest.approx(case["t"], rel=1e-10)
    assert result.df == case["df"]
    assert result.p == pytest.approx(case["t_p"], rel=1e-8)
    assert (result.ci_low, result.ci_high) == pytest.approx(case["t_ci"], rel=1e-10)
    assert result.mean_difference == pytest.approx(case["mean_difference"], rel=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_wilcoxon_matches_r(name: str) -> None:
    case = CASES[name]
    result = wilcoxon_signed_rank(case["a"], case["b"])
    # R: wilcox.test(a, b, paired = TRUE, conf.int = TRUE)
    assert result.exact == ("exact" in case["w_method"])
    assert result.v == case["v"]
    assert result.p == pytest.approx(case["w_p"], rel=1e-8)
    # R finds the asymptotic interval with uniroot(tol = 1e-4); the exact one is an order statistic
    tolerance = 1e-12 if result.exact else 2e-4
    assert (result.ci_low, result.ci_high) == pytest.approx(case["w_ci"], abs=tolerance)
    assert result.pseudomedian == pytest.approx(case["pseudomedian"], abs=tolerance)


@pytest.mark.parametrize("name", sorted(REFERENCE["mcnemar"]))
def test_mcnemar_matches_r(name: str) -> None:
    case = REFERENCE["mcnemar"][name]
    n10, n01 = case["n10"], case["n01"]
    a = [1] * n10 + [0] * n01 + [1, 1, 0, 0]
    b = [0] * n10 + [1] * n01 + [1, 1, 0, 0]
    result = mcnemar_exact(a, b)
    # R: binom.test(n10, n10 + n01, 0.5)$p.value
    assert result.p == pytest.approx(case["p"], rel=1e-10)
    assert (result.only_a, result.only_b, result.n) == (n10, n01, n10 + n01 + 4)


def test_mcnemar_without_discordant_pairs() -> None:
    assert mcnemar_exact([1, 0], [1, 0]).p == 1.0


def test_missing_pairs_are_dropped() -> None:
    result = paired_t([1.0, 2.0, np.nan, 4.0], [0.0, 1.5, 3.0, 1.0])
    assert result.n == 3


def test_paired_values_from_long_data() -> None:
    data = pd.DataFrame(
        {
            "participant_id": ["p1", "p1", "p2", "p2", "p3"],
            "condition": ["active", "placebo", "placebo", "active", "active"],
            "improvement": [30.0, 10.0, 5.0, 20.0, 50.0],
        }
    )
    a, b = paired_values(data, dv="improvement")
    assert a.tolist() == [30.0, 20.0]
    assert b.tolist() == [10.0, 5.0]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: paired_t([1.0], [2.0]), "at least 2 complete pairs"),
        (lambda: paired_t([1.0, 2.0], [0.0, 1.0]), "every difference is the same"),
        (lambda: wilcoxon_signed_rank([1.0, 2.0], [1.0, 2.0]), "every difference is zero"),
        (lambda: mcnemar_exact([1, 2], [0, 1]), "yes/no outcomes"),
        (lambda: paired_t([1.0, 2.0], [1.0]), "same length"),
    ],
)
def test_bad_input_says_what_to_fix(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_duplicate_rows_are_refused() -> None:
    data = pd.DataFrame(
        {"participant_id": ["p1", "p1"], "condition": ["active", "active"], "y": [1.0, 2.0]}
    )
    with pytest.raises(ValueError, match="two rows for one condition"):
        paired_values(data, dv="y")
