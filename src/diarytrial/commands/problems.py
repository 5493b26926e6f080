"""How every command reports a bad protocol or dataset: each problem on its own line, exit 2."""

from __future__ import annotations

from rich.console import Console

from diarytrial.dataset import DatasetError
from diarytrial.protocol import ProtocolError

EXIT_INVALID = 2
"""Exit code of a command given input it cannot use."""


def _stderr() -> Console:
    # soft_wrap keeps each problem on one line, so it can be grepped and copied whole.
    return Console(stderr=True, highlight=False, soft_wrap=True)


def report_protocol_error(error: ProtocolError) -> int:
    """Print every problem of a protocol file to standard error; return the exit code."""
    console = _stderr()
    console.print(f"[bold red]{error.source}[/]: the protocol has problems; fix each of these:")
    for problem in error.problems:
        console.print(f"  {problem.describe(error.source)}", markup=False)
    return EXIT_INVALID


def report_dataset_error(error: DatasetError) -> int:
    """Print every problem of a trial dataset to standard error; return the exit code."""
    console = _stderr()
    console.print(
        f"[bold red]{error.source}[/]: the trial dataset has problems; fix each of these:"
    )
    for issue in error.issues:
        console.print(f"  {issue.describe() if issue.file else issue.message}", markup=False)
    return EXIT_INVALID


def report_message(message: str) -> int:
    """Print one plain message to standard error; return the exit code."""
    _stderr().print(message, markup=False)
    return EXIT_INVALID
