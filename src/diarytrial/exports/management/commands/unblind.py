"""``diarytrial unblind STUDY --reason TEXT --user USERNAME``: unblind a locked study."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diarytrial.core.errors import ApplicationError
from diarytrial.exports.management.commands._common import (
    EXIT_REFUSED,
    command_study,
    command_user,
)
from diarytrial.exports.services import study_unblind


class Command(BaseCommand):
    help = (
        "Unblind a study whose database is locked, so that its statistician may export the "
        "unblinded dataset. The statistician only; recorded in the audit trail with the reason."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", metavar="STUDY", help="the study's id (protocol study.id)")
        parser.add_argument("--reason", required=True, help="why, e.g. 'final analysis'")
        parser.add_argument(
            "--user", required=True, metavar="USERNAME", help="the study's statistician"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        study = command_study(options["study"])
        actor = command_user(options["user"])
        try:
            unblinded = study_unblind(study=study, reason=options["reason"], actor=actor)
        except ApplicationError as error:
            raise CommandError(error.message, returncode=EXIT_REFUSED) from None
        self.stdout.write(
            f"Study {study.slug} unblinded at {unblinded.unblinded_at:%Y-%m-%d %H:%M} UTC; "
            f"export the unblinded dataset with: diarytrial export {study.slug} OUT_DIR "
            f"--user {actor.get_username()}"
        )
