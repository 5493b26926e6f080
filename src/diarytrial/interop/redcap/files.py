"""Reading the REDCap files: their text, and their CSV rows with the line each starts on."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from diarytrial.interop.redcap.problems import ProblemList, RedcapError
from diarytrial.textfile import TextFileError, decode_utf8


def read_text(path: Path, what: str) -> str:
    """The text of the file at `path` (`what` names it in messages); RedcapError if none."""
    source = str(path)
    try:
        if path.is_dir():
            raise RedcapError.in_file(source, "a folder, not a file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise RedcapError.in_file(source, "no such file") from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise RedcapError.in_file(source, f"cannot read it ({reason})") from None
    try:
        text = decode_utf8(data, what=what)  # a byte-order mark, as REDCap writes, is dropped
    except TextFileError as error:
        raise RedcapError.in_file(source, str(error)) from None
    if not text.strip():
        raise RedcapError.in_file(source, f"the file is empty; export the {what} again")
    return text


def csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """Each CSV row with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return rows
        rows.append((line, row))


def body_rows(
    rows: list[tuple[int, list[str]]], source: str, problems: ProblemList
) -> Iterator[tuple[int, list[str]]]:
    """The rows below the header (`rows[0]`) that hold something and have the header's
    length; a row of another length is a problem."""
    width = len(rows[0][1])
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            problems.add(source, line, f"{len(row)} cells where the header has {width}")
            continue
        yield line, row
