"""The diary compliance tables: per condition, and per participant and phase."""

from __future__ import annotations

from collections.abc import Mapping

from diarytrial.analysis.results import TrialResults
from diarytrial.protocol.schema import Protocol
from diarytrial.report import format as fmt
from diarytrial.report.daily import sequence_letters
from diarytrial.report.labels import phase_label
from diarytrial.report.tables.markup import Cell, CellLike, condition_names, html_table


def compliance_summary_table(results: TrialResults, protocol: Protocol) -> str:
    """Diary compliance per condition (``results.compliance_summary``)."""
    names = {**condition_names(protocol), "all": "All phases"}
    head = [
        [
            "Condition",
            "Participants",
            "Expected days",
            "Completed days",
            "Late days",
            "Participant share, median (min)",
            "Below minimum",
        ]
    ]
    body: list[list[CellLike]] = []
    minimum = protocol.analysis.min_completion
    for row in results.compliance_summary.to_dict("records"):
        if int(row["participants"]) == 0:  # e.g. the washout of a design without one
            continue
        minimum = float(row["min_completion"])
        body.append(
            [
                names.get(str(row["condition"]), str(row["condition"])),
                fmt.integer(row["participants"]),
                fmt.integer(row["expected_days"]),
                f"{fmt.integer(row['completed_days'])} ({fmt.share(row['share'])})",
                fmt.integer(row["late_days"]),
                f"{fmt.share(row['median_share'])} ({fmt.share(row['min_share'])})",
                fmt.integer(row["below_min"]),
            ]
        )
    return html_table(
        "Diary compliance",
        head,
        body,
        notes=[
            "A diary day is expected on every day of a phase up to the data cut or the "
            "withdrawal; completed when it has at least one answer; late when sent after its "
            f"window closed. Below minimum: participants with less than {fmt.share(minimum, 0)} "
            "of their expected days completed."
        ],
    )


def compliance_participant_table(
    results: TrialResults, protocol: Protocol, sequences: Mapping[str, str]
) -> str:
    """Each participant's share of completed diary days per phase, in one compact table.

    `sequences` maps participant ids to their sequence code (as in ``participants.csv``).
    """
    table = results.compliance
    minimum = float(protocol.analysis.min_completion)
    phases = (
        table.groupby("phase", sort=True)
        .agg(period=("period", "first"), condition=("condition", "first"))
        .reset_index()
    )
    headers = [phase_label(r.period, str(r.condition)) for r in phases.itertuples(index=False)]
    head = [["Participant", "Sequence", *(f"{h}, %" for h in headers)]]
    body: list[list[CellLike]] = []
    for pid, rows in table.groupby(table["participant_id"].astype(str), sort=True):
        by_phase = rows.set_index("phase")
        code = sequences.get(str(pid), "")
        cells: list[CellLike] = [str(pid), sequence_letters(protocol, code) if code else ""]
        for phase in phases["phase"]:
            value = by_phase.loc[phase, "share"] if phase in by_phase.index else None
            if value is None or fmt.is_missing(value):
                cells.append(fmt.MISSING)
            elif float(value) < minimum - 1e-12:  # the analysis' tolerance for 7 of 10 days
                cells.append(Cell(f"{fmt.decimal(100 * float(value), 0)}*", css="low"))
            else:
                cells.append(fmt.decimal(100 * float(value), 0))
        body.append(cells)
    return html_table(
        "Diary compliance per participant and phase",
        head,
        body,
        notes=[
            "Share of expected diary days completed. Sequence: A active, P placebo, in the "
            f"order given; * below the minimum of {fmt.share(minimum, 0)} needed for a phase mean."
        ],
        css_class="dense",
        text_columns=(0, 1),
    )
