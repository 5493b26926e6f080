"""What the randomization commands share: finding the study and the acting user."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.management.base import CommandError

from diarytrial.core.errors import ApplicationError
from diarytrial.studies.models import Study
from diarytrial.studies.selectors import study_get

EXIT_REFUSED = 1


def command_study(slug: str) -> Study:
    try:
        return study_get(slug)
    except ApplicationError as error:
        raise CommandError(error.message, returncode=EXIT_REFUSED) from None


def command_user(username: str | None) -> User | None:
    if not username:
        return None
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise CommandError(
            f"There is no user {username!r}; create it first or leave out --by.",
            returncode=EXIT_REFUSED,
        ) from None
