"""The report's tables as HTML: baseline, outcomes, responders, safety and compliance.

Each builder takes raw numbers from :class:`~diarytrial.analysis.results.TrialResults` and
formats them with :mod:`~diarytrial.report.format`; every table goes through
:func:`~diarytrial.report.tables.markup.html_table`. One module per family of tables:
``baseline``, ``outcomes`` (primary, secondary, responders), ``safety`` (side effects, adverse
events, dose reductions) and ``compliance``.
"""

from diarytrial.report.tables.baseline import baseline_table
from diarytrial.report.tables.compliance import (
    compliance_participant_table,
    compliance_summary_table,
)
from diarytrial.report.tables.markup import Cell, CellLike, condition_names, html_table
from diarytrial.report.tables.outcomes import primary_table, responder_table, secondary_table
from diarytrial.report.tables.safety import (
    adverse_event_table,
    dose_reduction_table,
    side_effect_table,
)

__all__ = [
    "Cell",
    "CellLike",
    "adverse_event_table",
    "baseline_table",
    "compliance_participant_table",
    "compliance_summary_table",
    "condition_names",
    "dose_reduction_table",
    "html_table",
    "primary_table",
    "responder_table",
    "secondary_table",
    "side_effect_table",
]
