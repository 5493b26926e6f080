"""Numbers as people read them: percentages, p-values, intervals, missing values."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from diarytrial.report import format as fmt


@pytest.mark.parametrize(
    ("p", "text"),
    [(0.0004, "< 0.001"), (0.001, "0.001"), (0.0163, "0.016"), (0.05, "0.050"), (1.0, "1.000")],
)
def test_p_values_have_three_decimals_or_a_floor(p: float, text: str) -> None:
    assert fmt.p_value(p) == text


def test_p_statement_reads_in_a_sentence() -> None:
    assert fmt.p_statement(0.0001) == "p < 0.001"
    assert fmt.p_statement(0.016) == "p = 0.016"
    assert fmt.p_statement(math.nan) == "p not available"


def test_percentages_have_one_decimal() -> None:
    assert fmt.percent(28.84) == "28.8%"
    assert fmt.share(0.5) == "50.0%"
    assert fmt.share(2 / 3, 0) == "67%"


def test_intervals_read_a_to_b_with_a_true_minus() -> None:
    assert fmt.interval(8.587, 22.68) == "8.6 to 22.7"
    assert fmt.interval(-10.78, -6.79) == "−10.8 to −6.8"
    assert fmt.estimate_with_interval(-8.79, -10.78, -6.79) == "−8.8 (−10.8 to −6.8)"


def test_a_value_rounding_to_zero_has_no_sign() -> None:
    assert fmt.decimal(-0.04) == "0.0"
    assert fmt.decimal(-0.05, 0) == "0"


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA, pd.NaT, float("inf")])
def test_missing_values_show_a_dash(missing: object) -> None:
    assert fmt.decimal(missing) == fmt.MISSING
    assert fmt.p_value(missing) == fmt.MISSING
    assert fmt.mean_sd(missing, 1.0) == fmt.MISSING


def test_counts_and_shares() -> None:
    assert fmt.count_share(15, 30) == "15 (50.0%)"
    assert fmt.count_of(15, 30) == "15 of 30 (50.0%)"
    assert fmt.mean_sd(38.41, math.nan) == "38.4"  # n = 1: no SD


def test_ratios_may_be_infinite() -> None:
    assert fmt.ratio(1.7518) == "1.75"
    assert fmt.ratio(math.inf) == "∞"
    assert fmt.ratio_interval(0.31, math.inf) == "0.31 to ∞"
    assert fmt.ratio(math.nan) == fmt.MISSING
