"""``diarytrial kits_import STUDY FILE``: kits from a supplier's CSV (code, arm, dose_level)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diarytrial.core.errors import ApplicationError
from diarytrial.randomization.errors import KitImportInvalidError
from diarytrial.randomization.management.commands._common import (
    EXIT_REFUSED,
    command_study,
    command_user,
)
from diarytrial.randomization.services import kit_inventory_import
from diarytrial.textfile import TextFileError, read_small_text

EXIT_INVALID = 2
KIT_LIST_LIMIT = 64 * 1024 * 1024
"""Largest kit list read (64 MiB, about three million kits)."""


class Command(BaseCommand):
    help = (
        "Import kits from a CSV file with the columns code, arm and dose_level. Any problem "
        "refuses the whole file (exit 2), one line per problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", metavar="STUDY", help="the study's id (protocol study.id)")
        parser.add_argument("file", metavar="FILE", help="the kit list (CSV, UTF-8)")
        parser.add_argument("--by", metavar="USERNAME", help="the acting user (default: none)")

    def handle(self, *args: Any, **options: Any) -> None:
        study = command_study(options["study"])
        path = Path(options["file"])
        try:
            text = read_small_text(path, what="kit list", limit=KIT_LIST_LIMIT)
        except TextFileError as error:
            raise CommandError(f"{path}: {error}", returncode=EXIT_INVALID) from None
        try:
            batch = kit_inventory_import(
                study=study, csv_text=text, source=path.name, actor=command_user(options["by"])
            )
        except KitImportInvalidError as error:
            raise CommandError(error.message, returncode=EXIT_INVALID) from None
        except ApplicationError as error:
            raise CommandError(error.message, returncode=EXIT_REFUSED) from None
        self.stdout.write(f"Imported {batch.size} kits for {study.slug} from {path.name}.")
