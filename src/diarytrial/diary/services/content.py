"""What one diary entry says, shared by the participant's uploads and the staff's corrections:
`DiaryContent` (answers, side effects, capsule taken), its check against the protocol's items
and checklist, the entry's answer and side-effect rows, and the changes between two contents as
the audit trail records them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from diarytrial.diary.errors import DiaryAnswersInvalidError
from diarytrial.diary.models import DiaryAnswer, DiaryEntry, SideEffectReport, Unpleasantness
from diarytrial.protocol import Protocol


@dataclass(frozen=True)
class DiaryContent:
    """What one upload says, checked against the protocol and in a canonical form."""

    answers: dict[str, float]
    side_effects: dict[str, str]
    capsule_taken: bool | None

    def as_json(self) -> dict[str, Any]:
        return {
            "answers": dict(sorted(self.answers.items())),
            "side_effects": dict(sorted(self.side_effects.items())),
            "capsule_taken": self.capsule_taken,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DiaryContent:
        return cls(
            answers={str(k): float(v) for k, v in data["answers"].items()},
            side_effects={str(k): str(v) for k, v in data["side_effects"].items()},
            capsule_taken=data["capsule_taken"],
        )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float: off every scale
        return None
    return number if math.isfinite(number) else None


def _answers_check(
    protocol: Protocol, answers: Mapping[str, object], *, partial: bool = False
) -> dict[str, float]:
    """`answers` as floats; DiaryAnswersInvalidError naming every problem."""
    items = {item.id: item for item in protocol.diary.items}
    problems: list[str] = []
    unknown = sorted(set(answers) - set(items))
    if unknown:
        problems.append(
            f"the diary asks no item {', '.join(unknown)} (its items are {', '.join(items)})"
        )
    missing = [i.id for i in protocol.diary.items if i.required and i.id not in answers]
    if missing and not partial:
        problems.append(f"answer every required item; missing: {', '.join(missing)}")
    clean: dict[str, float] = {}
    for item_id, raw in answers.items():
        item = items.get(item_id)
        if item is None:
            continue
        value = _number(raw)
        if value is None or not item.lowest <= value <= item.highest:
            problems.append(
                f"{item_id} must be a number from {item.lowest} to {item.highest} (got {raw!r})"
            )
            continue
        clean[item_id] = value
    if problems:
        raise DiaryAnswersInvalidError(
            "The diary answers cannot be used: " + "; ".join(problems) + ".",
            extra={"problems": problems},
        )
    return clean


def _side_effects_check(protocol: Protocol, side_effects: Mapping[str, object]) -> dict[str, str]:
    listed = [effect.id for effect in protocol.diary.side_effects]
    problems: list[str] = []
    unknown = sorted(set(side_effects) - set(listed))
    if unknown:
        problems.append(
            f"the checklist has no side effect {', '.join(unknown)} "
            f"(it lists {', '.join(listed) or 'none'})"
        )
    clean: dict[str, str] = {}
    for effect_id, raw in side_effects.items():
        if effect_id not in listed:
            continue
        if raw not in Unpleasantness.values:
            problems.append(
                f"how unpleasant {effect_id} was must be one of "
                f"{', '.join(Unpleasantness.values)} (got {raw!r})"
            )
            continue
        clean[effect_id] = str(raw)
    if problems:
        raise DiaryAnswersInvalidError(
            "The side effects cannot be used: " + "; ".join(problems) + ".",
            extra={"problems": problems},
        )
    return clean


def diary_content_check(
    protocol: Protocol,
    answers: Mapping[str, object],
    side_effects: Mapping[str, object],
    capsule_taken: bool | None,
) -> DiaryContent:
    """An upload's content checked against the protocol (DiaryAnswersInvalidError else)."""
    return DiaryContent(
        answers=_answers_check(protocol, answers),
        side_effects=_side_effects_check(protocol, side_effects),
        capsule_taken=None if capsule_taken is None else bool(capsule_taken),
    )


def _stored_content(entry: DiaryEntry) -> DiaryContent:
    return DiaryContent(
        answers=dict(entry.answers.values_list("item", "value")),
        side_effects=dict(entry.side_effects.values_list("side_effect", "unpleasantness")),
        capsule_taken=entry.capsule_taken,
    )


def _content_changes(old: DiaryContent, new: DiaryContent) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for item in sorted(set(old.answers) | set(new.answers)):
        before, after = old.answers.get(item), new.answers.get(item)
        if before != after:
            changes[f"answers.{item}"] = (before, after)
    for effect in sorted(set(old.side_effects) | set(new.side_effects)):
        before_s, after_s = old.side_effects.get(effect), new.side_effects.get(effect)
        if before_s != after_s:
            changes[f"side_effects.{effect}"] = (before_s, after_s)
    if old.capsule_taken != new.capsule_taken:
        changes["capsule_taken"] = (old.capsule_taken, new.capsule_taken)
    return changes


def _content_write(entry: DiaryEntry, old: DiaryContent | None, new: DiaryContent) -> None:
    """Make the entry's answer and side-effect rows say `new` (rows absent from it go)."""
    old_answers = old.answers if old else {}
    old_effects = old.side_effects if old else {}
    gone = set(old_answers) - set(new.answers)
    if gone:
        DiaryAnswer.objects.filter(entry=entry, item__in=gone).delete()
    DiaryAnswer.objects.bulk_create(
        DiaryAnswer(entry=entry, item=item, value=value)
        for item, value in new.answers.items()
        if item not in old_answers
    )
    for item, value in new.answers.items():
        if item in old_answers and old_answers[item] != value:
            DiaryAnswer.objects.filter(entry=entry, item=item).update(value=value)
    gone = set(old_effects) - set(new.side_effects)
    if gone:
        SideEffectReport.objects.filter(entry=entry, side_effect__in=gone).delete()
    SideEffectReport.objects.bulk_create(
        SideEffectReport(entry=entry, side_effect=effect, unpleasantness=level)
        for effect, level in new.side_effects.items()
        if effect not in old_effects
    )
    for effect, level in new.side_effects.items():
        if effect in old_effects and old_effects[effect] != level:
            SideEffectReport.objects.filter(entry=entry, side_effect=effect).update(
                unpleasantness=level
            )
