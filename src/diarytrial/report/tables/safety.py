"""The safety tables: side effects of the nightly checklist, adverse events, dose reductions."""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from diarytrial.analysis.results import TrialResults
from diarytrial.analysis.safety import ANY_ADVERSE_EVENT
from diarytrial.protocol.schema import Protocol
from diarytrial.report import format as fmt
from diarytrial.report.daily import CONDITION_ORDER
from diarytrial.report.tables.markup import Cell, CellLike, condition_names, html_table


def _conditions(frame: pd.DataFrame) -> list[str]:
    """The conditions of a safety table that somebody was exposed to (no washout without one)."""
    exposed = frame.groupby("condition")["exposed"].max()
    return [c for c in CONDITION_ORDER if c in exposed.index and int(exposed[c]) > 0]


def _exposure_head(
    frame: pd.DataFrame, protocol: Protocol, conditions: Sequence[str], days_column: str
) -> list[Cell]:
    """One header cell per condition: its name, and below it participants and days exposed."""
    names = condition_names(protocol)
    first = {str(r["condition"]): r for r in frame.drop_duplicates("condition").to_dict("records")}
    return [
        Cell(
            f'{html.escape(names[c])}<br><span class="sub">{int(first[c]["exposed"])} '
            f"participants, {int(first[c][days_column])} days</span>",
            html=True,
        )
        for c in conditions
    ]


def side_effect_table(results: TrialResults, protocol: Protocol) -> str:
    """Side effects of the nightly checklist: participants reporting, and days with a report.

    Two columns per condition, each with its own denominator: participants who reported the
    side effect at least once (of those with a diary day in the condition), and the share of
    diary days with a report.
    """
    frame = results.side_effects
    conditions = _conditions(frame)
    head: list[list[CellLike]] = [
        [
            "",
            *(
                Cell(cell.text, html=True, colspan=2)
                for cell in _exposure_head(frame, protocol, conditions, "diary_days")
            ),
            "",
        ],
        [
            "Side effect",
            *(label for _ in conditions for label in ("Participants, n (%)", "Days, %")),
            "p",
        ],
    ]
    body: list[list[CellLike]] = []
    for effect in dict.fromkeys(frame["side_effect"].astype(str)):
        rows = frame[frame["side_effect"] == effect].set_index("condition")
        cells: list[CellLike] = [str(rows["label"].iloc[0])]
        for condition in conditions:
            row = rows.loc[condition]
            cells.append(fmt.count_share(row["participants"], row["exposed"]))
            cells.append(fmt.share(row["share_of_days"]))
        p = rows.loc["active", "p_participants"] if "active" in rows.index else None
        cells.append(fmt.p_value(p))
        body.append(cells)
    return html_table(
        "Side effects reported in the nightly diary",
        head,
        body,
        notes=[
            "Participants, n (%): participants who reported it at least once, of those with a "
            "diary day in the condition (the number under each condition). Days, %: diary days "
            "with a report of it, of the diary days in the condition. p: exact McNemar test of "
            "reporting it at least once under active against placebo, among participants with "
            "diary days in both."
        ],
    )


def adverse_event_table(results: TrialResults, protocol: Protocol) -> str:
    """Adverse events per term and condition, with the exact tests of active against placebo."""
    frame = results.adverse_events
    conditions = _conditions(frame)
    head: list[list[CellLike]] = [
        [
            "Adverse event",
            *_exposure_head(frame, protocol, conditions, "exposure_days"),
            "p (participants)",
            "Rate ratio (95% CI)",
            "p (events)",
        ]
    ]
    body: list[list[CellLike]] = []
    for term in dict.fromkeys(frame["term"].astype(str)):
        rows = frame[frame["term"] == term].set_index("condition")
        cells: list[CellLike] = [term]
        for condition in conditions:
            row = rows.loc[condition]
            cells.append(f"{fmt.integer(row['participants'])} ({fmt.integer(row['events'])})")
        active = rows.loc["active"] if "active" in rows.index else None
        if active is None:
            cells.extend([fmt.MISSING] * 3)
        else:
            cells.extend(
                [
                    fmt.p_value(active["p_participants"]),
                    _rate_ratio(active),
                    fmt.p_value(active["p_events"]),
                ]
            )
        body.append(cells)
    any_event = frame[frame["term"] == ANY_ADVERSE_EVENT]
    return html_table(
        "Adverse events",
        head,
        body,
        notes=[
            "Cells: participants with at least one event (events). p (participants): exact "
            "McNemar test among participants exposed to both conditions; rate ratio (active "
            "over placebo, events per exposure day) with its exact conditional 95% interval "
            "and p (events): the exact conditional test of the two Poisson rates. † No event "
            "under one condition: the exact interval is then unbounded on that side, so the "
            "ratio and its interval add 1/2 event to both conditions (Haldane-Anscombe "
            "correction; Wald interval on the log scale). It is approximate: below it, the one "
            "finite limit of the exact interval, which agrees with p (events), the exact test "
            "(it needs no correction). A dash: no event under either.",
            f"Serious adverse events: {int(any_event['serious_events'].sum())}.",
        ],
    )


def _rate_ratio(active: pd.Series | pd.DataFrame) -> CellLike:
    """The rate ratio with its interval; the corrected one, marked †, when a count is zero.

    Under a corrected ratio, the exact conditional interval's one finite limit, which agrees
    with the exact p-value of the row.
    """
    if not fmt.is_missing(active.get("rate_ratio_corrected")):
        ratio = fmt.ratio(active["rate_ratio_corrected"])
        ci = fmt.ratio_interval(
            active["rate_ratio_corrected_ci_low"], active["rate_ratio_corrected_ci_high"]
        )
        low, high = active["rate_ratio_ci_low"], active["rate_ratio_ci_high"]
        exact = (
            f"exact lower limit {fmt.ratio(low)}"
            if fmt.is_missing(high)
            else f"exact upper limit {fmt.ratio(high)}"
        )
        return Cell(f'{ratio} ({ci})†<br><span class="sub">{html.escape(exact)}</span>', html=True)
    if fmt.is_missing_nan(active["rate_ratio"]):
        return fmt.MISSING  # no event under either condition, or no exposure to one
    ratio = fmt.ratio(active["rate_ratio"])
    ci = fmt.ratio_interval(active["rate_ratio_ci_low"], active["rate_ratio_ci_high"])
    return ratio if ci == fmt.MISSING else f"{ratio} ({ci})"


def dose_reduction_table(results: TrialResults, protocol: Protocol) -> str:
    """Dose reductions per condition (blinded: the level was lowered, not the arm changed)."""
    names = condition_names(protocol)
    head = [
        ["Condition", "Exposed", "Exposure days", "Participants with a reduction", "Reductions"]
    ]
    body: list[list[CellLike]] = []
    rows = {str(r["condition"]): r for r in results.dose_reductions.to_dict("records")}
    for condition in CONDITION_ORDER:
        row = rows.get(condition)
        if row is None or int(row["exposed"]) == 0:
            continue
        body.append(
            [
                names[condition],
                fmt.integer(row["exposed"]),
                fmt.integer(row["exposure_days"]),
                fmt.count_share(row["participants"], row["exposed"]),
                fmt.integer(row["reductions"]),
            ]
        )
    notes = []
    active = rows.get("active")
    if active is not None:
        notes.append(
            f"Exact McNemar test of at least one reduction under active against placebo "
            f"({fmt.integer(active['pairs'])} participants exposed to both): "
            f"{fmt.p_statement(active['p_participants'])}."
        )
    return html_table("Dose reductions", head, body, notes=notes)
