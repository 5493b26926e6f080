"""`diarytrial audit verify`: check the hash chain of the audit trail."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diarytrial.audit.selectors import audit_verify


class Command(BaseCommand):
    help = "Verify the audit trail: every event's hash and its link to the event before it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"], help="what to do with the trail")

    def handle(self, *args: Any, **options: Any) -> None:
        check = audit_verify()
        if not check.ok:
            raise CommandError(
                f"the audit trail is broken: {check.problem} "
                f"({check.checked} events before it are intact)",
                returncode=1,
            )
        self.stdout.write(f"The audit trail is intact: {check.checked} events verified.")
