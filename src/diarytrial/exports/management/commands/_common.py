"""What the exports commands share: the study and the acting user, named on the command line."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.management.base import CommandError

from diarytrial.core.errors import ApplicationError
from diarytrial.studies.models import Study
from diarytrial.studies.selectors import study_get

EXIT_REFUSED = 1
EXIT_INVALID = 2
"""A path the command cannot use (a file where a folder is needed, no permission)."""


def command_study(slug: str) -> Study:
    try:
        return study_get(slug)
    except ApplicationError as error:
        raise CommandError(error.message, returncode=EXIT_REFUSED) from None


def command_user(username: str) -> User:
    """The user the command acts as: its roles decide what it may do."""
    try:
        return User.objects.get(username=username, is_active=True)
    except User.DoesNotExist:
        raise CommandError(
            f"There is no active user {username!r}; name a staff user of the study with --user.",
            returncode=EXIT_REFUSED,
        ) from None
