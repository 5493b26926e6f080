"""Cross-field rules of a protocol, each reported against the field it concerns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from diarytrial.protocol.responder import RuleSyntaxError, parse_rule
from diarytrial.protocol.schema import Protocol

Path = tuple[str | int, ...]


def check_protocol(protocol: Protocol) -> list[tuple[Path, str]]:
    """Every cross-field problem of `protocol`, as (field path, message)."""
    problems = [
        *_check_arms(protocol),
        *_check_dosing(protocol),
        *_check_design(protocol),
        *_check_blinding(protocol),
        *_check_diary(protocol),
        *_check_responder(protocol),
        *_duplicates(("eligibility",), [q.id for q in protocol.eligibility]),
    ]
    if any(path[0] in {"arms", "design"} for path, _ in problems):
        return problems  # the checks below need a schedule, which needs a sound design
    return [*problems, *_check_analysis(protocol), *_check_randomization(protocol)]


def _duplicates(path: Path, ids: Iterable[str]) -> Iterator[tuple[Path, str]]:
    ids = list(ids)
    for item_id, count in Counter(ids).items():
        if count > 1:
            where = (*path, len(ids) - 1 - ids[::-1].index(item_id))
            yield where, f"{item_id!r} is used {count} times; each one must be unique"


def _check_arms(protocol: Protocol) -> Iterator[tuple[Path, str]]:
    yield from _duplicates(("arms",), [arm.id for arm in protocol.arms])
    if not protocol.active_arms:
        yield ("arms",), 'no arm has role = "active"; a placebo-controlled trial needs one'
    if not protocol.placebo_arms:
        yield ("arms",), 'no arm has role = "placebo"; a placebo-controlled trial needs one'
    levels = set(protocol.dosing.levels)
    for k, arm in enumerate(protocol.arms):
        given = set(arm.dose_mg)
        if given != levels:
            missing = ", ".join(sorted(levels - given)) or "none"
            extra = ", ".join(sorted(given - levels)) or "none"
            yield (
                ("arms", k, "dose_mg"),
                (
                    f"give the content of every dose level in [dosing] levels "
                    f"(missing: {missing}; not a level: {extra})"
                ),
            )
        if arm.role == "placebo" and any(mg != 0 for mg in arm.dose_mg.values()):
            yield ("arms", k, "dose_mg"), "a placebo arm contains 0 mg at every dose level"


def _check_dosing(protocol: Protocol) -> Iterator[tuple[Path, str]]:
    dosing = protocol.dosing
    yield from _duplicates(("dosing", "levels"), dosing.levels)
    known = ", ".join(dosing.levels)
    for field in ("start_level", "reduced_level", "opioid_start_level"):
        value = getattr(dosing, field)
        if value is not None and value not in dosing.levels:
            yield ("dosing", field), f"{value!r} is not one of the dose levels ({known})"
    if (
        dosing.reduced_level in dosing.levels
        and dosing.start_level in dosing.levels
        and dosing.levels.index(dosing.reduced_level) >= dosing.levels.index(dosing.start_level)
    ):
        yield (
            ("dosing", "reduced_level"),
            (
                "the reduced level must come before the start level in [dosing] levels "
                "(levels are listed lowest first)"
            ),
        )


def _check_design(protocol: Protocol) -> Iterator[tuple[Path, str]]:
    design = protocol.design
    arm_ids = [arm.id for arm in protocol.arms]
    if design.kind == "crossover":
        if design.blocks is not None or design.block_order is not None:
            yield (
                ("design", "blocks"),
                ('blocks and block_order belong to kind = "nof1"; a crossover lists its sequences'),
            )
        if not design.sequences:
            yield (
                ("design", "sequences"),
                (
                    'list the sequences of arms, e.g. sequences = [["ldn", "placebo"], '
                    '["placebo", "ldn"]]'
                ),
            )
            return
        lengths = {len(s) for s in design.sequences}
        if len(lengths) > 1:
            yield ("design", "sequences"), "every sequence must have the same number of periods"
        for k, sequence in enumerate(design.sequences):
            if not sequence:
                yield ("design", "sequences", k), "a sequence needs at least one period"
            for arm in sequence:
                if arm not in arm_ids:
                    yield (
                        ("design", "sequences", k),
                        (f"{arm!r} is not an arm; the arms are {', '.join(arm_ids)}"),
                    )
        if len({tuple(s) for s in design.sequences}) < len(design.sequences):
            yield ("design", "sequences"), "a sequence is listed twice"
        used = {arm for s in design.sequences for arm in s}
        for arm in arm_ids:
            if arm not in used:
                yield ("design", "sequences"), f"the arm {arm!r} is in no sequence"
    else:
        if design.sequences is not None:
            yield (
                ("design", "sequences"),
                (
                    "an n-of-1 design derives its sequences from blocks and block_order; "
                    "remove sequences"
                ),
            )
        if design.blocks is None:
            yield ("design", "blocks"), "say how many blocks of two periods, e.g. blocks = 3"
        if design.block_order is None:
            yield (
                ("design", "block_order"),
                ('choose block_order = "randomized_pairs", "ABAB" or "ABBA"'),
            )
        if len(protocol.arms) != 2:
            yield ("arms",), "an n-of-1 design compares exactly two arms"
    yield from _check_treatment_days(protocol)


def _check_blinding(protocol: Protocol) -> Iterator[tuple[Path, str]]:
    if protocol.blinding.washout_capsules and protocol.design.washout_days == 0:
        yield (
            ("blinding", "washout"),
            "placebo capsules for the washout, but the design has no washout (washout_days = 0)",
        )


def _check_treatment_days(protocol: Protocol) -> Iterator[tuple[Path, str]]:
    days = protocol.design.treatment_days
    path: Path = ("design", "treatment_days")
    arm_ids = [arm.id for arm in protocol.arms]
    if isinstance(days, dict):
        for arm in arm_ids:
            if arm not in days:
                yield path, f"give the days of the {arm!r} arm"
        for arm in days:
            if arm not in arm_ids:
                yield path, f"{arm!r} is not an arm; the arms are {', '.join(arm_ids)}"
    elif isinstance(days, list):
        periods = _period_count(protocol)
        if periods is not None and len(days) != periods:
            yield path, f"give one length per treatment period: {periods} numbers, not {len(days)}"


def _period_count(protocol: Protocol) -> int | None:
    design = protocol.design
    if design.kind == "nof1":
        return 2 * design.blocks if design.blocks else None
    return len(design.sequences[0]) if design.sequences else None


def _check_diary(protocol: Protocol) -> Iterator[tuple[Path, str]]:
    diary = protocol.diary
    yield from _duplicates(("diary", "items"), [item.id for item in diary.items])
    yield from _duplicates(("diary", "side_effects"), [s.id for s in diary.side_effects])
    if diary.opens == diary.closes:
        yield ("diary", "closes"), "the window must close at another time than it opens"


def _check_responder(protocol: Protocol) -> Iterator[tuple[Path, str]]:
    try:
        rule = parse_rule(protocol.responder.rule)
    except RuleSyntaxError as error:
        yield ("responder", "rule"), str(error)
        return
    item_ids = [item.id for item in protocol.diary.items]
    for item in rule.items():
        if item not in item_ids:
            yield (
                ("responder", "rule"),
                (f"{item!r} is not a diary item; the items are {', '.join(item_ids)}"),
            )


def _check_analysis(protocol: Protocol) -> Iterator[tuple[Path, str]]:
    analysis = protocol.analysis
    design = protocol.design
    if design.baseline_days == 0:
        yield (
            ("design", "baseline_days"),
            ("improvement is measured from baseline: give at least one baseline day"),
        )
    if _period_count(protocol) is None:
        return
    shortest = min(
        phase.days
        for sequence in protocol.sequences
        for phase in protocol.phase_templates(sequence)
        if phase.kind == "treatment"
    )
    if analysis.window == "last_days":
        if analysis.last_days is None:
            yield ("analysis", "last_days"), 'window = "last_days" needs last_days = <number>'
        elif analysis.last_days > shortest:
            yield (
                ("analysis", "last_days"),
                (
                    f"{analysis.last_days} days is longer than the shortest treatment period "
                    f"({shortest} days)"
                ),
            )
    elif analysis.last_days is not None:
        yield ("analysis", "last_days"), 'last_days applies only with window = "last_days"'
    if analysis.improvement_endpoint == "final_days" and analysis.final_days > shortest:
        yield (
            ("analysis", "final_days"),
            (
                f"{analysis.final_days} days is longer than the shortest treatment period "
                f"({shortest} days)"
            ),
        )


def _check_randomization(protocol: Protocol) -> Iterator[tuple[Path, str]]:
    sizes = protocol.randomization.block_sizes
    if sizes is None or _period_count(protocol) is None:
        return
    n = len(protocol.sequences)
    for k, size in enumerate(sizes):
        if size % n:
            yield (
                ("randomization", "block_sizes", k),
                (
                    f"a block of {size} cannot hold each of the {n} sequences equally often; "
                    f"use a multiple of {n}"
                ),
            )
    if len(set(sizes)) < len(sizes):
        yield ("randomization", "block_sizes"), "a block size is listed twice"
    strata = protocol.randomization.strata
    if len(set(strata)) < len(strata):
        yield ("randomization", "strata"), "a stratum is listed twice"
