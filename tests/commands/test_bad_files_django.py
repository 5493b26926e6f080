"""The Django commands that read or write files, given bad ones: exit 2 and plain words.

`study_create` is run with every protocol case in test_bad_protocols.py; here are
`kits_import` (a supplier's CSV) and `export` (a folder to write).
"""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from tests.builders import make_member, make_study

from diarytrial.randomization.models import Kit
from diarytrial.studies.models import Role

pytestmark = pytest.mark.django_db

GOOD = "code,arm,dose_level\nS-9XK2,ldn,reduced\n"

KIT_LISTS: dict[str, tuple[Callable[[Path], object], str]] = {
    "missing": (lambda p: None, "no such file"),
    "a folder": (lambda p: p.mkdir(), "this is a folder, not a kit list"),
    "empty": (lambda p: p.write_bytes(b""), "line 1: the header must name the columns"),
    "UTF-16": (lambda p: p.write_bytes(GOOD.encode("utf-16")), "it looks like UTF-16"),
    "latin-1": (
        lambda p: p.write_bytes(GOOD.replace("S-9XK2", "S-9XK2é").encode("latin-1")),
        "is not UTF-8 text (line 2): it looks like Latin-1",
    ),
    "binary": (lambda p: p.write_bytes(bytes(range(256)) * 4), "is not UTF-8 text"),
    "a field too many": (
        lambda p: p.write_text(GOOD + "S-7QQ3,ldn,reduced,extra\n", encoding="utf-8"),
        "line 3: 4 fields; a row has 3 (code, arm, dose_level)",
    ),
    "a NUL byte": (
        lambda p: p.write_text(GOOD + "S-7QQ3,ldn,red\0uced\n", encoding="utf-8"),
        "line 3: dose level 'red\\x00uced' is not a level id",
    ),
    "a field of 200,000 characters": (
        lambda p: p.write_text(GOOD + "S-7QQ3,ldn," + "x" * 200_000 + "\n", encoding="utf-8"),
        "line 3: not a valid CSV file (field larger than field limit",
    ),
    "larger than any kit list": (
        lambda p: p.write_bytes(GOOD.encode() + b"#" * (65 * 1024 * 1024)),
        "larger than 64 MiB",
    ),
}


@pytest.mark.parametrize("case", list(KIT_LISTS))
def test_kits_import_refuses_a_bad_file_with_exit_2(case: str, tmp_path: Path) -> None:
    study = make_study()
    write, expect = KIT_LISTS[case]
    path = tmp_path / "kits.csv"
    write(path)

    with pytest.raises(CommandError) as caught:
        call_command("kits_import", study.slug, str(path), stdout=StringIO())

    assert caught.value.returncode == 2
    assert expect in str(caught.value)
    assert not Kit.objects.exists()


@pytest.mark.parametrize("where", ["a file", "inside a file"])
def test_export_into_a_path_it_cannot_write_exits_2(where: str, tmp_path: Path) -> None:
    study = make_study()
    coordinator = make_member(study=study, role=Role.COORDINATOR).user
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    target = a_file if where == "a file" else a_file / "dataset"

    with pytest.raises(CommandError) as caught:
        call_command(
            "export",
            study.slug,
            str(target),
            "--blinded",
            "--user",
            coordinator.username,
            stdout=StringIO(),
        )

    assert caught.value.returncode == 2
    assert str(caught.value).startswith(str(a_file if where == "a file" else target))
