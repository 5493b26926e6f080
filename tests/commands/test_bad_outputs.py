"""Commands told to write where they cannot: exit 2 with the path and the reason, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from diarytrial.cli import main
from diarytrial.dataset import write_dataset
from diarytrial.protocol import load_example
from diarytrial.simulate import simulate_trial

PROTOCOL = "examples/ldn-fibromyalgia.toml"


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trial")
    write_dataset(simulate_trial(load_example("ldn-fibromyalgia"), participants=4, seed=2), folder)
    return folder


def _a_file(tmp_path: Path) -> Path:
    path = tmp_path / "taken.txt"
    path.write_text("x", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command", ["analyze --json", "report --out", "simulate --out", "power --csv", "convert --out"]
)
def test_an_output_path_it_cannot_write_exits_2(
    command: str, dataset_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = str(Path(__file__).parents[2] / PROTOCOL)
    blocked = _a_file(tmp_path) / "out"  # under a file: no folder can be made there
    args = {
        "analyze --json": ["analyze", str(dataset_dir), "--json", str(blocked)],
        "report --out": ["report", str(dataset_dir), "--out", str(blocked)],
        "convert --out": ["convert", str(dataset_dir), "--to", "dta", "--out", str(blocked)],
        "simulate --out": [
            "simulate",
            "--protocol",
            protocol,
            "--participants",
            "2",
            "--seed",
            "1",
            "--out",
            str(blocked),
        ],
        "power --csv": [
            "power",
            "--protocol",
            protocol,
            "--participants",
            "4",
            "--trials",
            "2",
            "--seed",
            "1",
            "--csv",
            str(blocked),
        ],
    }[command]

    assert main(args) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"{blocked}: cannot write it ({blocked.parent} is a file, not a folder)")
    assert "Traceback" not in err
