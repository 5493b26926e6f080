"""Reading environment variables for the settings."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from diarytrial.web.environment import (
    env_bool,
    env_environment,
    env_int,
    env_list,
    env_list_required,
    env_required,
    env_str,
)


def test_an_empty_variable_counts_as_unset() -> None:
    assert env_str("X", "default", environ={"X": "  "}) == "default"
    with pytest.raises(ImproperlyConfigured, match="X is not set: do this"):
        env_required("X", "do this", environ={"X": ""})


def test_lists_are_comma_separated() -> None:
    assert env_list("X", environ={"X": "a, b,,c "}) == ["a", "b", "c"]
    assert env_list("X", ["d"], environ={}) == ["d"]
    with pytest.raises(ImproperlyConfigured, match="X is not set"):
        env_list_required("X", "name one", environ={"X": " , "})


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("Yes", True), ("off", False), ("FALSE", False)]
)
def test_yes_no_values(raw: str, expected: bool) -> None:
    assert env_bool("X", not expected, environ={"X": raw}) is expected


def test_a_bad_yes_no_value_says_what_is_accepted() -> None:
    with pytest.raises(ImproperlyConfigured, match="X='maybe' is not a yes/no value"):
        env_bool("X", True, environ={"X": "maybe"})


def test_whole_numbers() -> None:
    assert env_int("X", 3, environ={"X": "60"}) == 60
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("X", 3, environ={"X": "1 year"})


def test_environment_names() -> None:
    assert env_environment(environ={}) == "development"
    assert env_environment(environ={"DIARYTRIAL_ENV": "Production"}) == "production"
    with pytest.raises(ImproperlyConfigured, match="one of development, test, production"):
        env_environment(environ={"DIARYTRIAL_ENV": "prod"})
