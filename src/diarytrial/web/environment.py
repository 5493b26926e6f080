"""Read settings from environment variables, failing with a message that says what to set.

An empty variable counts as unset, so ``SECRET_KEY=`` in a service file is refused like a
missing one instead of silently becoming an empty key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

ENVIRONMENTS = ("development", "test", "production")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    """The variable's value with surrounding spaces removed, or `default` when unset or empty."""
    value = (os.environ if environ is None else environ).get(name, "").strip()
    return value or default


def env_required(name: str, hint: str, *, environ: Mapping[str, str] | None = None) -> str:
    """The variable's value; refuse to start when it is unset or empty.

    >>> env_required("SECRET_KEY", "set it to a random string", environ={})
    Traceback (most recent call last):
    ...
    django.core.exceptions.ImproperlyConfigured: SECRET_KEY is not set: set it to a random string.
    """
    value = env_str(name, environ=environ)
    if not value:
        raise ImproperlyConfigured(f"{name} is not set: {hint}.")
    return value


def env_list(
    name: str, default: list[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> list[str]:
    """A comma-separated variable as a list, e.g. ``ALLOWED_HOSTS=trial.example.org,localhost``.

    >>> env_list("ALLOWED_HOSTS", environ={"ALLOWED_HOSTS": " a.example.org, ,b.example.org "})
    ['a.example.org', 'b.example.org']
    """
    raw = env_str(name, environ=environ)
    if not raw:
        return list(default or [])
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_list_required(
    name: str, hint: str, *, environ: Mapping[str, str] | None = None
) -> list[str]:
    """A comma-separated variable that must name at least one value."""
    values = env_list(name, environ=environ)
    if not values:
        raise ImproperlyConfigured(f"{name} is not set: {hint}.")
    return values


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """A yes/no variable: 1/true/yes/on or 0/false/no/off (any case).

    >>> env_bool("SECURE_SSL_REDIRECT", True, environ={"SECURE_SSL_REDIRECT": "off"})
    False
    """
    raw = env_str(name, environ=environ).lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a yes/no value: set it to one of "
        f"{', '.join(sorted(_TRUE | _FALSE))}."
    )


def env_int(name: str, default: int, *, environ: Mapping[str, str] | None = None) -> int:
    """A whole-number variable, e.g. ``SECURE_HSTS_SECONDS=31536000``."""
    raw = env_str(name, environ=environ)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a whole number: set it to one."
        ) from None


def env_environment(*, environ: Mapping[str, str] | None = None) -> str:
    """``DIARYTRIAL_ENV``: development (the default), test or production."""
    value = env_str("DIARYTRIAL_ENV", "development", environ=environ).lower()
    if value not in ENVIRONMENTS:
        raise ImproperlyConfigured(
            f"DIARYTRIAL_ENV={value!r} is not known: set it to one of {', '.join(ENVIRONMENTS)}."
        )
    return value
