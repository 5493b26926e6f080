"""Run a Python module or script with the clock ticking from a given instant.

``python tests/clocked.py 2026-12-07T02:30:00+00:00 -m diarytrial.cli demo ...`` runs
``python -m diarytrial.cli demo ...`` (or ``-c CODE``, or a script) as if it had been started
at that instant: the way a test gives a subprocess its own clock (see
`tests.clock.clocked_command`).
"""

from __future__ import annotations

import datetime as dt
import runpy
import sys

import time_machine


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: clocked.py INSTANT (-m MODULE | -c CODE | SCRIPT) [ARGS...]")
    instant = dt.datetime.fromisoformat(argv[0])
    with time_machine.travel(instant, tick=True):
        if argv[1] == "-m":
            sys.argv = [argv[2], *argv[3:]]
            runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
        elif argv[1] == "-c":
            sys.argv = ["-c", *argv[3:]]
            exec(compile(argv[2], "<string>", "exec"), {"__name__": "__main__"})
        else:
            sys.argv = argv[1:]
            runpy.run_path(argv[1], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
