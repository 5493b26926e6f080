"""`diarytrial convert DIR --to FORMAT --out PATH`: the trial dataset in another program's format.

The formats and their writers are listed once, in `diarytrial.interop.formats` (the
statistician's export page offers the same list): each writes its files into the folder PATH.
"""

from __future__ import annotations

import argparse
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
from diarytrial.dataset import DatasetError, read_dataset
from diarytrial.interop.formats import FORMATS
from diarytrial.interop.formats import convert as convert_to


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "convert", help="write a trial dataset in another program's format"
    )
    parser.add_argument("directory", metavar="DIR", type=Path, help="trial dataset folder")
    parser.add_argument(
        "--to",
        dest="format",
        required=True,
        choices=tuple(FORMATS),
        help="; ".join(f"{fmt.key}: {fmt.name}, {fmt.holds}" for fmt in FORMATS.values()),
    )
    parser.add_argument(
        "--out", metavar="PATH", type=Path, required=True, help="the folder to write to"
    )
    add_allow_modified(parser)
    parser.set_defaults(handler=convert)


def convert(args: argparse.Namespace) -> int:
    """Read DIR and write it as FORMAT files in PATH."""
    if args.out.exists() and not args.out.is_dir():
        return report_message(f"{args.out}: exists and is not a folder; name a folder to write to")
    try:
        dataset = read_dataset(args.directory, allow_modified=args.allow_modified)
    except DatasetError as error:
        return report_dataset_error(error)
    fmt = FORMATS[args.format]
    try:
        written = convert_to(dataset, fmt.key, args.out)
    except OSError as error:
        return report_write_error(args.out, error, what="folder")
    except ValueError as error:
        return report_message(f"{args.directory}: cannot be written as {fmt.key}: {error}")
    console = Console(highlight=False, soft_wrap=True)
    warn_if_modified(read_files(dataset), console)
    console.print(f"{fmt.name} files of the dataset {args.directory}:", markup=False)
    for path in written:
        console.print(f"  {path}", markup=False)
    return 0
