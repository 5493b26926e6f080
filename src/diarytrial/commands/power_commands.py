"""`diarytrial power`: simulation-based power for a range of sample sizes."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from diarytrial.commands.problems import (
    report_message,
    report_protocol_error,
    report_write_error,
)
from diarytrial.protocol import ProtocolError, load_protocol
from diarytrial.simulate.power import power_analysis

BAR_WIDTH = 40


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("power", help="estimate power by simulating many trials")
    parser.add_argument("--protocol", required=True, type=Path, metavar="FILE")
    parser.add_argument(
        "--participants",
        required=True,
        metavar="N,N,...",
        help="sample sizes to try, e.g. 10,20,30,40",
    )
    parser.add_argument("--trials", type=int, default=1000, help="trials per sample size")
    parser.add_argument("--seed", type=int, required=True, help="simulation seed")
    parser.add_argument("--alpha", type=float, default=0.05, help="two-sided significance level")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="also write the table as CSV")
    parser.set_defaults(handler=power)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(
            f"--participants takes whole numbers separated by commas, not {text!r}"
        ) from None
    if not sizes:
        raise ValueError("--participants needs at least one sample size, e.g. 30")
    return sizes


def power(args: argparse.Namespace) -> int:
    """Simulate, print the power table and a bar plot; exit 2 on bad input."""
    try:
        protocol = load_protocol(args.protocol)
        sizes = _sizes(args.participants)
    except ProtocolError as error:
        return report_protocol_error(error)
    except ValueError as error:
        return report_message(str(error))
    console = Console(highlight=False)
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("power", total=sum(sizes) * args.trials)
        try:
            table = power_analysis(
                protocol,
                participants=sizes,
                trials=args.trials,
                seed=args.seed,
                alpha=args.alpha,
                progress=lambda done, total: bar.update(task, completed=done),
            )
        except ValueError as error:
            return report_message(str(error))
    item = protocol.protocol.diary.items[0].label
    title = f"Power at alpha {args.alpha:g}, {args.trials:,} trials each (seed {args.seed})"
    out = Table(title=title, title_justify="left")
    for column in (
        "participants",
        f"{item}: mixed model",
        "responders: McNemar",
        "responder rates",
    ):
        out.add_column(column)
    for row in table.to_dict("records"):
        out.add_row(
            str(row["participants"]),
            _share(row["power_mixed"], row["se_mixed"]),
            _share(row["power_responders"], row["se_responders"]),
            f"{row['responder_rate_active']:.0%} vs {row['responder_rate_placebo']:.0%}",
        )
    console.print(out)
    console.print("Power by sample size (# mixed model, = responders):")
    for row in table.to_dict("records"):
        console.print(f"{row['participants']:>5}  {_bar(row['power_mixed'], '#')}", markup=False)
        console.print(f"{'':>5}  {_bar(row['power_responders'], '=')}", markup=False)
    if args.csv is not None:
        try:
            table.to_csv(args.csv, index=False)
        except OSError as error:
            return report_write_error(args.csv, error)
        console.print(f"Table written to {args.csv}")
    return 0


def _share(value: float, se: float) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{value:.1%} (± {se:.1%})"


def _bar(value: float, mark: str) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{mark * round(value * BAR_WIDTH):<{BAR_WIDTH}} {value:.0%}"
