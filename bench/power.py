"""Benchmark: simulation-based power, 1,000 trials of 30 participants with the AR(1) model.

Target: under 20 s on a 2-core machine. Prints the time of each
step and the power figures.
"""

from __future__ import annotations

import argparse
import time

from diarytrial.protocol import load_example
from diarytrial.simulate.power import power_analysis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--participants", type=int, default=30)
    args = parser.parse_args()
    protocol = load_example("ldn-fibromyalgia")
    started = time.perf_counter()
    table = power_analysis(
        protocol, participants=[args.participants], trials=args.trials, seed=2013
    )
    seconds = time.perf_counter() - started
    row = table.iloc[0]
    print(f"power: {args.trials:,} trials x {args.participants} participants (LDN protocol)")
    print(f"  seconds               {seconds:8.1f}   (target < 20)")
    print(f"  trials fitted         {int(row['fitted']):8d}")
    print(f"  power, mixed model    {row['power_mixed']:8.3f}  +/- {row['se_mixed']:.3f}")
    print(f"  power, responders     {row['power_responders']:8.3f}  +/- {row['se_responders']:.3f}")


if __name__ == "__main__":
    main()
