"""The populations table: who is counted in each analysis, so that every N of the report adds up.

Each analysis of a crossover trial uses the participants who have what it needs, so the Ns of
the report differ. The table (``results.populations``) counts every population per sequence, and
the rest of the report names the population beside each number through :func:`population_name`.
"""

from __future__ import annotations

import html

from diarytrial.analysis.results import TrialResults
from diarytrial.protocol.schema import Protocol
from diarytrial.report import format as fmt
from diarytrial.report.labels import condition_label, item_label, sequence_label
from diarytrial.report.tables.markup import Cell, CellLike, html_table

NAMES = {
    "randomized": "randomized",
    "phase means every condition": "phase-mean population",
    "paired": "paired population",
    "mixed model": "mixed-model population",
    "time course": "time-course population",
    "responder pairs": "responder pairs",
    "pgic pairs": "PGIC pairs",
    "exposed both": "exposed to both",
}
"""Short names of the populations the text refers to, by the analysis' key."""


def population_n(results: TrialResults, population: str, sequence: str = "all") -> int | None:
    """The number of participants in `population` (for one `sequence`, or all); None if absent."""
    frame = results.populations
    rows = frame[(frame["population"] == population) & (frame["sequence"] == sequence)]
    return None if rows.empty else int(rows["n"].iloc[0])


def _rows(protocol: Protocol, results: TrialResults) -> list[tuple[str, str, str]]:
    """(key, name and definition as HTML, where it is used) of every population, in order."""
    analysis = protocol.analysis
    item = html.escape(item_label(protocol, results.primary_item).lower())
    active = html.escape(condition_label(protocol, "active"))
    placebo = html.escape(condition_label(protocol, "placebo"))
    minimum = fmt.share(analysis.min_completion, 0)
    if analysis.improvement_endpoint == "final_days":
        endpoint = f"the final {fmt.plural(analysis.final_days, 'day')}"
    else:
        endpoint = "the analysis window"
    keys = [str(k) for k in dict.fromkeys(results.populations["population"].astype(str))]
    rows: list[tuple[str, str, str]] = []
    for key in keys:
        if key.startswith("period "):
            _, number, what = key.split(" ")
            rows.append((key, f"{what.capitalize()} period {number}", "flow diagram"))
    defined: dict[str, tuple[str, str]] = {
        "randomized": ("<strong>Randomized</strong>", "baseline table, compliance"),
        "withdrawn": ("Withdrawn", "flow diagram"),
        "baseline mean": (
            f"Baseline mean of {item} (at least {minimum} of the baseline days completed)",
            "baseline table",
        ),
        "phase mean active": (
            f"Mean of {item} on {active} (at least {minimum} of the analysis window's days)",
            "",
        ),
        "phase mean placebo": (f"Mean of {item} on {placebo} (the same)", ""),
        "phase means every condition": (
            "<strong>Phase-mean population</strong>: all three means above",
            "flow diagram (analysed)",
        ),
        "improvement active": (
            f"<strong>Improvement population</strong> on {active}: a baseline mean and a mean of "
            f"{item} over {endpoint} on {active} (at least {minimum} of those days)",
            "% improvement [n], responders",
        ),
        "improvement placebo": (
            f"<strong>Improvement population</strong> on {placebo}: the same on {placebo}",
            "% improvement [n], responders",
        ),
        "paired": (
            "<strong>Paired population</strong>: an improvement on both conditions",
            "paired t and Wilcoxon tests, summary",
        ),
        "mixed model": (
            f"<strong>Mixed-model population</strong>: at least one daily value of {item} on a "
            "treatment day",
            "mixed model, summary",
        ),
        "time course": (
            "<strong>Time-course population</strong>: a baseline mean and a value in at least "
            "one treatment week",
            "time course",
        ),
        "responder active": (f"Responder status decided on {active}", "responders"),
        "responder placebo": (f"Responder status decided on {placebo}", "responders"),
        "responder pairs": (
            "<strong>Responder pairs</strong>: decided on both conditions",
            "exact McNemar test of responders",
        ),
        "pgic active": (f"PGIC answered at the end of the period on {active}", "PGIC figure"),
        "pgic placebo": (f"PGIC answered at the end of the period on {placebo}", "PGIC figure"),
        "pgic pairs": (
            "<strong>PGIC pairs</strong>: answered on both conditions",
            "PGIC tests",
        ),
        "exposed active": (f"At least one day on {active}", "safety tables"),
        "exposed placebo": (f"At least one day on {placebo}", "safety tables"),
        "exposed both": (
            "<strong>Exposed to both</strong>: at least one day on each",
            "McNemar tests of safety",
        ),
    }
    for key in keys:
        if key in defined:
            name, used = defined[key]
            rows.append((key, name, used))
    order = {key: k for k, key in enumerate(keys)}
    return sorted(rows, key=lambda row: order[row[0]])


def populations_table(results: TrialResults, protocol: Protocol) -> str:
    """Every population with its definition, its count per sequence and overall, and its use."""
    frame = results.populations
    if frame.empty:
        return "<p>No participant was randomized.</p>"
    groups = [str(g) for g in dict.fromkeys(frame["sequence"].astype(str))]
    if len(groups) == 2:  # one sequence: its column would repeat the whole
        groups = ["all"]
    head: list[list[CellLike]] = [
        [
            "Population",
            *("All" if g == "all" else sequence_label(protocol, g) for g in groups),
            "Used for",
        ]
    ]
    counts = {
        (str(r["population"]), str(r["sequence"])): int(r["n"]) for r in frame.to_dict("records")
    }
    body: list[list[CellLike]] = []
    for key, name, used in _rows(protocol, results):
        body.append(
            [
                Cell(name, html=True),
                *(fmt.integer(counts.get((key, g), 0)) for g in groups),
                used,
            ]
        )
    notes = [
        f"Participants counted in each analysis of the primary item "
        f"({item_label(protocol, results.primary_item).lower()}), by sequence. Each number "
        "of this report names its population; a participant is in a population when they "
        "have what that analysis needs, so the populations differ. The secondary items have "
        "populations of their own, given as [n] in their table."
    ]
    return html_table(
        "Populations: who is counted in each analysis",
        head,
        body,
        notes=notes,
        css_class="populations",
        text_columns=(0, len(groups) + 1),
    )
