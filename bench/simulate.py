"""Benchmark: simulate 10,000 participants x 180 diary days, then write the dataset.

Target: the simulation in memory under 10 s on a 2-core machine. Run ``python bench/simulate.py
[PARTICIPANTS]``; prints participants, days, seconds to simulate, and seconds to write, rows and
megabytes of the written dataset.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from diarytrial.dataset import write_dataset
from diarytrial.protocol import load_example, parse_protocol
from diarytrial.simulate import simulate_trial

TARGET_SECONDS = 10.0


def long_protocol() -> str:
    """The LDN example with 180-day schedules: 14 baseline + 83 + 83 days, no washout."""
    text = load_example("ldn-fibromyalgia").text
    for old, new in (
        ("washout_days = 14", "washout_days = 0"),
        ("treatment_days = { ldn = 84, placebo = 28 }", "treatment_days = 83"),
    ):
        if old not in text:
            raise SystemExit(f"the LDN example changed: cannot find {old!r}")
        text = text.replace(old, new)
    return text


def main(argv: list[str]) -> int:
    participants = int(argv[0]) if argv else 10_000
    protocol = parse_protocol(long_protocol(), source="bench-180-days.toml")
    days = max(
        sum(phase.days for phase in protocol.protocol.phase_templates(seq))
        for seq in protocol.protocol.sequences
    )
    began = time.perf_counter()
    dataset = simulate_trial(protocol, participants=participants, seed=1)
    simulated = time.perf_counter() - began
    print(f"participants {participants}, days {days}")
    print(f"simulate: {simulated:.2f} s in memory (target < {TARGET_SECONDS:.0f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        write_dataset(dataset, Path(tmp))
        written = time.perf_counter() - began
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    rows = sum(
        len(dataset.table(name))
        for name in (
            "participants",
            "periods",
            "diary",
            "side_effects",
            "doses",
            "adverse_events",
            "pgic",
            "blinding",
        )
    )
    print(
        f"write: {written:.2f} s, {rows:,} rows ({len(dataset.diary):,} diary), {size / 1e6:.0f} MB"
    )
    return 0 if simulated < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
