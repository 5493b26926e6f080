"""Read a protocol file and report every problem with its file, field and line."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from diarytrial.protocol.rules import check_protocol
from diarytrial.protocol.schema import Protocol
from diarytrial.textfile import TextFileError, read_small_text

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a protocol file."""

    field: str
    line: int | None
    message: str

    def describe(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line else source
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ProtocolError(ValueError):
    """A protocol file that cannot be used, with every problem found in it."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = [p.describe(source) for p in problems]
        super().__init__("\n".join([f"{source}: the protocol has {_count(problems)}:", *lines]))


def _count(problems: list[Problem]) -> str:
    return "1 problem" if len(problems) == 1 else f"{len(problems)} problems"


@dataclass(frozen=True)
class ProtocolFile:
    """A validated protocol with the exact text it was read from."""

    protocol: Protocol
    text: str
    source: str

    @property
    def sha256(self) -> str:
        return protocol_sha256(self.text)


def protocol_sha256(text: str) -> str:
    """Hex SHA-256 of the protocol text as UTF-8; identifies a protocol version."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_protocol(path: str | Path) -> ProtocolFile:
    """Read and validate the protocol file at `path`.

    Raises ProtocolError naming the file, the field, the line and what to fix.
    """
    path = Path(path)
    try:
        text = read_small_text(path, what="protocol file")
    except TextFileError as error:
        raise ProtocolError(str(path), [Problem("", None, str(error))]) from None
    return parse_protocol(text, source=str(path))


def parse_protocol(text: str, *, source: str = "<protocol>") -> ProtocolFile:
    """Validate protocol `text`; `source` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ProtocolError(
            source,
            [
                Problem(
                    "",
                    None,
                    "not a protocol: its arrays or tables are nested thousands of levels deep; "
                    "a protocol nests a few levels (see docs/protocol.md)",
                )
            ],
        ) from None
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        if "(at end of document)" in message:
            line = text.count("\n") + (0 if text.endswith("\n") else 1)
            message = message.replace(" (at end of document)", "") + (
                " at the end of the file (was it cut short?)"
            )
        raise ProtocolError(
            source, [Problem("", line, f"not valid TOML: {message}; see https://toml.io")]
        ) from None
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as error:
        raise ProtocolError(source, _pydantic_problems(error, text)) from None
    problems = [
        Problem(_dotted(path), _locate(text, path), message)
        for path, message in check_protocol(protocol)
    ]
    if problems:
        raise ProtocolError(source, problems)
    return ProtocolFile(protocol=protocol, text=text, source=source)


def _pydantic_problems(error: ValidationError, text: str) -> list[Problem]:
    problems: list[Problem] = []
    for detail in error.errors(include_url=False):
        path = tuple(p for p in detail["loc"] if isinstance(p, int) or not _is_type_tag(p))
        kind = detail["type"]
        if kind == "extra_forbidden":
            message = "unknown field; check its spelling against docs/protocol.md"
        elif kind == "missing":
            message = "this field is required; add it"
        else:
            message = detail["msg"].removeprefix("Value error, ")
            if "input" in detail and kind not in {"model_type", "dict_type", "list_type"}:
                message = f"{message} (found {detail['input']!r})"
        problems.append(Problem(_dotted(path), _locate(text, path), message))
    return problems


def _is_type_tag(part: str) -> bool:
    """Pydantic adds the union member's type to a location, e.g. 'int' or 'dict[str,int]'."""
    return part in {"int", "float", "str", "bool"} or "[" in part or "function-" in part


def _dotted(path: FieldPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


_ARRAY_TABLE = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
_TABLE = re.compile(r"^\s*\[\s*([^\]\[]+?)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def _locate(text: str, path: FieldPath) -> int | None:
    """Best-effort line of `path` in TOML `text`: the field, else its nearest parent."""
    lines: dict[FieldPath, int] = {}
    counts: dict[FieldPath, int] = {}
    current: FieldPath = ()
    for number, line in enumerate(text.splitlines(), start=1):
        if match := _ARRAY_TABLE.match(line):
            table = _key_path(match.group(1))
            counts[table] = counts.get(table, -1) + 1
            current = (*table, counts[table])
            lines.setdefault(table, number)
            lines[current] = number
        elif match := _TABLE.match(line):
            current = _key_path(match.group(1))
            lines.setdefault(current, number)
        elif match := _KEY.match(line):
            lines.setdefault((*current, *_key_path(match.group(1))), number)
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _key_path(key: str) -> FieldPath:
    return tuple(part.strip().strip("\"'") for part in key.split("."))
