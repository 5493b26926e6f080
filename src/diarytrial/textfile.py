"""Reading the small UTF-8 text files a person hands to diarytrial, with errors in plain words.

Protocol files and ``datapackage.json`` are a few kilobytes of UTF-8 text. Anything else (a
folder, a file that cannot be opened, another encoding, gigabytes) is refused with one sentence
that says what was found and what to do; the callers add the file's name. Pure: no Django.
"""

from __future__ import annotations

import codecs
from pathlib import Path

NEWLINE = b"\n"
SMALL_FILE_LIMIT = 4 * 1024 * 1024
"""Largest protocol or descriptor read (4 MiB); real ones are a few kilobytes."""


class TextFileError(ValueError):
    """A text file that cannot be read; the message says why and what to do, without the name."""


def read_small_text(path: Path, *, what: str, limit: int = SMALL_FILE_LIMIT) -> str:
    """The text of the UTF-8 file at `path`; `what` names its kind in messages ("protocol file").

    Raises TextFileError for a missing file, a folder, a file that cannot be read, a file larger
    than `limit` bytes, and text that is not UTF-8 (naming the encoding it looks like).
    """
    try:
        if path.is_dir():
            raise TextFileError(f"this is a folder, not a {what}; name the file itself")
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise TextFileError("no such file; check the name and the folder") from None
    except OSError as error:
        raise TextFileError(
            f"cannot read it ({error.strerror or error}); {_access_hint(error)}"
        ) from None
    if len(data) > limit:
        raise TextFileError(
            f"the file is larger than {limit // (1024 * 1024)} MiB, far more than any {what}; "
            "check that this is the right file"
        )
    return decode_utf8(data, what=what)


def _access_hint(error: OSError) -> str:
    if isinstance(error, PermissionError):
        return "give the user running diarytrial permission to read it"
    return "check that the file is a regular file you can open"


def decode_utf8(data: bytes, *, what: str) -> str:
    """`data` as UTF-8 text (a leading byte-order mark is dropped); TextFileError otherwise."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TextFileError(not_utf8_message(data, what=what))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TextFileError(not_utf8_message(data, what=what, at=error.start)) from None


def not_utf8_message(data: bytes, *, what: str, at: int | None = None) -> str:
    """Why `data` is not UTF-8: the encoding it looks like, the line of the first bad byte."""
    where = "" if at is None else f" (line {data.count(NEWLINE, 0, at) + 1})"
    return (
        f"the {what} is not UTF-8 text{where}: it looks like {guess_encoding(data)}. "
        "Save it again as UTF-8 (in a spreadsheet: 'CSV UTF-8'; in a text editor: "
        "encoding UTF-8)"
    )


def guess_encoding(data: bytes) -> str:
    """A plain name for the encoding `data` seems to be in, for messages only."""
    head = data[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        head and head.count(0) >= len(head) // 4
    ):
        return "UTF-16 (two bytes per character)"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "binary data or an unknown encoding"
    return "Latin-1 / Windows-1252"
