"""Benchmark: `diarytrial analyze` of a 31-participant trial (the demo's size), end to end.

Target: the whole command under 2 s of wall time, and under 1 s once its imports are done, on a
2-core machine. Run ``python bench/analyze.py [RUNS]`` (default 5): it simulates the LDN
fibromyalgia example with 31 participants (seed 2013, as the demo does), then runs
``diarytrial analyze DIR --json FILE`` RUNS times, each in a fresh interpreter, and prints the
median of: the wall time of the command, the time to import the command's modules (the
interpreter's start included) and the time after those imports (reading, analysing, printing,
writing the JSON, with any import made on the way), as wall time and as the process's CPU
time. A busy machine shows as wall time well above CPU time.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from diarytrial.dataset import write_dataset
from diarytrial.protocol import load_example
from diarytrial.simulate import simulate_trial

PARTICIPANTS = 31
SEED = 2013
TARGET_WALL = 2.0
TARGET_AFTER_IMPORTS = 1.0

# Run in the child: the command's imports timed apart from the rest of the command.
CHILD = """
import json, sys, time
start, start_cpu = time.perf_counter(), time.process_time()
from diarytrial import cli
cli.command_register("analyze")
imported, imported_cpu = time.perf_counter(), time.process_time()
code = cli.main(["analyze", sys.argv[1], "--json", sys.argv[2]])
done, done_cpu = time.perf_counter(), time.process_time()
print(json.dumps({"code": code, "imports": imported - start, "after": done - imported,
                  "imports_cpu": imported_cpu - start_cpu, "after_cpu": done_cpu - imported_cpu}),
      file=sys.stderr)
"""


def run_once(dataset: Path, out: Path) -> dict[str, float]:
    """One analysis in a fresh interpreter: wall, imports, after imports, CPU seconds."""
    before = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(dataset), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - before
    if done.returncode != 0:
        raise SystemExit(f"diarytrial analyze failed:\n{done.stderr}")
    figures = json.loads(done.stderr.strip().splitlines()[-1])
    return {
        "wall": wall,
        "imports": figures["imports"],
        "after": figures["after"],
        "startup": wall - figures["imports"] - figures["after"],
        "imports_cpu": figures["imports_cpu"],
        "after_cpu": figures["after_cpu"],
    }


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 5
    with tempfile.TemporaryDirectory() as tmp:
        dataset = Path(tmp) / "dataset"
        protocol = load_example("ldn-fibromyalgia")
        write_dataset(simulate_trial(protocol, participants=PARTICIPANTS, seed=SEED), dataset)
        out = Path(tmp) / "results.json"
        run_once(dataset, out)  # warm the file cache; not counted
        results = [run_once(dataset, out) for _ in range(runs)]
    median = {key: statistics.median(r[key] for r in results) for key in results[0]}
    print(f"diarytrial analyze, {PARTICIPANTS} participants, median of {runs} runs")
    print("                               wall     CPU")
    print(
        f"  the whole command          {median['wall']:6.2f} s        (target < {TARGET_WALL:g} s)"
    )
    print(f"  interpreter start and exit {median['startup']:6.2f} s")
    print(f"  imports of the command     {median['imports']:6.2f} s {median['imports_cpu']:6.2f} s")
    print(
        f"  after the imports          {median['after']:6.2f} s {median['after_cpu']:6.2f} s"
        f"   (target < {TARGET_AFTER_IMPORTS:g} s)"
    )
    met = median["wall"] < TARGET_WALL and median["after"] < TARGET_AFTER_IMPORTS
    print("targets met" if met else "targets NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
