"""``diarytrial study_create FILE``: create a study from its protocol file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from diarytrial.core.errors import ApplicationError, ProtocolInvalidError
from diarytrial.protocol import ProtocolError, load_protocol
from diarytrial.studies.selectors import study_current_protocol
from diarytrial.studies.services import study_create_from_protocol

EXIT_INVALID = 2
EXIT_REFUSED = 1


def _problems_message(source: str, lines: list[str]) -> str:
    if len(lines) == 1:  # the line names the file already
        return lines[0]
    return "\n".join(
        [f"{source}: the protocol has {len(lines)} problems; fix each of these:", *lines]
    )


class Command(BaseCommand):
    help = (
        "Create a study from its protocol file (TOML) and record the file as protocol "
        "version 1. Exits 2 when the file has problems, 1 when the study exists already."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="the protocol file (TOML)")
        parser.add_argument(
            "--created-by",
            metavar="USERNAME",
            help="the user recorded as having created the study (default: none)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["file"]
        created_by = self._user(options["created_by"])
        try:
            loaded = load_protocol(path)
        except ProtocolError as error:
            lines = [problem.describe(error.source) for problem in error.problems]
            raise CommandError(_problems_message(path, lines), returncode=EXIT_INVALID) from None
        try:
            study = study_create_from_protocol(
                text=loaded.text, source=Path(path).name, created_by=created_by
            )
        except ProtocolInvalidError as error:
            lines = error.describe_problems(path)
            raise CommandError(_problems_message(path, lines), returncode=EXIT_INVALID) from None
        except ApplicationError as error:
            raise CommandError(error.message, returncode=EXIT_REFUSED) from None
        version = study_current_protocol(study)
        self.stdout.write(
            f"Created study {study.slug}: {study.title}\n"
            f"Protocol version {version.number} from {version.source}, sha256 {version.sha256}"
        )

    def _user(self, username: str | None) -> User | None:
        if not username:
            return None
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(
                f"There is no user {username!r}; create it first (diarytrial createsuperuser) "
                f"or leave out --created-by.",
                returncode=EXIT_REFUSED,
            ) from None
