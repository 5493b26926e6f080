"""`diarytrial demo`: the main job, run end to end on the shipped LDN example."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from diarytrial.dataset import dataset_sha256, write_dataset
from diarytrial.protocol import load_example
from diarytrial.simulate import simulate_trial

DEMO_PROTOCOL = "ldn-fibromyalgia"
DEMO_PARTICIPANTS = 31  # as randomized in the published trial
DEMO_SEED = 2013


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "demo", help="simulate the LDN trial and write its trial dataset"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out/demo"), help="output folder (default: out/demo)"
    )
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help="simulation seed")
    parser.add_argument(
        "--participants", type=int, default=DEMO_PARTICIPANTS, help="participants to randomize"
    )
    parser.set_defaults(handler=demo)


def demo(args: argparse.Namespace) -> int:
    """Simulate the LDN trial and write its dataset; print what was done and where."""
    console = Console(highlight=False)
    started = time.perf_counter()
    protocol = load_example(DEMO_PROTOCOL)
    console.print(f"[bold]diarytrial demo[/]: {protocol.protocol.study.title}")
    dataset = simulate_trial(protocol, participants=args.participants, seed=args.seed)
    folder = args.out / "dataset"
    write_dataset(dataset, folder)
    participants = dataset.participants
    withdrawn = int((participants["status"].astype(str) == "withdrawn").sum())
    console.print(
        f"Simulated {len(participants)} participants (seed {args.seed}): "
        f"{len(participants) - withdrawn} completed, {withdrawn} withdrew; "
        f"{dataset.diary[['participant_id', 'diary_date']].drop_duplicates().shape[0]:,} "
        f"diary nights, {len(dataset.adverse_events)} adverse events."
    )
    console.print(f"Trial dataset: {folder.resolve()}")
    console.print(f"  described by {(folder / 'datapackage.json').resolve()}")
    console.print(f"  dataset sha256 {dataset_sha256(folder)[:16]}")
    console.print(f"Done in {time.perf_counter() - started:.1f} s.")
    return 0
