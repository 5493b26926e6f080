"""The whole analysis and its JSON document."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from diarytrial.analysis.results import TrialResults, analyze_trial, results_to_dict
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
