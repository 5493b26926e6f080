"""Bang's and James' blinding indices: worked examples, edge cases and properties.

Reference tables are the examples of the R package BI (Schwartz and Mercaldo, CRAN, version
1.2.0, help page of BI): Bang et al. 2004 table 7 (CRISP) and Houweling et al. 2014 table 2
(Clinical Trials 11:547-552; investigators, research coordinators and patients). The BI package
takes the table as guess (rows) by true arm (columns); GuessTable is its transpose.

The index values pinned for the investigators' table are the ones printed by BlindingIndex.jl
(JuliaHealth, README and test/runtests.jl), a port of the R package BI, to the three decimals
given there. The published tables of Bang et al. and Houweling et al. themselves could not be
consulted, so the other examples pin exact counts (Houweling et al.'s abstract gives the share of
correct guesses of each group) and values that follow from the definitions by hand.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diarytrial.analysis.blinding import (
    ARMS,
    GUESSES,
    GuessTable,
    IndexEstimate,
    bang_index,
    guess_table,
    james_index,
)

# BI's x = matrix(c(a, b, c, d, e, f), nrow = 3, byrow = TRUE), guess by arm, transposed.
CRISP = GuessTable(((82, 25, 170), (27, 29, 83)))
INVESTIGATORS = GuessTable(((48, 4, 330), (22, 30, 319)))
COORDINATORS = GuessTable(((94, 11, 289), (52, 44, 284)))
PATIENTS = GuessTable(((143, 14, 188), (104, 57, 175)))


def _rounded(result: IndexEstimate, digits: int = 3) -> tuple[float, ...]:
    return tuple(
        round(x, digits) for x in (result.estimate, result.se, result.ci_low, result.ci_high)
    )


def test_investigators_match_the_bi_port() -> None:
    # BlindingIndex.jl: bijames(x) == (0.896, 0.011, 0.875, 0.918),
    # bibang(x) == ([0.115, 0.022], [0.018, 0.019], [0.08, -0.016], [0.15, 0.06])
    assert _rounded(james_index(INVESTIGATORS)) == (0.896, 0.011, 0.875, 0.918)
    assert _rounded(bang_index(INVESTIGATORS, "active")) == (0.115, 0.018, 0.080, 0.150)
    assert _rounded(bang_index(INVESTIGATORS, "placebo")) == (0.022, 0.019, -0.016, 0.060)
    assert james_index(INVESTIGATORS).n == 753
    assert (bang_index(INVESTIGATORS, "active").n, bang_index(INVESTIGATORS, "placebo").n) == (
        382,
        371,
    )


@pytest.mark.parametrize(
    ("table", "percent"),
    [(INVESTIGATORS, 10.4), (COORDINATORS, 17.8), (PATIENTS, 29.4)],
)
def test_houweling_tables_give_the_published_share_correct(
    table: GuessTable, percent: float
) -> None:
    # Houweling et al. 2014, abstract: overall rates of correct responses.
    correct = table.count("active", "active") + table.count("placebo", "placebo")
    assert round(100 * correct / table.total, 1) == percent


@pytest.mark.parametrize("table", [CRISP, INVESTIGATORS, COORDINATORS, PATIENTS])
def test_bang_is_correct_minus_wrong_over_the_arm(table: GuessTable) -> None:
    for arm, other in (("active", "placebo"), ("placebo", "active")):
        n = table.arm_total(arm)
        p_c = table.count(arm, arm) / n
        p_w = table.count(arm, other) / n
        result = bang_index(table, arm)
        assert result.estimate == pytest.approx(p_c - p_w, abs=1e-15)
        # Bang et al. 2004: the form (2 p_c / (p_c + p_w) - 1)(p_c + p_w) gives the same
        assert result.estimate == pytest.approx((2 * p_c / (p_c + p_w) - 1) * (p_c + p_w))
        variance = (p_c * (1 - p_c) + p_w * (1 - p_w) + 2 * p_c * p_w) / n
        assert result.se == pytest.approx(math.sqrt(variance), rel=1e-12)


def test_crisp_by_hand() -> None:
    active = bang_index(CRISP, "active")
    placebo = bang_index(CRISP, "placebo")
    assert active.estimate == pytest.approx(57 / 277, abs=1e-15)
    assert placebo.estimate == pytest.approx(2 / 139, abs=1e-15)
    assert (round(active.estimate, 2), round(placebo.estimate, 2)) == (0.21, 0.01)
    # James by hand: 253 of the 416 answers are don't know; K_d from the 163 guesses
    james = james_index(CRISP)
    p_dk = 253 / 416
    guess = 163
    observed = (25 + 27) / guess
    expected = ((82 + 27) * (27 + 29) + (25 + 29) * (82 + 25)) / guess**2
    kappa = (observed - expected) / expected
    assert james.estimate == pytest.approx((1 + p_dk + (1 - p_dk) * kappa) / 2, rel=1e-12)
    assert round(james.estimate, 2) == 0.75
    assert james.n == 416


def test_level_sets_the_width() -> None:
    # At level 0.90 the two limits are the two one-sided 95% limits Bang et al. prefer.
    wide = bang_index(CRISP, "active")
    narrow = bang_index(CRISP, "active", level=0.90)
    assert wide.ci_high - wide.estimate == pytest.approx(1.959963984540054 * wide.se)
    assert narrow.ci_high - narrow.estimate == pytest.approx(1.6448536269514722 * narrow.se)
    assert narrow.estimate - narrow.ci_low == pytest.approx(narrow.ci_high - narrow.estimate)
    for level in (0.0, 1.0, 95.0, -0.5):
        with pytest.raises(ValueError, match="confidence level"):
            james_index(CRISP, level=level)
        with pytest.raises(ValueError, match="confidence level"):
            bang_index(CRISP, "active", level=level)


def test_guess_table_counts_pairs() -> None:
    pairs = [("active", "active")] * 3 + [("placebo", "dont_know"), ("placebo", "active")]
    table = guess_table(pairs)
    assert table == GuessTable(((3, 0, 0), (1, 0, 1)))
    assert table.total == 5
    assert guess_table([]) == GuessTable(((0, 0, 0), (0, 0, 0)))


def test_guess_table_names_every_unknown_label() -> None:
    pairs = [("active", "no idea"), ("drug", "active"), ("sham", "dont know"), ("active", "x")]
    with pytest.raises(ValueError, match="unknown") as caught:
        guess_table(pairs)
    message = str(caught.value)
    for label in ("'drug'", "'sham'", "'no idea'", "'dont know'", "'x'"):
        assert label in message


def test_guess_table_checks_its_counts() -> None:
    with pytest.raises(ValueError, match="2 rows"):
        GuessTable(((1, 2), (3, 4)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="whole number"):
        GuessTable(((1, -2, 0), (3, 4, 0)))
    with pytest.raises(ValueError, match="whole number"):
        GuessTable(((1, 2.0, 0), (3, 4, 0)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown true arm"):
        bang_index(CRISP, "drug")
    with pytest.raises(ValueError, match="unknown guess"):
        CRISP.count("active", "maybe")


def _is_nan(result: IndexEstimate) -> bool:
    return all(math.isnan(x) for x in (result.estimate, result.se, result.ci_low, result.ci_high))


def test_an_arm_without_answers_is_not_estimable() -> None:
    table = GuessTable(((4, 1, 2), (0, 0, 0)))
    placebo = bang_index(table, "placebo")
    assert _is_nan(placebo)
    assert placebo.n == 0
    assert bang_index(table, "active").estimate == pytest.approx(3 / 7)


def test_an_empty_table_is_not_estimable() -> None:
    empty = GuessTable(((0, 0, 0), (0, 0, 0)))
    assert _is_nan(james_index(empty))
    assert james_index(empty).n == 0
    assert _is_nan(bang_index(empty, "active"))


def test_everyone_dont_know() -> None:
    table = GuessTable(((0, 0, 12), (0, 0, 9)))
    assert james_index(table) == IndexEstimate(1.0, 0.0, 1.0, 1.0, 21)
    for arm in ARMS:
        assert bang_index(table, arm) == IndexEstimate(0.0, 0.0, 0.0, 0.0, table.arm_total(arm))
    # one arm empty, the other all don't know: James is still 1
    assert james_index(GuessTable(((0, 0, 3), (0, 0, 0)))).estimate == 1.0


def test_everyone_correct() -> None:
    table = GuessTable(((10, 0, 0), (0, 7, 0)))
    james = james_index(table)
    assert james.estimate == pytest.approx(0.0, abs=1e-15)
    assert james.se == pytest.approx(0.0, abs=1e-7)
    for arm in ARMS:
        assert bang_index(table, arm) == IndexEstimate(1.0, 0.0, 1.0, 1.0, table.arm_total(arm))
    # correct guesses from one arm only: P_e is 0, so James' kappa is 0/0
    assert _is_nan(james_index(GuessTable(((5, 0, 2), (0, 0, 0)))))


def test_everyone_wrong() -> None:
    table = GuessTable(((0, 10, 0), (10, 0, 0)))
    james = james_index(table)
    assert james.estimate == pytest.approx(1.0)
    assert james.se == pytest.approx(0.0, abs=1e-7)
    for arm in ARMS:
        assert bang_index(table, arm) == IndexEstimate(-1.0, 0.0, -1.0, -1.0, 10)
    # unbalanced margins: everyone wrong is still opposite guessing for Bang, James below 1
    uneven = james_index(GuessTable(((0, 10, 0), (7, 0, 0))))
    assert 0.9 < uneven.estimate < 1.0


def test_random_guessing() -> None:
    table = GuessTable(((5, 5, 0), (5, 5, 0)))
    assert james_index(table).estimate == pytest.approx(0.5)
    assert bang_index(table, "active").estimate == 0.0
    assert bang_index(table, "placebo").estimate == 0.0


_COUNT = st.integers(min_value=0, max_value=60)
_ROW = st.tuples(_COUNT, _COUNT, _COUNT)
_TABLES = st.builds(GuessTable, st.tuples(_ROW, _ROW))


def _relabelled(table: GuessTable) -> GuessTable:
    """Active and placebo swapped, both as true arm and as guess."""
    (aa, ap, ad), (pa, pp, pd) = table.counts
    return GuessTable(((pp, pa, pd), (ap, aa, ad)))


def _same(a: IndexEstimate, b: IndexEstimate) -> bool:
    first = (a.estimate, a.se, a.ci_low, a.ci_high)
    second = (b.estimate, b.se, b.ci_low, b.ci_high)
    return a.n == b.n and all(
        (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
        for x, y in zip(first, second, strict=True)
    )


@given(_TABLES)
def test_indices_stay_in_range(table: GuessTable) -> None:
    james = james_index(table)
    if not math.isnan(james.estimate):
        assert -1e-12 <= james.estimate <= 1 + 1e-12
        assert james.se >= 0
        assert james.ci_low <= james.estimate <= james.ci_high
    for arm in ARMS:
        bang = bang_index(table, arm)
        if table.arm_total(arm) == 0:
            assert math.isnan(bang.estimate)
            continue
        assert -1 <= bang.estimate <= 1
        assert bang.se >= 0
        assert bang.ci_low <= bang.estimate <= bang.ci_high


@given(_TABLES)
def test_swapping_the_labels_swaps_the_arms(table: GuessTable) -> None:
    swapped = _relabelled(table)
    assert _same(bang_index(swapped, "active"), bang_index(table, "placebo"))
    assert _same(bang_index(swapped, "placebo"), bang_index(table, "active"))
    assert _same(james_index(swapped), james_index(table))


@given(_TABLES)
def test_swapping_the_guesses_negates_bang(table: GuessTable) -> None:
    (aa, ap, ad), (pa, pp, pd) = table.counts
    flipped = GuessTable(((ap, aa, ad), (pp, pa, pd)))
    for arm in ARMS:
        before, after = bang_index(table, arm), bang_index(flipped, arm)
        if math.isnan(before.estimate):
            continue
        assert after.estimate == pytest.approx(-before.estimate, abs=1e-12)
        assert after.se == pytest.approx(before.se, abs=1e-12)


@given(_TABLES, st.integers(min_value=1, max_value=40))
def test_more_dont_know_answers_raise_james_and_shrink_bang(table: GuessTable, extra: int) -> None:
    (aa, ap, ad), (pa, pp, pd) = table.counts
    more = GuessTable(((aa, ap, ad + extra), (pa, pp, pd + extra)))
    before, after = james_index(table), james_index(more)
    if not math.isnan(before.estimate):
        assert after.estimate >= before.estimate - 1e-12
    for arm in ARMS:
        n = table.arm_total(arm)
        if n:
            shrunk = bang_index(table, arm).estimate * n / (n + extra)
            assert bang_index(more, arm).estimate == pytest.approx(shrunk, abs=1e-12)


@given(_TABLES, st.integers(min_value=2, max_value=5))
def test_scaling_the_counts_keeps_the_estimates(table: GuessTable, factor: int) -> None:
    scaled = GuessTable(
        tuple(tuple(factor * c for c in row) for row in table.counts)  # type: ignore[arg-type]
    )
    pairs = [(james_index(table), james_index(scaled))]
    pairs += [(bang_index(table, arm), bang_index(scaled, arm)) for arm in ARMS]
    for before, after in pairs:
        if math.isnan(before.estimate):
            assert math.isnan(after.estimate)
            continue
        assert after.estimate == pytest.approx(before.estimate, abs=1e-12)
        assert after.se == pytest.approx(before.se / math.sqrt(factor), abs=1e-12)


def test_labels_are_the_documented_ones() -> None:
    assert ARMS == ("active", "placebo")
    assert GUESSES == ("active", "placebo", "dont_know")
