"""`diarytrial import redcap|odm ...`: another system's export as a trial dataset folder.

``odm``: a CDISC ODM 1.3.2 file that ``diarytrial convert --to odm`` wrote
(`diarytrial.interop.odm`), back as the trial dataset it came from (the same SHA-256).
``redcap``: REDCap's data dictionary and records export (raw or labels; repeating instruments
or longitudinal events), read through a mapping file (`diarytrial.interop.redcap`), written
as a trial dataset that ``diarytrial analyze`` and ``diarytrial report`` read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from diarytrial.commands.problems import (
    EXIT_INVALID,
    report_dataset_error,
    report_message,
    report_protocol_error,
    report_write_error,
)
from diarytrial.dataset import DatasetError, TrialDataset, read_dataset, write_dataset
from diarytrial.interop.odm import OdmReadError, read_odm
from diarytrial.interop.redcap import MAX_PROBLEMS, RedcapError, import_redcap
from diarytrial.protocol import ProtocolError, load_protocol


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "import", help="make a trial dataset from another system's export"
    )
    sources = parser.add_subparsers(dest="source", metavar="SOURCE", required=True)
    redcap = sources.add_parser(
        "redcap",
        help="REDCap: the data dictionary and the records export, read through a mapping file",
        description=(
            "Read a REDCap project's data dictionary and records export (raw or labels, "
            "repeating instruments or longitudinal events) through a mapping file, and write "
            "the trial dataset folder DIR. See examples/redcap/mapping.toml."
        ),
    )
    redcap.add_argument(
        "--dictionary", metavar="DICT.csv", type=Path, required=True, help="the data dictionary"
    )
    redcap.add_argument(
        "--records",
        metavar="RECORDS.csv",
        type=Path,
        required=True,
        help="the records export (CSV, raw or labels)",
    )
    redcap.add_argument(
        "--mapping",
        metavar="MAPPING.toml",
        type=Path,
        required=True,
        help="which REDCap field holds what",
    )
    redcap.add_argument(
        "--protocol",
        metavar="PROTOCOL.toml",
        type=Path,
        required=True,
        help="the protocol the trial ran under",
    )
    redcap.add_argument(
        "--out", metavar="DIR", type=Path, required=True, help="the dataset folder to write"
    )
    redcap.set_defaults(handler=import_redcap_command)
    odm = sources.add_parser(
        "odm",
        help="CDISC ODM 1.3.2: a file that diarytrial convert --to odm wrote",
        description=(
            "Read a CDISC ODM 1.3.2 file written by diarytrial convert --to odm and write the "
            "trial dataset folder DIR it came from (the same dataset SHA-256)."
        ),
    )
    odm.add_argument("file", metavar="FILE", type=Path, help="the ODM XML file")
    odm.add_argument(
        "--out", metavar="DIR", type=Path, required=True, help="the dataset folder to write"
    )
    odm.set_defaults(handler=import_odm_command)


def import_redcap_command(args: argparse.Namespace) -> int:
    """Read the REDCap files through the mapping and write the dataset folder."""
    out: Path = args.out
    if out.exists() and not out.is_dir():
        return report_message(f"{out}: exists and is not a folder; name a folder to write to")
    try:
        protocol = load_protocol(args.protocol)
    except ProtocolError as error:
        return report_protocol_error(error)
    try:
        dataset, records = import_redcap(args.dictionary, args.records, args.mapping, protocol)
    except RedcapError as error:
        return _report_redcap_error(error)
    return _write(
        dataset, out, f"REDCap {records.export} export ({records.design}) of {args.records}"
    )


def import_odm_command(args: argparse.Namespace) -> int:
    """Read the ODM file and write the dataset folder it holds."""
    out: Path = args.out
    if out.exists() and not out.is_dir():
        return report_message(f"{out}: exists and is not a folder; name a folder to write to")
    try:
        dataset = read_odm(args.file)
    except OdmReadError as error:
        return report_message(str(error))
    except ProtocolError as error:
        return report_protocol_error(error)
    except DatasetError as error:
        return report_dataset_error(error)
    return _write(dataset, out, f"CDISC ODM 1.3.2 file {args.file}")


def _write(dataset: TrialDataset, out: Path, source: str) -> int:
    """Write `dataset` to `out`, read it back through every check, and say what was written."""
    try:
        write_dataset(dataset, out)
    except OSError as error:
        return report_write_error(out, error, what="folder")
    try:
        written = read_dataset(out)
    except DatasetError as error:  # the reader's own checks should have caught it
        return report_dataset_error(error)
    console = Console(highlight=False, soft_wrap=True)
    nights = dataset.diary[["participant_id", "diary_date"]].drop_duplicates().shape[0]
    console.print(
        f"{source}: {len(dataset.participants)} participants, {nights} diary nights, "
        f"{len(dataset.adverse_events)} adverse events.",
        markup=False,
    )
    sha256 = written.files.sha256 if written.files is not None else ""
    console.print(f"Trial dataset: {out} (sha256 {sha256})", markup=False)
    return 0


def _report_redcap_error(error: RedcapError) -> int:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    problems = error.problems
    if len(problems) == 1:
        console.print(problems[0].describe(), markup=False)
        return EXIT_INVALID
    console.print("[bold red]The REDCap files cannot be imported[/]; fix each of these:")
    for problem in problems[:MAX_PROBLEMS]:
        console.print(f"  {problem.describe()}", markup=False)
    if len(problems) > MAX_PROBLEMS:
        console.print(f"  ... and {len(problems) - MAX_PROBLEMS} more", markup=False)
    return EXIT_INVALID
