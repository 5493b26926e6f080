"""Blinding indices from the participants' guesses of what they received.

At the end of each period the participant answers "Which do you think you received?" with
active, placebo or don't know. The answers form a 2 x 3 table: rows are the true arm of the
period (active, placebo), columns the guess (active, placebo, don't know). Two indices summarise
the table.

Bang's blinding index (Bang, Ni and Davis, Controlled Clinical Trials 2004;25:143-156) is
computed per arm. With n the number of answers in the arm, p_c the share of correct guesses and
p_w the share of wrong guesses (don't know counts in n only), the index is p_c - p_w, which is
2 p_c / (p_c + p_w) - 1 scaled by the share of answers that are a guess. It runs from -1
(everyone wrong: opposite guessing) through 0 (random guessing, or everyone answers don't know)
to 1 (everyone correct). Its variance is the multinomial one of a difference of two shares, (p_c
(1 - p_c) + p_w (1 - p_w) + 2 p_c p_w) / n; both formulas follow the R package BI (Schwartz and
Mercaldo, CRAN, function BI, version 1.2.0), which implements Bang et al. 2004. The paper itself
was not at hand.

James' blinding index (James, Bloch, Lee, Kraemer and Fuller, Statistics in Medicine
1996;15:1421-1434) is one number for the whole table. Among the answers that are a guess it
takes the weighted kappa of disagreement K_d = (P_o - P_e) / P_e, where P_o is the observed
weighted disagreement and P_e the one expected from the margins, both over the guessing answers
only; with P_dk the share of don't know answers the index is (1 + P_dk + (1 - P_dk) K_d) / 2.
The weights are the default of the R package BI, which it gives as James' 1996 weights: 0 for a
correct guess, 0.5 for a wrong one, 1 for don't know. The don't know weight never enters the
formula (don't know answers count through P_dk) and scaling the guess weights leaves K_d
unchanged, so only "correct is 0, wrong is not" matters. The index runs from 0 (everyone
correct: complete unblinding) through 0.5 (random guessing) to 1 (everyone answers don't know;
also when everyone is wrong and the two arms have equally many answers). The index and its
large-sample variance are transcribed from the R package BI, function BI, which implements James
et al. 1996 (the paper itself was not at hand). With P_ij the share of all n answers that guess
i in true arm j, r_i the share guessing i and c_j the share of arm j among the answers that are
a guess (both over all n answers), S = sum of w_ij r_i c_j and e_ij = sum over k of (w_kj r_k +
w_ik c_k), sums over the two guesses and the two arms,

    V = [sum of P_ij (1 - P_dk)^2 ((1 - P_dk) w_ij - (1 + K_d) e_ij)^2 / (4 S^2)
         + P_dk (1 - P_dk) - (1 - P_dk) (1 + K_d) (P_dk + (1 - P_dk) (1 + K_d) / 4)] / n.

Both confidence intervals are the two-sided normal approximation estimate -/+ z * SE with z the
1 - (1 - level) / 2 normal quantile, as the R package BI prints them by default; they are not cut
to the range of the index. Bang et al. prefer a one-sided interval for their index: at level
0.90 the two limits are the two one-sided 95% limits.

Not estimable: an arm without answers gives a Bang index of NaN (estimate, SE and limits), a
table without answers a James index of NaN, as does a table whose guessing answers all come from
one arm and are all correct (P_e is 0, so K_d is 0/0). A table where every answer is don't know
gives James 1 with SE 0 (James et al. 1996, p. 1425; the R package BI sets the same) and Bang 0
with SE 0 in each arm that has answers. The report shows NaN as "not estimable".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final

ARMS: Final = ("active", "placebo")
"""The true arms of a period, the rows of a guess table."""

GUESSES: Final = ("active", "placebo", "dont_know")
"""The answers to "Which do you think you received?", the columns of a guess table."""

_JAMES_WEIGHTS: Final = ((0.0, 0.5), (0.5, 0.0))
"""James' weights for the guessing cells, [guess][true arm]: 0 correct, 0.5 wrong."""


