"""How every command reports a bad protocol or dataset: each problem on its own line, exit 2."""

from __future__ import annotations

import argparse
import os
from pathlib import PurePath

from rich.console import Console

from diarytrial.dataset import DatasetError, DatasetFiles, TrialDataset
from diarytrial.protocol import ProtocolError

EXIT_INVALID = 2
"""Exit code of a command given input it cannot use."""


def _stderr() -> Console:
    # soft_wrap keeps each problem on one line, so it can be grepped and copied whole.
    return Console(stderr=True, highlight=False, soft_wrap=True)


def report_protocol_error(error: ProtocolError) -> int:
    """Print every problem of a protocol file to standard error; return the exit code.

    One problem is one line (``file:line: field: what is wrong``); several follow a heading.
    """
    console = _stderr()
    if len(error.problems) == 1:
        console.print(error.problems[0].describe(error.source), markup=False)
        return EXIT_INVALID
    console.print(f"[bold red]{error.source}[/]: the protocol has problems; fix each of these:")
    for problem in error.problems:
        console.print(f"  {problem.describe(error.source)}", markup=False)
    return EXIT_INVALID


def report_dataset_error(error: DatasetError) -> int:
    """Print every problem of a trial dataset to standard error; return the exit code.

    One problem is one line naming the file by its path (``trial/diary.csv:12: value: ...``);
    several follow a heading naming the folder, each with the file's name in the folder.
    """
    console = _stderr()
    if len(error.issues) == 1:
        issue = error.issues[0]
        if issue.file:
            line = os.path.join(error.source, issue.describe())
        else:
            line = f"{error.source}: {issue.message}"
        console.print(line, markup=False)
        return EXIT_INVALID
    console.print(
        f"[bold red]{error.source}[/]: the trial dataset has problems; fix each of these:"
    )
    for issue in error.issues:
        console.print(f"  {issue.describe() if issue.file else issue.message}", markup=False)
    return EXIT_INVALID


def report_write_error(path: PurePath, error: OSError, *, what: str = "file") -> int:
    """Say that `path` could not be written, why and what to do; return the exit code."""
    reason = error.strerror or str(error)
    # "File exists" or "Not a directory" when a folder on the way is a file: say which.
    blocking = next((p for p in PurePath(path).parents if os.path.isfile(p)), None)
    if blocking is not None:
        reason = f"{blocking} is a file, not a folder"
    return report_message(
        f"{path}: cannot write it ({reason}); name a {what} in a place you may write to"
    )


def report_message(message: str) -> int:
    """Print one plain message to standard error; return the exit code."""
    _stderr().print(message, markup=False)
    return EXIT_INVALID


def add_allow_modified(parser: argparse.ArgumentParser) -> None:
    """The ``--allow-modified`` option of the commands that read a trial dataset."""
    parser.add_argument(
        "--allow-modified",
        action="store_true",
        help=(
            "use the dataset even if files changed after it was written (their hashes no longer "
            "match datapackage.json); the results then say that the data were modified"
        ),
    )


def read_files(dataset: TrialDataset) -> DatasetFiles:
    """The files `dataset` was read from (``read_dataset`` always records them)."""
    if dataset.files is None:
        raise RuntimeError("read_dataset returned a dataset without its files")
    return dataset.files


def warn_if_modified(files: DatasetFiles, console: Console) -> None:
    """Say, after the results, that the data were modified after export (--allow-modified)."""
    if not files.modified:
        return
    console.print(
        f"[bold yellow]Modified data[/]: {', '.join(files.modified)} changed after the dataset "
        f"was written, so these results are not those of the data as exported; dataset sha256 "
        f"{files.sha256} covers the files as analysed."
    )
