"""Benchmark: the demo through the live system (31 participants, SQLite), end to end.

Target: under 60 s on a 2-core machine. Runs `diarytrial demo
--no-serve` in a fresh output folder and prints its time.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time


def main() -> None:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "diarytrial.cli", "demo", "--out", out, "--no-serve"],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stderr)
        raise SystemExit(1)
    ran = next(line for line in result.stdout.splitlines() if line.startswith("1. Ran"))
    print("demo through the live system (31 participants, SQLite)")
    print(f"  {ran.removeprefix('1. ')}")
    print(f"  seconds {seconds:8.1f}   (target < 60)")


if __name__ == "__main__":
    main()