@dataclass(frozen=True)
class GuessTable:
    """Counts of answers: rows are the true arm (active, placebo), columns the guess.

    ``counts[i][j]`` is the number of answers in true arm ``ARMS[i]`` guessing ``GUESSES[j]``.

    >>> table = GuessTable(((82, 25, 170), (27, 29, 83)))
    >>> table.count("active", "dont_know"), table.arm_total("placebo"), table.total
    (170, 139, 416)
    """

    counts: tuple[tuple[int, int, int], tuple[int, int, int]]

    def __post_init__(self) -> None:
        if len(self.counts) != len(ARMS) or any(len(row) != len(GUESSES) for row in self.counts):
            raise ValueError("a guess table has 2 rows (active, placebo) of 3 counts each")
        for row in self.counts:
            for value in row:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"a count must be a whole number >= 0, not {value!r}")

    def count(self, arm: str, guess: str) -> int:
        """The number of answers in true arm ``arm`` that guessed ``guess``."""
        return self.counts[_arm_index(arm)][_guess_index(guess)]

    def arm_total(self, arm: str) -> int:
        """The number of answers in true arm ``arm``."""
        return sum(self.counts[_arm_index(arm)])

    @property
    def total(self) -> int:
        """The number of answers."""
        return sum(sum(row) for row in self.counts)


