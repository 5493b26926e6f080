"""``make_*`` builders: state for tests, made through the services as the application makes it."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.models import User

import diarytrial.protocol
from diarytrial.protocol import load_example
from diarytrial.studies.models import Study
from diarytrial.studies.services import study_create_from_protocol

EXAMPLE_STUDY_ID = "ldn_fibromyalgia"


def example_protocol_path(name: str = "ldn-fibromyalgia") -> Path:
    """The protocol file shipped with diarytrial (also reachable as examples/NAME.toml)."""
    return Path(diarytrial.protocol.__file__).parent / "examples" / f"{name}.toml"


def make_protocol_text(
    *, study_id: str = EXAMPLE_STUDY_ID, title: str | None = None, note: str = ""
) -> str:
    """The LDN example's text, with another study id, another title or a trailing comment."""
    text = load_example("ldn-fibromyalgia").text
    text = text.replace(f'id = "{EXAMPLE_STUDY_ID}"', f'id = "{study_id}"', 1)
    if title is not None:
        original = load_example("ldn-fibromyalgia").protocol.study.title
        text = text.replace(f'title = "{original}"', f'title = "{title}"', 1)
    if note:
        text += f"\n# {note}\n"
    return text


def make_user(*, username: str = "coordinator") -> User:
    return User.objects.create_user(username=username)


def make_study(
    *,
    study_id: str = EXAMPLE_STUDY_ID,
    text: str | None = None,
    created_by: User | None = None,
) -> Study:
    """A study created from the LDN example protocol (or `text`) through the service."""
    return study_create_from_protocol(
        text=make_protocol_text(study_id=study_id) if text is None else text,
        source="ldn-fibromyalgia.toml",
        created_by=created_by,
    )
