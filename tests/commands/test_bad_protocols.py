"""Every command that reads a protocol file, given a bad one: exit 2 and plain words.

The cases are in tests/commands/bad_inputs.py; each runs through `diarytrial protocol check`,
`simulate`, `power` and the Django command `study_create`.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from tests.commands.bad_inputs import PROTOCOL_CASES, ProtocolCase

from diarytrial.cli import main
from diarytrial.studies.models import Study


def _own_command(name: str, path: Path, out: Path) -> list[str]:
    if name == "protocol check":
        return ["protocol", "check", str(path)]
    if name == "simulate":
        return [
            "simulate",
            "--protocol",
            str(path),
            "--participants",
            "2",
            "--seed",
            "1",
            "--out",
            str(out),
        ]
    return ["power", "--protocol", str(path), "--participants", "4", "--trials", "2", "--seed", "1"]


@pytest.mark.parametrize("command", ["protocol check", "simulate", "power"])
@pytest.mark.parametrize("case", PROTOCOL_CASES, ids=[c.id for c in PROTOCOL_CASES])
def test_a_bad_protocol_exits_2_naming_the_file(
    case: ProtocolCase, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "trial.toml"
    case.write(path)
    assert main(_own_command(command, path, tmp_path / "out")) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert case.expect in captured.err, captured.err
    first = captured.err.splitlines()[0]
    assert first.startswith(f"{path}:" if case.with_line else str(path)), first
    if case.with_line:
        assert any(
            line.strip().startswith(f"{path}:") and line.strip()[len(str(path)) + 1].isdigit()
            for line in captured.err.splitlines()
        ), captured.err
    assert not (tmp_path / "out").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("case", PROTOCOL_CASES, ids=[c.id for c in PROTOCOL_CASES])
def test_study_create_refuses_a_bad_protocol_with_exit_2(
    case: ProtocolCase, tmp_path: Path
) -> None:
    path = tmp_path / "trial.toml"
    case.write(path)
    with pytest.raises(CommandError) as caught:
        call_command("study_create", str(path), stdout=StringIO())
    assert caught.value.returncode == 2
    assert case.expect in str(caught.value)
    assert str(caught.value).startswith(str(path))
    assert not Study.objects.exists()
