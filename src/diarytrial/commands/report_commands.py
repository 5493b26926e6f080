"""`diarytrial report DIR --out report.html [--pdf]`: the results report of a trial dataset."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from diarytrial.commands.problems import (
    add_allow_modified,
    read_files,
    report_dataset_error,
    report_message,
    report_write_error,
    warn_if_modified,
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "report",
        help="write the results report of a trial dataset (HTML, optionally PDF)",
        description=(
            "Analyse the trial dataset in DIR and write one self-contained HTML results report "
            "(figures embedded, no network needed to open it). With --pdf, also print it to a "
            "PDF beside the HTML with headless Chromium."
        ),
    )
    parser.add_argument("directory", metavar="DIR", type=Path, help="trial dataset folder")
    parser.add_argument(
        "--out", required=True, type=Path, metavar="FILE", help="HTML file to write"
    )
    parser.add_argument(
        "--pdf", action="store_true", help="also write FILE.pdf (needs /usr/bin/chromium)"
    )
    add_allow_modified(parser)
    parser.set_defaults(handler=report)


def report(args: argparse.Namespace) -> int:
    """Read, analyse, render and write; a bad dataset or a failed PDF exits 2 with the reason."""
    # Imported here so that `diarytrial --help` does not load pandas and SciPy.
    from diarytrial.analysis.results import analyze_trial
    from diarytrial.dataset import DatasetError, read_dataset
    from diarytrial.report import PdfError, print_pdf, write_report

    began = time.perf_counter()
    try:
        dataset = read_dataset(args.directory, allow_modified=args.allow_modified)
    except DatasetError as error:
        return report_dataset_error(error)
    try:
        results = analyze_trial(dataset)
    except ValueError as error:
        return report_message(f"{args.directory}: the analysis cannot run: {error}")
    files = read_files(dataset)
    try:
        written = write_report(
            dataset,
            results,
            args.out,
            dataset_hash=files.sha256,
            modified_files=files.modified,
        )
    except OSError as error:
        return report_write_error(args.out, error)
    console = Console(highlight=False, soft_wrap=True)
    warn_if_modified(files, console)
    size = written.stat().st_size / 1024
    console.print(
        f"wrote the report to {written} ({size:.0f} KB, {time.perf_counter() - began:.1f} s)",
        markup=False,
    )
    if args.pdf:
        try:
            pdf = print_pdf(written, written.with_suffix(".pdf"))
        except PdfError as error:
            return report_message(str(error))
        except OSError as error:
            return report_write_error(written.with_suffix(".pdf"), error)
        console.print(f"wrote the PDF to {pdf}", markup=False)
    return 0
