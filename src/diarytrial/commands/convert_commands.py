"""`diarytrial convert DIR --to FORMAT --out PATH`: the trial dataset in another program's format.

FORMAT ``xpt``, ``sav`` or ``dta``: the analysis-ready tables as SAS transport (v5), SPSS and
Stata files with their labels, one file per table in the folder PATH
(`diarytrial.interop.statfiles`). ``fhir``: the diary as a FHIR Questionnaire and a Bundle of
QuestionnaireResponses per participant, JSON files in PATH (`diarytrial.interop.fhir`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import cast

import pyreadstat
from rich.console import Console

from diarytrial.commands.problems import (
    add_allow_modified,
    read_files,
    report_dataset_error,
    report_message,
    report_write_error,
    warn_if_modified,
)
from diarytrial.dataset import DatasetError, read_dataset
from diarytrial.interop.fhir import write_fhir
from diarytrial.interop.statfiles import STAT_FORMATS, StatFormat, write_stat_files

FORMAT_NAMES: dict[str, str] = {
    "xpt": "SAS transport (XPT version 5)",
    "sav": "SPSS",
    "dta": "Stata (version 15)",
    "fhir": "FHIR R4 (JSON)",
}
FORMATS = (*STAT_FORMATS, "fhir")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "convert", help="write a trial dataset in another program's format"
    )
    parser.add_argument("directory", metavar="DIR", type=Path, help="trial dataset folder")
    parser.add_argument(
        "--to",
        dest="format",
        required=True,
        choices=FORMATS,
        help="xpt (SAS transport v5), sav (SPSS) or dta (Stata): a file per table; "
        "fhir: a Questionnaire and a Bundle per participant",
    )
    parser.add_argument(
        "--out", metavar="PATH", type=Path, required=True, help="the folder to write to"
    )
    add_allow_modified(parser)
    parser.set_defaults(handler=convert)


def convert(args: argparse.Namespace) -> int:
    """Read DIR and write its tables as FORMAT files in PATH."""
    if args.out.exists() and not args.out.is_dir():
        return report_message(f"{args.out}: exists and is not a folder; name a folder to write to")
    try:
        dataset = read_dataset(args.directory, allow_modified=args.allow_modified)
    except DatasetError as error:
        return report_dataset_error(error)
    fmt: str = args.format
    try:
        if fmt == "fhir":
            written = write_fhir(dataset, args.out)
        else:
            written = write_stat_files(dataset, args.out, cast(StatFormat, fmt))
    except OSError as error:
        return report_write_error(args.out, error, what="folder")
    except (ValueError, pyreadstat.ReadstatError) as error:
        return report_message(f"{args.directory}: cannot be written as {fmt}: {error}")
    console = Console(highlight=False, soft_wrap=True)
    warn_if_modified(read_files(dataset), console)
    console.print(f"{FORMAT_NAMES[fmt]} files of the dataset {args.directory}:", markup=False)
    for path in written:
        console.print(f"  {path}", markup=False)
    return 0