@dataclass(frozen=True)
class IndexEstimate:
    """A blinding index with its standard error, confidence limits and number of answers.

    All four numbers are NaN when the index is not estimable.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int


def guess_table(pairs: Iterable[tuple[str, str]]) -> GuessTable:
    """Count (true arm, guess) pairs into a guess table.

    The true arm is ``active`` or ``placebo``; the guess ``active``, ``placebo`` or
    ``dont_know``. Any other label raises ValueError naming every unknown label.

    >>> guess_table([("active", "active"), ("placebo", "dont_know"), ("active", "placebo")])
    GuessTable(counts=((1, 1, 0), (0, 0, 1)))
    >>> guess_table([("active", "maybe")])
    Traceback (most recent call last):
    ...
    ValueError: unknown guess label(s): 'maybe' (known: active, placebo, dont_know)
    """
    tally: Counter[tuple[str, str]] = Counter()
    for arm, guess in pairs:
        tally[(arm, guess)] += 1
    bad_arms = sorted({arm for arm, _ in tally if arm not in ARMS}, key=repr)
    bad_guesses = sorted({guess for _, guess in tally if guess not in GUESSES}, key=repr)
    problems = []
    if bad_arms:
        named = ", ".join(repr(a) for a in bad_arms)
        problems.append(f"unknown true arm label(s): {named} (known: {', '.join(ARMS)})")
    if bad_guesses:
        named = ", ".join(repr(g) for g in bad_guesses)
        problems.append(f"unknown guess label(s): {named} (known: {', '.join(GUESSES)})")
    if problems:
        raise ValueError("; ".join(problems))
    active, placebo = (tuple(tally[(arm, guess)] for guess in GUESSES) for arm in ARMS)
    return GuessTable((_triple(active), _triple(placebo)))


def bang_index(table: GuessTable, arm: str, *, level: float = 0.95) -> IndexEstimate:
    """Bang's blinding index of one true arm (Bang, Ni and Davis 2004).

    The estimate is (correct - wrong) / n over the n answers of the arm, from -1 (all wrong)
    to 1 (all correct); an arm without answers gives NaN throughout.

    On the CRISP table of Bang et al. 2004, table 7 (the R package BI's example, transposed):

    >>> crisp = GuessTable(((82, 25, 170), (27, 29, 83)))
    >>> result = bang_index(crisp, "active")
    >>> round(result.estimate, 4), round(result.se, 4), result.n
    (0.2058, 0.0352, 277)
    >>> round(bang_index(crisp, "placebo").estimate, 4)
    0.0144
    """
    z = _z(level)
    index = _arm_index(arm)
    row = table.counts[index]
    n = sum(row)
    if n == 0:
        return _not_estimable(0)
    p_active = row[0] / n
    p_placebo = row[1] / n
    correct, wrong = (p_active, p_placebo) if index == 0 else (p_placebo, p_active)
    estimate = correct - wrong
    variance = (
        p_active * (1 - p_active) + p_placebo * (1 - p_placebo) + 2 * p_active * p_placebo
    ) / n
    se = math.sqrt(max(variance, 0.0))
    return IndexEstimate(estimate, se, estimate - z * se, estimate + z * se, n)


def james_index(table: GuessTable, *, level: float = 0.95) -> IndexEstimate:
    """James' blinding index of the whole table (James et al. 1996), default weights.

    From 0 (everyone correct) through 0.5 (random guessing) to 1 (everyone answers don't
    know). NaN when the table is empty, or when every guess is correct and comes from one arm.

    On the investigators' table of Houweling et al. 2014, table 2 (an example of the R package
    BI; these values are the ones its Julia port BlindingIndex.jl prints):

    >>> investigators = GuessTable(((48, 4, 330), (22, 30, 319)))
    >>> result = james_index(investigators)
    >>> round(result.estimate, 3), round(result.se, 3), round(result.ci_low, 3)
    (0.896, 0.011, 0.875)
    >>> james_index(GuessTable(((0, 0, 5), (0, 0, 7)))).estimate
    1.0
    """
    z = _z(level)
    n = table.total
    if n == 0:
        return _not_estimable(0)
    # p[i][j]: share of all answers guessing GUESSES[i] (active, placebo) in true arm ARMS[j]
    p = [[table.counts[j][i] / n for j in range(2)] for i in range(2)]
    p_dk = (table.counts[0][2] + table.counts[1][2]) / n
    if p_dk == 1.0:
        return IndexEstimate(1.0, 0.0, 1.0, 1.0, n)
    w = _JAMES_WEIGHTS
    guess_share = [p[i][0] + p[i][1] for i in range(2)]
    arm_share = [p[0][j] + p[1][j] for j in range(2)]
    expected = sum(w[i][j] * guess_share[i] * arm_share[j] for i in range(2) for j in range(2))
    if expected == 0.0:
        return _not_estimable(n)
    guessing = 1 - p_dk
    observed_d = sum(w[i][j] * p[i][j] for i in range(2) for j in range(2)) / guessing
    expected_d = expected / guessing**2
    kappa_d = (observed_d - expected_d) / expected_d
    term = 0.0
    for i in range(2):
        for j in range(2):
            extra = sum(w[k][j] * guess_share[k] + w[i][k] * arm_share[k] for k in range(2))
            term += p[i][j] * guessing**2 * (guessing * w[i][j] - (1 + kappa_d) * extra) ** 2
    variance = (
        term / (4 * expected**2)
        + p_dk * guessing
        - guessing * (1 + kappa_d) * (p_dk + guessing * (1 + kappa_d) / 4)
    ) / n
    estimate = (1 + p_dk + guessing * kappa_d) / 2
    # The variance is a sum of squares in exact arithmetic; rounding can leave -1e-16.
    se = math.sqrt(max(variance, 0.0))
    return IndexEstimate(estimate, se, estimate - z * se, estimate + z * se, n)


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"the confidence level must be between 0 and 1, not {level!r}")
    return NormalDist().inv_cdf(1 - (1 - level) / 2)


def _not_estimable(n: int) -> IndexEstimate:
    return IndexEstimate(math.nan, math.nan, math.nan, math.nan, n)


def _arm_index(arm: str) -> int:
    if arm not in ARMS:
        raise ValueError(f"unknown true arm {arm!r} (known: {', '.join(ARMS)})")
    return ARMS.index(arm)


def _guess_index(guess: str) -> int:
    if guess not in GUESSES:
        raise ValueError(f"unknown guess {guess!r} (known: {', '.join(GUESSES)})")
    return GUESSES.index(guess)


def _triple(values: tuple[int, ...]) -> tuple[int, int, int]:
    first, second, third = values
    return (first, second, third)
