"""``diarytrial allocation_generate STUDY --size N``: the allocation list of each stratum."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from diarytrial.core.errors import ApplicationError
from diarytrial.randomization.management.commands._common import (
    EXIT_REFUSED,
    command_study,
    command_user,
)
from diarytrial.randomization.models import AllocationList
from diarytrial.randomization.plans import SEED_LIMIT, stratum_keys_all
from diarytrial.randomization.services import allocation_list_generate
from diarytrial.studies.models import Site
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol


class Command(BaseCommand):
    help = (
        "Generate the allocation list of each stratum of a study that has none yet (or of the "
        "strata given with --stratum). Prints sizes only: the lists are read by the pharmacist."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", metavar="STUDY", help="the study's id (protocol study.id)")
        parser.add_argument(
            "--size", type=int, required=True, help="at least this many slots per stratum"
        )
        parser.add_argument(
            "--stratum",
            action="append",
            metavar="KEY",
            help="e.g. opioid_use=true; repeat for several (default: every stratum without one)",
        )
        parser.add_argument(
            "--seed",
            type=int,
            help="seed from which each list's recorded seed is drawn (default: a random one)",
        )
        parser.add_argument("--by", metavar="USERNAME", help="the acting user (default: none)")

    def handle(self, *args: Any, **options: Any) -> None:
        study = command_study(options["study"])
        actor = command_user(options["by"])
        strata: list[str] | None = options["stratum"]
        if not strata:
            protocol = protocol_version_load(study_current_protocol(study)).protocol
            sites = Site.objects.filter(study=study).values_list("code", flat=True)
            existing = set(
                AllocationList.objects.filter(study=study).values_list("stratum", flat=True)
            )
            strata = [
                key
                for key in stratum_keys_all(protocol.randomization.strata, site_codes=sites)
                if key not in existing
            ]
            if not strata:
                self.stdout.write(f"Every stratum of {study.slug} has its allocation list.")
                return
        seeds: list[int | None] = [None] * len(strata)
        if options["seed"] is not None:
            if not 0 <= options["seed"] < SEED_LIMIT:
                raise CommandError(
                    f"--seed is a whole number from 0 to {SEED_LIMIT - 1}", returncode=2
                )
            drawn = np.random.default_rng(options["seed"]).integers(SEED_LIMIT, size=len(strata))
            seeds = [int(seed) for seed in drawn]
        for stratum, seed in zip(strata, seeds, strict=True):
            try:
                allocation_list = allocation_list_generate(
                    study=study, stratum=stratum, size=options["size"], seed=seed, actor=actor
                )
            except ApplicationError as error:
                raise CommandError(error.message, returncode=EXIT_REFUSED) from None
            self.stdout.write(
                f"Allocation list of {study.slug} stratum {allocation_list.stratum}: "
                f"{allocation_list.size} slots, seed recorded."
            )
