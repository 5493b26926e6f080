"""The rate ratio with 1/2 added to both counts when one is zero, against R's metafor.

fixtures/rate_ratio/make_reference.R computes each case with
``metafor::escalc(measure = "IRR", x1i, t1i, x2i, t2i)`` (add = 1/2, to = "only0") and
``exp(yi +- qnorm(0.975) * sqrt(vi))``, and writes fixtures/rate_ratio/reference.json.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from diarytrial.analysis.safety.poisson import rate_ratio_corrected

REFERENCE = json.loads(
    (Path(__file__).parent / "fixtures" / "rate_ratio" / "reference.json").read_text()
)
CASES = sorted(k for k, v in REFERENCE.items() if isinstance(v, dict))


@pytest.mark.parametrize("name", CASES)
def test_rate_ratio_corrected_matches_metafor(name: str) -> None:
    case = REFERENCE[name]
    result = rate_ratio_corrected(case["x1"], case["t1"], case["x2"], case["t2"])
    # R: es <- escalc("IRR", x1i, t1i, x2i, t2i)
    #    exp(es$yi); exp(es$yi + c(-1, 1) * qnorm(0.975) * sqrt(es$vi))
    assert result.rate_ratio == pytest.approx(case["rate_ratio"], rel=1e-12)
    assert (result.ci_low, result.ci_high) == pytest.approx(case["ci"], rel=1e-10)
    assert result.corrected == (case["x1"] == 0 or case["x2"] == 0)


def test_a_zero_count_gives_finite_limits() -> None:
    result = rate_ratio_corrected(5, 2444, 0, 822)
    assert 0 < result.ci_low < result.rate_ratio < result.ci_high < math.inf


@pytest.mark.parametrize(
    ("xa", "ta", "xb", "tb"), [(0, 100, 0, 100), (3, 0, 1, 100), (3, 100, 1, 0)]
)
def test_no_event_or_no_exposure_gives_nan(xa: int, ta: float, xb: int, tb: float) -> None:
    result = rate_ratio_corrected(xa, ta, xb, tb)
    assert math.isnan(result.rate_ratio)
    assert math.isnan(result.ci_low)
    assert not result.corrected


@pytest.mark.parametrize(
    ("arguments", "message"),
    [((-1, 10, 0, 10), "events_a"), ((1, -5, 0, 10), "exposure_a"), ((1.5, 10, 0, 10), "events_a")],
)
def test_bad_input_says_what_to_fix(arguments: tuple[float, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rate_ratio_corrected(*arguments)  # type: ignore[arg-type]
