"""`diarytrial protocol check FILE`: validate a protocol and print its schedule."""

from __future__ import annotations

import argparse
import datetime as dt

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from diarytrial.commands.problems import report_protocol_error
from diarytrial.protocol import (
    PGIC_LABELS,
    ProtocolError,
    load_protocol,
    make_schedule,
    parse_rule,
)
from diarytrial.protocol.schema import Protocol
from diarytrial.protocol.visits import WASHOUT, kit_arm, visit_calendar


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("protocol", help="check a protocol file")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate FILE and print its schedule")
    check.add_argument("file", metavar="FILE", help="protocol file (TOML)")
    check.set_defaults(handler=protocol_check)


def protocol_check(args: argparse.Namespace) -> int:
    """Validate the file; print its schedule, or every problem and exit 2."""
    try:
        loaded = load_protocol(args.file)
    except ProtocolError as error:
        return report_protocol_error(error)
    console = Console(highlight=False)
    console.print(f"[bold]{loaded.protocol.study.title}[/]  ({loaded.protocol.study.id})")
    console.print(f"{args.file}: valid, sha256 {loaded.sha256[:16]}")
    describe_protocol(loaded.protocol, console)
    return 0


def describe_protocol(protocol: Protocol, console: Console) -> None:
    """Print the arms, schedule per sequence, diary window and analysis choices."""
    arms = Table(title="Arms (unblinded)", title_justify="left")
    for column in ("arm", "role", *protocol.dosing.levels):
        arms.add_column(column)
    for arm in protocol.arms:
        arms.add_row(
            arm.name, arm.role, *(f"{arm.dose_mg[lv]:g} mg" for lv in protocol.dosing.levels)
        )
    console.print(arms)

    start = dt.date(2000, 1, 1)  # day numbers only; the calendar starts at enrolment
    for sequence in protocol.sequences:
        table = Table(
            title=f"Sequence {protocol.sequence_code(sequence)}: {' then '.join(sequence)}",
            title_justify="left",
        )
        for column in ("phase", "condition", "days", "study days"):
            table.add_column(column)
        schedule = make_schedule(protocol, sequence, start)
        for phase in schedule.phases:
            name = phase.kind if phase.period in (None, 0) else f"period {phase.period}"
            if phase.block is not None and protocol.design.kind == "nof1":
                name += f" (block {phase.block})"
            first, last = schedule.study_day(phase.start), schedule.study_day(phase.end)
            table.add_row(name, phase.condition, str(phase.days), f"{first}-{last}")
        console.print(table)

    describe_visits(protocol, console)
    diary = protocol.diary
    closes = f"{diary.closes:%H:%M}" + (" next morning" if diary.crosses_midnight else "")
    console.print(
        f"Diary window: {diary.opens:%H:%M} to {closes} local time; entries made offline "
        f"may sync up to {diary.late_sync_grace_hours} h later."
    )
    console.print(
        "Items: " + ", ".join(f"{i.label} ({i.scale}, {i.direction})" for i in diary.items)
    )
    if diary.side_effects:
        console.print("Side effects: " + ", ".join(s.label for s in diary.side_effects))
    console.print(f"Responder: {parse_rule(protocol.responder.rule).describe()}")
    analysis = protocol.analysis
    window = (
        "whole phase" if analysis.window == "whole_phase" else f"last {analysis.last_days} days"
    )
    console.print(
        f"Analysis window: {window}; a phase counts with at least "
        f"{analysis.min_completion:.0%} of its diary days completed."
    )
    periods = protocol.pgic_periods()
    if periods:
        console.print(
            f"PGIC ({len(PGIC_LABELS)} points) at the end of period(s) "
            + ", ".join(str(p) for p in periods)
        )
    sizes = ", ".join(str(s) for s in protocol.block_sizes)
    strata = ", ".join(protocol.randomization.strata) or "none"
    console.print(f"Randomization: permuted blocks of {sizes}; strata: {strata}")


def describe_visits(protocol: Protocol, console: Console) -> None:
    """Print the blinded visit calendar, what each sequence's kit holds, and any warning."""
    calendar = visit_calendar(protocol)
    visits = Table(
        title="Visit calendar (what blinded staff and participants see, every sequence alike)",
        title_justify="left",
    )
    visits.add_column("visit")
    visits.add_column("treatment day")
    visits.add_column("study day")
    visits.add_column("kit for treatment days")
    for visit in calendar.visits:
        stretch = visit.stretch
        visits.add_row(
            str(visit.number),
            str(visit.treatment_day),
            str(calendar.baseline_days + visit.treatment_day),
            "end of treatment" if stretch is None else f"{stretch.first_day}-{stretch.last_day}",
        )
    console.print(visits)
    kits = Table(title="Kit contents by sequence (unblinded)", title_justify="left")
    kits.add_column("sequence")
    for visit in calendar.visits[:-1]:
        kits.add_column(f"visit {visit.number}")
    for sequence, contents in calendar.contents.items():
        kits.add_row(protocol.sequence_code(sequence), *(_kit_words(protocol, c) for c in contents))
    console.print(kits)
    for problem in calendar.problems:
        console.print(f"[yellow]Warning[/]: the visit calendar is not blind: {escape(problem)}.")


def _kit_words(protocol: Protocol, contents: str) -> str:
    arm = kit_arm(protocol, contents)
    if contents == WASHOUT:
        return "washout: no kit" if arm is None else f"washout: {arm}"
    return contents
