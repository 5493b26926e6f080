"""Run the given tests again at every awkward instant of tests/clock.py, the runs side by side.

``python -m tests.clock_reruns tests/diary tests/web`` is how ``make pytest-clock`` proves that
no test depends on the time of day: one pytest run per instant, at the same time (each on its
own clock and its own in-memory database), each run's output printed when it ends. Exits 1 if
any run failed.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile

from tests.clock import AWKWARD_INSTANTS, CLOCK_VARIABLE


def main(pytest_args: list[str]) -> int:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args]
    failed = []
    with contextlib.ExitStack() as stack:
        runs = []
        for instant in AWKWARD_INSTANTS:
            log = stack.enter_context(tempfile.TemporaryFile())
            environment = {**os.environ, "DIARYTRIAL_ENV": "test", CLOCK_VARIABLE: instant}
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=environment
            )
            runs.append((instant, log, process))
        for instant, log, process in runs:
            if process.wait() != 0:
                failed.append(instant)
            log.seek(0)
            print(f"== the date-sensitive tests again, the clock at {instant}", flush=True)
            sys.stdout.write(log.read().decode("utf-8", errors="replace"))
    if failed:
        print(f"== failed with the clock at {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
