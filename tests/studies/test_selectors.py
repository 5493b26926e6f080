"""Selectors of the studies app."""

from __future__ import annotations

import pytest
from tests.builders import make_protocol_text, make_study

from diarytrial.protocol import ProtocolFile, load_example
from diarytrial.studies.errors import ProtocolVersionAlteredError, StudyNotFoundError
from diarytrial.studies.models import ProtocolVersion
from diarytrial.studies.selectors import (
    protocol_version_load,
    study_current_protocol,
    study_get,
)
from diarytrial.studies.services import study_amend_protocol

pytestmark = pytest.mark.django_db


def test_study_get_finds_the_study_by_its_protocol_id() -> None:
    study = make_study()

    assert study_get("ldn_fibromyalgia") == study


def test_study_get_says_what_to_do_when_there_is_no_such_study() -> None:
    with pytest.raises(StudyNotFoundError, match=r"no study 'nope'.*study_create FILE") as caught:
        study_get("nope")

    assert caught.value.http_status == 404


def test_current_protocol_is_the_highest_version() -> None:
    study = make_study()
    for n in (1, 2):
        study_amend_protocol(
            study=study,
            text=make_protocol_text(note=f"amendment {n}"),
            source=f"amendment-{n}.toml",
            created_by=None,
        )

    current = study_current_protocol(study)

    assert (current.number, current.source) == (3, "amendment-2.toml")


def test_protocol_version_load_parses_the_stored_text() -> None:
    example = load_example("ldn-fibromyalgia")
    version = study_current_protocol(make_study())

    loaded = protocol_version_load(version)

    assert isinstance(loaded, ProtocolFile)
    assert loaded.protocol == example.protocol
    assert loaded.text == example.text
    assert loaded.sha256 == version.sha256
    assert loaded.source == version.source


def test_protocol_version_load_detects_a_changed_row() -> None:
    version = study_current_protocol(make_study())
    # Simulates an edit made outside diarytrial, e.g. with an SQL client.
    ProtocolVersion.objects.filter(pk=version.pk).update(text=make_protocol_text(note="edited"))
    version.refresh_from_db()

    with pytest.raises(ProtocolVersionAlteredError, match="no longer matches its recorded"):
        protocol_version_load(version)
