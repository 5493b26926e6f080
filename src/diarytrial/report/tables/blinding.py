"""The report's blinding table: the participants' guesses by true arm, and the blinding indices.

The guesses are those given at the end of each treatment period (``analysis.guesses``); the
indices are Bang's per arm and James' for the whole table, with their 95% confidence intervals,
"not estimable" where they cannot be computed.
"""

from __future__ import annotations

from diarytrial.analysis.blinding import ARMS, GUESSES, IndexEstimate
from diarytrial.analysis.results import TrialResults
from diarytrial.protocol.schema import Protocol
from diarytrial.report import format as fmt
from diarytrial.report.labels import condition_label
from diarytrial.report.tables.markup import html_table

NOT_ESTIMABLE = "not estimable"

_GUESS_WORDS = {"active": "Study drug", "placebo": "Placebo", "dont_know": "Don't know"}


def _index(index: IndexEstimate, digits: int = 2) -> str:
    """``0.14 (−0.01 to 0.29)``, or "not estimable" for NaN."""
    if fmt.is_missing(index.estimate):
        return NOT_ESTIMABLE
    return fmt.estimate_with_interval(index.estimate, index.ci_low, index.ci_high, digits)


def blinding_table(results: TrialResults, protocol: Protocol) -> str:
    """The guesses at the end of each treatment period by true arm, with Bang's index per arm
    and James' index below."""
    summary = results.blinding
    table = summary.table
    if table.total == 0:
        return "<p>No participant said what they thought they took at the end of a period.</p>"
    head = [["True arm", *(_GUESS_WORDS[g] for g in GUESSES), "Answers", "Bang index (95% CI)"]]
    body = [
        [
            condition_label(protocol, arm),
            *(fmt.count_share(table.count(arm, guess), table.arm_total(arm)) for guess in GUESSES),
            fmt.integer(table.arm_total(arm)),
            _index(summary.bang_active if arm == "active" else summary.bang_placebo),
        ]
        for arm in ARMS
    ]
    notes = [
        f"James blinding index {_index(summary.james)} (0 every guess right, 0.5 random "
        "guessing, 1 every answer don't know). Bang index per arm: right minus wrong guesses "
        "over the arm's answers (-1 to 1; 0 random guessing).",
        "Guesses given at the visit that ends each treatment period; "
        f"{fmt.plural(summary.other_visits, 'guess', 'guesses')} at the other visits are not "
        "counted here.",
    ]
    return html_table(
        "What participants thought they took, by the treatment they were on",
        head,
        body,
        notes=notes,
    )
