"""What is wrong with the REDCap files or the mapping: `RedcapProblem`, `RedcapError`."""

from __future__ import annotations

from dataclasses import dataclass

MAX_PROBLEMS = 50
"""Problems reported at most; the rest are counted."""


@dataclass(frozen=True)
class RedcapProblem:
    """One thing wrong: the file, its line (the header is line 1), the record, the field."""

    file: str
    line: int | None
    message: str
    record: str | None = None
    field: str | None = None

    def describe(self) -> str:
        parts = [f"{self.file}:{self.line}" if self.line else self.file]
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.field:
            parts.append(self.field)
        return ": ".join([*parts, self.message])


class RedcapError(ValueError):
    """REDCap files or a mapping that cannot be imported, with every problem found."""

    def __init__(self, problems: list[RedcapProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.describe() for p in problems))

    @classmethod
    def in_file(cls, file: str, message: str, *, line: int | None = None) -> RedcapError:
        """The error of one problem with a whole file (or one of its lines)."""
        return cls([RedcapProblem(file, line, message)])


class ProblemList:
    """Collects problems; `check` raises them all at a point where going on makes no sense."""

    def __init__(self) -> None:
        self.found: list[RedcapProblem] = []

    def add(
        self,
        file: str,
        line: int | None,
        message: str,
        *,
        record: str | None = None,
        field: str | None = None,
    ) -> None:
        self.found.append(RedcapProblem(file, line, message, record, field))

    def check(self) -> None:
        if self.found:
            raise RedcapError(self.found)
