"""`diarytrial simulate`: simulate a whole trial from a protocol and write its dataset."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from diarytrial.commands.problems import report_protocol_error, report_write_error
from diarytrial.protocol import ProtocolError, load_protocol

PROGRESS_FROM = 2000
"""Show a progress bar from this many participants on; smaller runs take a moment."""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "simulate",
        help="simulate a trial from a protocol and write its dataset",
        description=(
            "Simulate a whole trial run under a protocol (calibrated to the published LDN "
            "fibromyalgia trial) and write the trial dataset: CSV files and datapackage.json."
        ),
    )
    parser.add_argument("--protocol", required=True, metavar="FILE", help="protocol file (TOML)")
    parser.add_argument(
        "--participants", required=True, type=_positive, metavar="N", help="participants"
    )
    parser.add_argument("--seed", required=True, type=int, metavar="S", help="random seed")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    parser.set_defaults(handler=simulate)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("simulate at least 1 participant")
    return value


def simulate(args: argparse.Namespace) -> int:
    """Simulate, write the dataset, and print where it went; a bad protocol exits 2."""
    from diarytrial.dataset import write_dataset
    from diarytrial.simulate import simulate_trial

    try:
        loaded = load_protocol(args.protocol)
    except ProtocolError as error:
        return report_protocol_error(error)
    console = Console(highlight=False)
    began = time.perf_counter()
    if args.participants >= PROGRESS_FROM:
        with Progress(
            TextColumn("simulating"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} participants"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("simulate", total=args.participants)
            dataset = simulate_trial(
                loaded,
                participants=args.participants,
                seed=args.seed,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    else:
        dataset = simulate_trial(loaded, participants=args.participants, seed=args.seed)
    try:
        written = write_dataset(dataset, args.out)
    except OSError as error:
        target = Path(error.filename) if error.filename else args.out
        return report_write_error(target, error, what="folder")
    people = dataset.participants
    withdrawn = int((people["status"] == "withdrawn").sum())
    folder = written.parent if written.is_file() else written
    console.print(f"wrote the trial dataset to {folder}", markup=False, soft_wrap=True)
    plural = "s" if len(people) != 1 else ""
    console.print(
        f"{len(people)} participant{plural} ({withdrawn} withdrawn), {len(dataset.diary)} diary "
        "answers, "
        f"{len(dataset.side_effects)} side-effect reports, {len(dataset.adverse_events)} adverse "
        f"events, seed {args.seed}, {time.perf_counter() - began:.1f} s",
        markup=False,
        soft_wrap=True,
    )
    return 0
