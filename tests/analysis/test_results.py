"""The whole analysis and its JSON document."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from diarytrial.analysis.primary import primary_contrast
from diarytrial.analysis.results import TrialResults, analyze_trial, results_to_dict
from diarytrial.dataset import write_dataset
from diarytrial.protocol import load_example
from diarytrial.simulate import simulate_trial

SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "results-schema.md"


@pytest.fixture(scope="module")
def ldn() -> TrialResults:
    return analyze_trial(simulate_trial(load_example("ldn-fibromyalgia"), participants=16, seed=8))


def test_json_has_no_nan_and_every_documented_key(ldn: TrialResults) -> None:
    document = results_to_dict(ldn)
    text = json.dumps(document, allow_nan=False)
    assert json.loads(text) == document
    top_table = SCHEMA_DOC.read_text().split("## Top level")[1].split("\n## ")[0]
    documented = re.findall(r"^\| `([a-z_0-9]+)` \|", top_table, flags=re.MULTILINE)
    assert set(document) | {"nof1"} == set(documented)


def test_every_item_has_a_contrast_and_tests(ldn: TrialResults) -> None:
    items = [i.id for i in load_example("ldn-fibromyalgia").protocol.diary.items]
    document = results_to_dict(ldn)
    assert set(document["mixed_model"]) | set(document["mixed_model_problems"]) == set(items)
    assert set(document["improvement_tests"]) == set(items)
    pain = document["mixed_model"]["pain"]
    assert pain["ci_low"] < pain["estimate"] < pain["ci_high"]
    assert 0 <= pain["rho"] < 1


def test_responder_counts_agree_with_the_rows(ldn: TrialResults) -> None:
    rows = ldn.responders.dropna(subset=["responder"])
    for record in ldn.responder_summary.to_dict("records"):
        mine = rows[rows["condition"] == record["condition"]]
        assert record["n"] == len(mine)
        assert record["responders"] == int(mine["responder"].astype(bool).sum())


def test_nof1_results() -> None:
    results = analyze_trial(simulate_trial(load_example("nof1-ldn"), participants=1, seed=1))
    document = results_to_dict(results)
    assert document["study"]["design"] == "nof1"
    assert len(document["nof1"]["blocks"]) == 3
    assert document["mixed_model"]["pain"]["model"] == "gls+AR(1)"


# The mixed-model numbers of a 31-participant LDN trial (seed 2013, the demo's size) as the
# analysis computed them when it fitted the items one by one with Brent's method in rho
# (diarytrial before the items were fitted together), full precision. Fields: estimate, se, p,
# rho, sigma_b, sigma, carryover_p, sensitivity_estimate, sensitivity_p.
ONE_BY_ONE = {
    "pain": (
        -3.8271521848255756,
        0.9491268886197393,
        5.6675104112686044e-05,
        0.5918019465690112,
        11.3718319536437,
        12.269871074564765,
        0.02132599706250557,
        -3.864804080253284,
        1.292604754716782e-13,
    ),
    "fatigue": (
        -2.6786496039030303,
        1.0143295234604357,
        0.008315683984267807,
        0.5660583015843604,
        12.924958059569985,
        13.558847552051352,
        0.2150992484443815,
        -2.7903496788235396,
        1.2070917519089706e-06,
    ),
    "sleep": (
        1.2030162222813008,
        0.9806465192853673,
        0.2200140898229062,
        0.5095082812387373,
        15.512999482495628,
        14.0442827537327,
        0.0222902572261501,
        1.249757370700087,
        0.036737340542809936,
    ),
    "mood": (
        2.1914778736127225,
        0.9541974475900132,
        0.021709229210699243,
        0.5550848638979463,
        18.581399852180766,
        12.924893647181198,
        0.043636791466635995,
        2.1689679681684195,
        7.710912761192493e-05,
    ),
    "activity": (
        0.19038671096261392,
        0.9592035149828934,
        0.8426803292159264,
        0.522247053832479,
        15.96393852034125,
        13.52976010405208,
        0.09921072007475451,
        0.31684367279102504,
        0.5815739745202508,
    ),
    "satisfaction": (
        1.8317320253768505,
        0.8168232870520157,
        0.02500467573936039,
        0.5225222079778504,
        19.105966362172584,
        11.51306164298466,
        0.006401336188481809,
        1.912449801911814,
        9.479027888459703e-05,
    ),
}
FIELDS = (
    "estimate",
    "se",
    "p",
    "rho",
    "sigma_b",
    "sigma",
    "carryover_p",
    "sensitivity_estimate",
    "sensitivity_p",
)


@pytest.fixture(scope="module")
def demo_size() -> TrialResults:
    trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=31, seed=2013)
    return analyze_trial(trial)


def test_fitting_the_items_together_gives_the_numbers_of_one_by_one(
    demo_size: TrialResults,
) -> None:
    document = results_to_dict(demo_size)
    assert set(document["mixed_model"]) == set(ONE_BY_ONE)
    for item, expected in ONE_BY_ONE.items():
        got = tuple(document["mixed_model"][item][field] for field in FIELDS)
        # rho is found to 1e-14 by another bracketing method: ~13 digits agree.
        assert got == pytest.approx(expected, rel=1e-10, abs=0.0), item


def test_every_number_equals_a_cold_item_by_item_fit(demo_size: TrialResults) -> None:
    trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=31, seed=2013)
    for item, together in demo_size.primary.items():
        alone = primary_contrast(trial, item)
        for field in dataclasses.fields(alone):
            a, b = getattr(together, field.name), getattr(alone, field.name)
            if isinstance(a, float):
                assert a == pytest.approx(b, rel=1e-10, abs=1e-300), (item, field.name)
            elif isinstance(a, dict):
                for term, pair in a.items():
                    assert pair == pytest.approx(b[term], rel=1e-10), (item, term)
            else:
                assert a == b, (item, field.name)


def test_analysing_imports_neither_scipy_stats_nor_scipy_optimize(tmp_path: Path) -> None:
    # They take longer to import than the analysis takes to run (bench/analyze.py).
    dataset = tmp_path / "trial"
    write_dataset(simulate_trial(load_example("ldn-fibromyalgia"), participants=4, seed=1), dataset)
    script = (
        "import sys\n"
        "from diarytrial import cli\n"
        "code = cli.main(['analyze', sys.argv[1]])\n"
        "heavy = sorted(m for m in ('scipy.stats', 'scipy.optimize') if m in sys.modules)\n"
        "print(code, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(dataset)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []"


def test_items_that_cannot_be_fitted_are_problems_as_one_by_one() -> None:
    # Three participants: in this trial period_2 is collinear with the other fixed effects, so
    # no item's model can be fitted (this crashed the first version of fitting them together).
    trial = simulate_trial(load_example("ldn-fibromyalgia"), participants=3, seed=9)
    results = analyze_trial(trial)
    assert results.primary == {}
    for item, problem in results.primary_problems.items():
        with pytest.raises(ValueError, match=f"^{re.escape(problem)}$"):
            primary_contrast(trial, item)
