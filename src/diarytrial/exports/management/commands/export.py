"""``diarytrial export STUDY OUT_DIR [--blinded] --user USERNAME``: write the trial dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diarytrial.core.errors import ApplicationError
from diarytrial.dataset import TABLES, dataset_sha256, write_dataset
from diarytrial.exports.management.commands._common import (
    EXIT_INVALID,
    EXIT_REFUSED,
    command_study,
    command_user,
)
from diarytrial.exports.services import dataset_export


class Command(BaseCommand):
    help = (
        "Export a study's trial dataset (CSV files, protocol.toml and datapackage.json) into "
        "OUT_DIR, as the user named with --user may see it. --blinded exports without "
        "allocation (any time); without it the export is unblinded: the statistician's, after "
        "the database lock and unblinding. Recorded in the audit trail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", metavar="STUDY", help="the study's id (protocol study.id)")
        parser.add_argument("out_dir", metavar="OUT_DIR", help="folder to write (created)")
        parser.add_argument(
            "--blinded",
            action="store_true",
            help="export without allocation (the default is unblinded)",
        )
        parser.add_argument(
            "--user", required=True, metavar="USERNAME", help="the staff user who exports"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        study = command_study(options["study"])
        actor = command_user(options["user"])
        out_dir = Path(options["out_dir"])
        if out_dir.exists() and not out_dir.is_dir():
            raise CommandError(
                f"{out_dir} is a file; name a folder to write the dataset into.",
                returncode=EXIT_INVALID,
            )
        try:
            dataset = dataset_export(study=study, actor=actor, blinded=options["blinded"])
        except ApplicationError as error:
            raise CommandError(error.message, returncode=EXIT_REFUSED) from None
        try:
            write_dataset(dataset, out_dir)
        except OSError as error:
            raise CommandError(
                f"{error.filename or out_dir}: cannot write the dataset "
                f"({error.strerror or error}); name a folder you may write to.",
                returncode=EXIT_INVALID,
            ) from None
        kind = "blinded" if options["blinded"] else "unblinded"
        counts = ", ".join(f"{len(dataset.table(t.name))} {t.name}" for t in TABLES)
        self.stdout.write(f"Wrote the {kind} dataset of {study.slug} to {out_dir}: {counts}.")
        self.stdout.write(f"Dataset SHA-256: {dataset_sha256(out_dir)}")
