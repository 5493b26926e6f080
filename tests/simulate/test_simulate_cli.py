"""`diarytrial simulate`: writes the dataset, byte for byte the same for the same seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from diarytrial import cli
from diarytrial.dataset import read_dataset, validate_dataset

LDN = Path(__file__).parents[2] / "examples" / "ldn-fibromyalgia.toml"


def _run(*args: str) -> int:
    return cli.main(["simulate", *args])


def test_same_seed_writes_identical_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a", "b", "c"):
        seed = "7" if name != "c" else "8"
        code = _run(
            "--protocol",
            str(LDN),
            "--participants",
            "12",
            "--seed",
            seed,
            "--out",
            str(tmp_path / name),
        )
        assert code == 0
    out = capsys.readouterr().out
    assert "wrote" in out
    assert "12 participants" in out
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert {"participants.csv", "diary.csv", "datapackage.json"} <= set(files)
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "diary.csv").read_bytes() != (
        tmp_path / "c" / "diary.csv"
    ).read_bytes()
    assert validate_dataset(read_dataset(tmp_path / "a")) == []


def test_bad_protocol_exits_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        LDN.read_text(encoding="utf-8").replace("baseline_days = 14", "baseline_days = -1")
    )
    code = _run(
        "--protocol", str(bad), "--participants", "3", "--seed", "1", "--out", str(tmp_path / "out")
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err
    assert "design.baseline_days" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
    assert (
        _run(
            "--protocol",
            str(tmp_path / "missing.toml"),
            "--participants",
            "3",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "out"),
        )
        == 2
    )


def test_participants_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _run("--protocol", str(LDN), "--participants", "0", "--seed", "1", "--out", "x")
    assert exit_info.value.code == 2
    assert "at least 1 participant" in capsys.readouterr().err
