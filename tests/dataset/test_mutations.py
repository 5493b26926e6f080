"""Random damage to datasets and protocols: only the project's own errors may come out.

Hypothesis takes a valid trial dataset (or protocol), damages one file at random (bytes cut,
lines dropped or repeated, a cell or a JSON value or a TOML value replaced, another encoding,
the file gone or turned into a folder) and reads it. Reading may refuse it only with
DatasetError (ProtocolError for a protocol); a dataset that is read must then analyse and
render, or be refused with a ValueError raised by diarytrial itself with a message for a
person. Anything else (a KeyError, a pandas error, a ValueError from inside pandas) fails.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diarytrial.analysis.results import analyze_trial
from diarytrial.dataset import DatasetError, read_dataset, write_dataset
from diarytrial.protocol import ProtocolError, load_example, parse_protocol
from diarytrial.report import render_report
from diarytrial.simulate import simulate_trial

FILES = (
    "participants.csv",
    "periods.csv",
    "diary.csv",
    "side_effects.csv",
    "doses.csv",
    "adverse_events.csv",
    "pgic.csv",
    "datapackage.json",
    "protocol.toml",
)

TRICKY_CELLS = (
    "",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e309",
    "-1",
    "0",
    "0.5",
    "99999999999999999999",
    "-99999999999999999999",
    "abc",
    "TRUE",
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
    "2026-01-05T25:00:00Z",
    "P-UNKNOWN",
    "é",
    '"',
    '","',
    "x" * 5000,
    "ldn-placebo",
    "placebo-ldn",
    "withdrawn",
    "Europe/Nowhere",
)

TRICKY_TOML = (
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "1",
    "2",
    "100000",
    "9223372036854775807",
    "1e308",
    '"x"',
    '""',
    "[]",
    "{}",
    "true",
    "2026-01-01",
    "00:00:00",
    "[" * 300 + "]" * 300,
    '["pain"]',
    "{ ldn = 1, placebo = 1 }",
)

JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "sha256:00", "sha256:" + "a" * 64, "md5:x", "1", "diary.csv"])
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two small valid datasets: a crossover of 3 participants and an n-of-1 trial."""
    folders = {}
    for name, participants in (("ldn-fibromyalgia", 3), ("nof1-ldn", 1)):
        folder = tmp_path_factory.mktemp(name)
        trial = simulate_trial(load_example(name), participants=participants, seed=5)
        write_dataset(trial, folder)
        folders[name] = folder
    return folders


@pytest.fixture
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


@st.composite
def damage(draw: st.DrawFn, data: bytes, name: str) -> bytes | None:
    """New bytes for the file called `name` (None: delete it)."""
    kind = draw(
        st.sampled_from(
            [
                "truncate",
                "drop line",
                "repeat line",
                "insert bytes",
                "value",
                "utf-16",
                "latin-1",
                "empty",
                "delete",
                "concatenate",
            ]
        )
    )
    lines = _lines(data)
    if kind == "truncate":
        return data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    if kind in {"drop line", "repeat line"} and lines:
        at = draw(st.integers(0, len(lines) - 1))
        extra = [lines[at]] if kind == "repeat line" else []
        return b"".join(lines[:at] + extra + lines[at + 1 :])
    if kind == "insert bytes":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if kind == "utf-16":
        return data.decode("utf-8").encode("utf-16")
    if kind == "latin-1":
        return data.decode("utf-8").replace("a", "é", 1).encode("latin-1")
    if kind == "empty":
        return b""
    if kind == "delete":
        return None
    if kind == "concatenate":
        return data + data
    return _replace_value(draw, data, name)


def _replace_value(draw: st.DrawFn, data: bytes, name: str) -> bytes:
    text = data.decode("utf-8")
    if name.endswith(".csv"):
        lines = text.splitlines()
        if len(lines) < 2:
            return data
        row = draw(st.integers(1, len(lines) - 1))
        cells = lines[row].split(",")
        column = draw(st.integers(0, len(cells) - 1))
        cells[column] = draw(st.sampled_from(TRICKY_CELLS) | st.text(max_size=12))
        lines[row] = ",".join(cells)
        return ("\n".join(lines) + "\n").encode("utf-8")
    if name.endswith(".json"):
        document = json.loads(text)
        _replace_json(draw, document)
        return json.dumps(document, indent=2).encode("utf-8")
    return _replace_toml(draw, text).encode("utf-8")


def _replace_json(draw: st.DrawFn, node: Any) -> None:
    """Walk down a random path of the JSON tree and replace the value found there."""
    while True:
        keys: list[Any] = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            return
        key = draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, dict | list) and child and draw(st.booleans()):
            node = child
            continue
        node[key] = draw(JSON_VALUES)
        return


_TOML_VALUE = re.compile(r"^(\s*[A-Za-z0-9_.\"-]+\s*=\s*)(.+)$")


def _replace_toml(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    keyed = [k for k, line in enumerate(lines) if _TOML_VALUE.match(line)]
    at = draw(st.sampled_from(keyed))
    match = _TOML_VALUE.match(lines[at])
    assert match is not None
    lines[at] = match.group(1) + draw(st.sampled_from(TRICKY_TOML))
    return "\n".join(lines) + "\n"


def _own_error(error: BaseException) -> bool:
    """A ValueError raised by diarytrial's own code (not by a library it calls)."""
    frames = traceback.extract_tb(error.__traceback__)
    return isinstance(error, ValueError) and "/diarytrial/" in frames[-1].filename


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    trial=st.sampled_from(["ldn-fibromyalgia", "nof1-ldn"]),
    name=st.sampled_from(FILES),
)
def test_damaged_datasets_raise_only_our_errors(
    sources: dict[str, Path], scratch: Path, data: st.DataObject, trial: str, name: str
) -> None:
    folder = scratch / "trial"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(sources[trial], folder)
    target = folder / name
    damaged = data.draw(damage(target.read_bytes(), name))
    if damaged is None:
        target.unlink()
    else:
        target.write_bytes(damaged)
    try:
        dataset = read_dataset(folder, allow_modified=True)
    except DatasetError as error:
        refused: DatasetError | None = error
    else:
        refused = None
    if refused is not None:
        assert refused.issues, "a DatasetError lists its problems"
        return
    try:
        results = analyze_trial(dataset)
    except ValueError as error:
        if _own_error(error):
            return
        raise
    assert dataset.files is not None
    render_report(dataset, results, dataset_hash=dataset.files.sha256)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), example=st.sampled_from(["ldn-fibromyalgia", "nof1-ldn"]))
def test_damaged_protocols_raise_only_protocol_errors(data: st.DataObject, example: str) -> None:
    original = load_example(example).text.encode("utf-8")
    damaged = data.draw(damage(original, "protocol.toml"))
    try:
        text = (damaged or b"").decode("utf-8")
    except UnicodeDecodeError:
        return  # read_small_text refuses it before parsing (tested in tests/protocol)
    try:
        protocol = parse_protocol(text, source="trial.toml")
    except ProtocolError as error:
        refused: ProtocolError | None = error
    else:
        refused = None
    if refused is not None:
        assert refused.problems, "a ProtocolError lists its problems"
        return
    # A protocol that validates must run: simulate two participants and read their dataset.
    trial = simulate_trial(protocol, participants=2, seed=1)
    with tempfile.TemporaryDirectory() as folder:
        write_dataset(trial, folder)
        read_dataset(folder)
