"""`diarytrial analyze DIR [--json FILE]`: analyse a trial dataset and print a summary."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from diarytrial.analysis.results import TrialResults, analyze_trial, results_to_dict
from diarytrial.commands.problems import (
    add_allow_modified,
    read_files,
    report_dataset_error,
    report_message,
    report_write_error,
    warn_if_modified,
)
from diarytrial.dataset import DatasetError, read_dataset
from diarytrial.report.format import decimal, p_statement, p_value


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("analyze", help="analyse a trial dataset folder")
    parser.add_argument("directory", metavar="DIR", type=Path, help="trial dataset folder")
    parser.add_argument(
        "--json", metavar="FILE", type=Path, help="write every number to FILE (JSON)"
    )
    add_allow_modified(parser)
    parser.set_defaults(handler=analyze)


def analyze(args: argparse.Namespace) -> int:
    """Read DIR, analyse it, print the summary and optionally write the JSON."""
    try:
        dataset = read_dataset(args.directory, allow_modified=args.allow_modified)
    except DatasetError as error:
        return report_dataset_error(error)
    try:
        results = analyze_trial(dataset)
    except ValueError as error:
        return report_message(f"{args.directory}: the analysis cannot run: {error}")
    console = Console(highlight=False, soft_wrap=True)
    files = read_files(dataset)
    print_summary(results, console)
    warn_if_modified(files, console)
    if args.json is not None:
        document = results_to_dict(results)
        document["provenance"]["dataset_sha256"] = files.sha256
        document["provenance"]["dataset_modified_files"] = list(files.modified)
        text = json.dumps(document, indent=2, allow_nan=False) + "\n"
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(text, encoding="utf-8")
        except OSError as error:
            return report_write_error(args.json, error)
        console.print(f"Every number: {args.json}", markup=False)
    return 0


def print_summary(results: TrialResults, console: Console) -> None:
    """Readable tables of the main results."""
    console.print(f"[bold]{results.title}[/]")
    randomized = results.flow[results.flow["stage"] == "randomized"]["n"].sum()
    analysed = results.flow[results.flow["stage"] == "analysed"]["n"].sum()
    console.print(f"{randomized} randomized, {analysed} analysed (complete in every condition).")

    table = Table(
        title="Improvement from baseline and the mixed-model contrast", title_justify="left"
    )
    for column in ("item", "active %", "placebo %", "difference (points)", "95% CI", "p", "rho"):
        table.add_column(column)
    summary = {
        (str(r["item"]), str(r["condition"])): float(r["mean"])
        for r in results.improvement_summary.to_dict("records")
    }
    for item, contrast in results.primary.items():
        means = [decimal(summary.get((item, c))) for c in ("active", "placebo")]
        table.add_row(
            item,
            *means,
            decimal(contrast.estimate, 2),
            f"{decimal(contrast.ci_low, 2)} to {decimal(contrast.ci_high, 2)}",
            p_value(contrast.p),
            decimal(contrast.rho, 2),
        )
    console.print(table)
    for item, problem in results.primary_problems.items():
        console.print(f"[yellow]{item}[/]: the mixed model could not be fitted: {problem}")

    responders = Table(title=f"Responders: {results.responder_rule}", title_justify="left")
    for column in ("condition", "responders", "assessed", "rate"):
        responders.add_column(column)
    for record in results.responder_summary.to_dict("records"):
        responders.add_row(
            str(record["condition"]),
            str(record["responders"]),
            str(record["n"]),
            f"{float(record['rate']):.0%}",
        )
    console.print(responders)
    if results.responder_test is not None:
        console.print(f"Exact McNemar {p_statement(results.responder_test.p)}")

    onset = results.time_course.onset_week
    console.print(
        "Onset (first week from which the mean improvement stays at or above "
        f"{results.time_course.threshold:g}%): "
        + ", ".join(f"{c} {w if w is not None else 'never'}" for c, w in onset.items())
    )
    improved = results.pgic_improved.to_dict("records")
    if improved:
        console.print(
            "PGIC much or very much improved: "
            + ", ".join(f"{r['condition']} {r['improved']}/{r['n']}" for r in improved if r["n"])
        )
    if results.nof1 is not None:
        for effect in results.nof1.to_dict("records"):
            console.print(
                f"n-of-1 {effect['participant_id']}: benefit "
                f"{decimal(float(effect['mean_benefit']))} points "
                f"({decimal(float(effect['ci_low']))} to {decimal(float(effect['ci_high']))}) "
                f"over {effect['blocks']} blocks; P(benefit > {float(effect['cid']):g}) = "
                f"{decimal(float(effect['p_exceeds_cid']), 2)}"
            )
