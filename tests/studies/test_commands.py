"""``diarytrial study_create FILE``."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from tests.builders import example_protocol_path, make_study, make_user

from diarytrial.protocol import load_example
from diarytrial.studies.models import ProtocolVersion, Study
from diarytrial.studies.selectors import study_current_protocol, study_get

pytestmark = pytest.mark.django_db


def run_study_create(*args: str) -> str:
    out = StringIO()
    call_command("study_create", *args, stdout=out)
    return out.getvalue()


def test_creates_the_study_and_prints_it_with_its_version() -> None:
    output = run_study_create(str(example_protocol_path()))

    study = study_get("ldn_fibromyalgia")
    version = study_current_protocol(study)
    assert version.text == load_example("ldn-fibromyalgia").text
    assert version.source == "ldn-fibromyalgia.toml"
    assert version.created_by is None
    assert f"Created study ldn_fibromyalgia: {study.title}" in output
    assert f"Protocol version 1 from ldn-fibromyalgia.toml, sha256 {version.sha256}" in output


def test_records_the_user_named_by_created_by() -> None:
    user = make_user(username="pi")

    run_study_create(str(example_protocol_path()), "--created-by", "pi")

    assert study_current_protocol(study_get("ldn_fibromyalgia")).created_by == user


def test_an_unknown_created_by_user_is_refused() -> None:
    with pytest.raises(CommandError, match="no user 'ghost'") as caught:
        run_study_create(str(example_protocol_path()), "--created-by", "ghost")

    assert caught.value.returncode == 1
    assert not Study.objects.exists()


def test_a_bad_file_exits_2_listing_each_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('schema_version = 1\n\n[study]\nid = "Not A Slug"\n', encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        run_study_create(str(bad))

    assert caught.value.returncode == 2
    message = str(caught.value)
    assert message.startswith(f"{bad}: the protocol has ")
    assert f"{bad}:4: study.id: String should match pattern" in message
    assert f"{bad}: arms: this field is required; add it" in message
    assert not Study.objects.exists()
    assert not ProtocolVersion.objects.exists()


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file") as caught:
        run_study_create(str(tmp_path / "missing.toml"))

    assert caught.value.returncode == 2


def test_an_existing_study_exits_1() -> None:
    make_study()

    with pytest.raises(CommandError, match="exists already") as caught:
        run_study_create(str(example_protocol_path()))

    assert caught.value.returncode == 1
    assert ProtocolVersion.objects.count() == 1
