"""`diarytrial demo`: the main job, run end to end on the shipped LDN example."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from rich.console import Console

from diarytrial.analysis.results import TrialResults, analyze_trial
from diarytrial.dataset import dataset_sha256, read_dataset, write_dataset
from diarytrial.protocol import load_example
from diarytrial.report import write_report
from diarytrial.simulate import simulate_trial

DEMO_PROTOCOL = "ldn-fibromyalgia"
DEMO_PARTICIPANTS = 31  # as randomized in the published trial
DEMO_SEED = 2013


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "demo", help="simulate the LDN trial, analyse it and write the results report"
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
    """Simulate, write the dataset, analyse it, write the report; say what and where."""
    console = Console(highlight=False)
    started = time.perf_counter()
    protocol = load_example(DEMO_PROTOCOL)
    console.print(f"[bold]diarytrial demo[/]: {protocol.protocol.study.title}")
    folder = args.out / "dataset"
    write_dataset(simulate_trial(protocol, participants=args.participants, seed=args.seed), folder)
    # The analysis reads the dataset back from disk, as it would read any trial's export.
    dataset = read_dataset(folder)
    participants = dataset.participants
    withdrawn = int((participants["status"].astype(str) == "withdrawn").sum())
    console.print(
        f"1. Simulated {len(participants)} participants (seed {args.seed}): "
        f"{len(participants) - withdrawn} completed, {withdrawn} withdrew."
    )
    console.print(f"   Trial dataset: {folder.resolve()}")
    results = analyze_trial(dataset)
    console.print("2. Analysed it:")
    for line in headline(results):
        console.print(f"   {line}")
    report = write_report(
        dataset, results, args.out / "report.html", dataset_hash=dataset_sha256(folder)
    )
    console.print(f"3. Results report: {report.resolve()}")
    console.print(f"   open it in a browser: file://{report.resolve()}")
    console.print(f"Done in {time.perf_counter() - started:.1f} s.")
    return 0


def headline(results: TrialResults) -> list[str]:
    """The published-style headline: pain reduction per condition and responder rates."""
    item = results.primary_item
    summary = results.improvement_summary
    rows = summary[summary["item"] == item]
    means = dict(zip(rows["condition"].astype(str), rows["mean"].astype(float), strict=True))
    lines = []
    if {"active", "placebo"} <= set(means):
        lines.append(
            f"{item} reduced by {means['active']:.1f}% on the drug vs "
            f"{means['placebo']:.1f}% on placebo (from baseline)"
        )
    contrast = results.primary.get(item)
    if contrast is not None:
        lines.append(
            f"mixed model, drug - placebo: {contrast.estimate:.2f} points "
            f"(95% CI {contrast.ci_low:.2f} to {contrast.ci_high:.2f}), {_p(contrast.p)}"
        )
    summary = results.responder_summary
    rates = dict(zip(summary["condition"].astype(str), summary["rate"].astype(float), strict=True))
    if {"active", "placebo"} <= set(rates):
        test = results.responder_test
        lines.append(
            f"responders {rates['active']:.0%} on the drug vs "
            f"{rates['placebo']:.0%} on placebo"
            + (f" (exact McNemar {_p(test.p)})" if test is not None else "")
        )
    return lines


def _p(value: float) -> str:
    if not math.isfinite(value):
        return "p not computable"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"
