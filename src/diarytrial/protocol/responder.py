"""The responder rule: a small boolean language over percent improvements.

Grammar (``and`` binds tighter than ``or``)::

    rule       := conjunction ("or" conjunction)*
    conjunction:= atom ("and" atom)*
    atom       := ITEM ">=" NUMBER | "(" rule ")"

``pain >= 30`` means "pain improved by at least 30% from baseline", with improvement signed so
that positive is better whatever the item's direction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<op>>=|<=|==|>|<|=)|(?P<paren>[()])|(?P<word>[a-z][a-z0-9_]*))"
)


class RuleSyntaxError(ValueError):
    """The rule text cannot be read."""


@dataclass(frozen=True)
class Threshold:
    """Improvement of `item` is at least `percent`."""

    item: str
    percent: float

    def holds(self, improvement: Mapping[str, float]) -> bool:
        value = improvement[self.item]
        return value == value and value >= self.percent  # NaN never holds

    def items(self) -> tuple[str, ...]:
        return (self.item,)

    def describe(self) -> str:
        return f"at least {self.percent:g}% better {self.item}"


@dataclass(frozen=True)
class AllOf:
    """Every part holds."""

    parts: tuple[Rule, ...]

    def holds(self, improvement: Mapping[str, float]) -> bool:
        return all(part.holds(improvement) for part in self.parts)

    def items(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i for part in self.parts for i in part.items()))

    def describe(self) -> str:
        return " and ".join(_wrap(part) for part in self.parts)


@dataclass(frozen=True)
class AnyOf:
    """At least one part holds."""

    parts: tuple[Rule, ...]

    def holds(self, improvement: Mapping[str, float]) -> bool:
        return any(part.holds(improvement) for part in self.parts)

    def items(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i for part in self.parts for i in part.items()))

    def describe(self) -> str:
        return " or ".join(_wrap(part) for part in self.parts)


Rule = Threshold | AllOf | AnyOf


def _wrap(rule: Rule) -> str:
    return f"({rule.describe()})" if isinstance(rule, AnyOf) else rule.describe()


def parse_rule(text: str) -> Rule:
    """Parse a responder rule.

    >>> parse_rule("pain >= 30 and (fatigue >= 30 or sleep >= 30)").describe()
    'at least 30% better pain and (at least 30% better fatigue or at least 30% better sleep)'
    """
    tokens = _tokenize(text)
    rule, rest = _parse_or(tokens, text)
    if rest:
        raise RuleSyntaxError(f"unexpected {rest[0]!r} in {text!r}")
    return rule


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise RuleSyntaxError(
                f"cannot read {text[pos:].strip()!r}; write conditions like "
                "'pain >= 30', joined with 'and', 'or' and brackets"
            )
        tokens.append(match.group().strip())
        pos = match.end()
    if not tokens:
        raise RuleSyntaxError("the rule is empty; write e.g. 'pain >= 30'")
    return tokens


def _parse_or(tokens: list[str], text: str) -> tuple[Rule, list[str]]:
    part, rest = _parse_and(tokens, text)
    parts = [part]
    while rest and rest[0] == "or":
        part, rest = _parse_and(rest[1:], text)
        parts.append(part)
    return (parts[0] if len(parts) == 1 else AnyOf(tuple(parts))), rest


def _parse_and(tokens: list[str], text: str) -> tuple[Rule, list[str]]:
    part, rest = _parse_atom(tokens, text)
    parts = [part]
    while rest and rest[0] == "and":
        part, rest = _parse_atom(rest[1:], text)
        parts.append(part)
    return (parts[0] if len(parts) == 1 else AllOf(tuple(parts))), rest


def _parse_atom(tokens: list[str], text: str) -> tuple[Rule, list[str]]:
    if not tokens:
        raise RuleSyntaxError(f"{text!r} ends too early; a condition is missing")
    head = tokens[0]
    if head == "(":
        rule, rest = _parse_or(tokens[1:], text)
        if not rest or rest[0] != ")":
            raise RuleSyntaxError(f"a bracket is not closed in {text!r}")
        return rule, rest[1:]
    if head in {"and", "or", ")", ">="} or not re.fullmatch(r"[a-z][a-z0-9_]*", head):
        raise RuleSyntaxError(f"expected an item id where {head!r} stands in {text!r}")
    if len(tokens) < 3 or tokens[1] != ">=" or not re.fullmatch(r"\d+(\.\d+)?", tokens[2]):
        raise RuleSyntaxError(f"write '{head} >= <percent>' in {text!r}")
    return Threshold(head, float(tokens[2])), tokens[3:]
