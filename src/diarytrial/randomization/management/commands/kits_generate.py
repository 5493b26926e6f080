"""``diarytrial kits_generate STUDY --per-arm-and-level N``: a kit inventory with random codes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diarytrial.core.errors import ApplicationError
from diarytrial.randomization.management.commands._common import (
    EXIT_REFUSED,
    command_study,
    command_user,
)
from diarytrial.randomization.services import kit_inventory_generate


class Command(BaseCommand):
    help = (
        "Make N kits of every arm and dose level of a study, under random codes that say "
        "nothing about their contents. Prints the count only. A participant takes one kit per "
        "visit, for the days until the next visit (LDN example: five kits, three of LDN and two "
        "of placebo, whatever the sequence), so N kits of each arm and level serve N divided by "
        "the most kits of one arm a participant takes (LDN: N / 3) participants at one level."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", metavar="STUDY", help="the study's id (protocol study.id)")
        parser.add_argument("--per-arm-and-level", type=int, required=True, metavar="N")
        parser.add_argument("--seed", type=int, help="recorded seed (default: a random one)")
        parser.add_argument("--by", metavar="USERNAME", help="the acting user (default: none)")

    def handle(self, *args: Any, **options: Any) -> None:
        study = command_study(options["study"])
        try:
            batch = kit_inventory_generate(
                study=study,
                per_arm_and_level=options["per_arm_and_level"],
                seed=options["seed"],
                actor=command_user(options["by"]),
            )
        except ApplicationError as error:
            raise CommandError(error.message, returncode=EXIT_REFUSED) from None
        self.stdout.write(f"Made {batch.size} kits for {study.slug} (batch {batch.pk}).")
