"""The `diarytrial` command: our own commands, and Django's management commands.

``diarytrial protocol check FILE`` and the other commands below work without a database.
Any other first word is handed to Django, so ``diarytrial migrate`` or ``diarytrial
runserver`` behave as ``manage.py`` would.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from diarytrial import commands

EXIT_USAGE = 2

Register = Callable[[argparse._SubParsersAction], None]  # type: ignore[type-arg]

# Each command's module (in diarytrial.commands), imported only when the command runs: the
# modules pull in pandas, SciPy and the interchange formats, which take seconds to import.
OWN_COMMANDS: dict[str, str] = {
    "protocol": "protocol_commands",
    "simulate": "simulate_commands",
    "analyze": "analyze_commands",
    "power": "power_commands",
    "demo": "demo_commands",
    "report": "report_commands",
    "convert": "convert_commands",
    "import": "import_commands",
}


def command_register(name: str) -> Register:
    """The ``register`` function of command `name`, its module imported on first use."""
    module = importlib.import_module(f"{commands.__name__}.{OWN_COMMANDS[name]}")
    register: Register = module.register
    return register


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of command `only` alone (what running it needs)."""
    parser = argparse.ArgumentParser(
        prog="diarytrial",
        description=(
            "Run a blinded crossover trial with nightly symptom diaries. Besides the commands "
            "below, every Django management command works too (diarytrial migrate, "
            "diarytrial runserver, diarytrial help)."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in OWN_COMMANDS if only is None else [only]:
        command_register(name)(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in OWN_COMMANDS or args[0] in {"-h", "--help"}:
        parser = build_parser(args[0] if args and args[0] in OWN_COMMANDS else None)
        namespace = parser.parse_args(args)
        if namespace.command is None:
            parser.print_help()
            return EXIT_USAGE
        handler: Callable[[argparse.Namespace], int] = namespace.handler
        return handler(namespace)
    return run_django(args)


def run_django(args: list[str]) -> int:
    """Run a Django management command, as manage.py would."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diarytrial.web.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # Load the settings now, so that a missing variable (SECRET_KEY in production...)
        # is reported as one line saying what to set rather than as a traceback.
        _ = settings.INSTALLED_APPS
    except ImproperlyConfigured as error:
        print(f"diarytrial: cannot start: {error}", file=sys.stderr)
        return 1
    execute_from_command_line(["diarytrial", *args])
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
