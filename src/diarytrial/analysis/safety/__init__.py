"""Adverse events, side-effect reports and dose reductions per condition (analysis step 7).

Every event is attributed to the phase of its participant that its date falls in (the planned
schedule of ``periods``): its condition is then baseline, active, placebo or washout. An event on
no phase of its participant is ``"outside"`` (e.g. before the first baseline day); one after the
participant's withdrawal date is ``"after_withdrawal"``; one after the data cut `as_of` is
``"after_data_cut"``. Only events in one of the four conditions are counted.

Exposure: a participant's days in a condition are the days of its phases up to the data cut and
up to the day of withdrawal, that day included (the study medication may have been taken that
day, and an event that day is often the reason for the withdrawal). A participant is *exposed*
to a condition with at least one such day.

Comparisons of active with placebo: the exact McNemar test on paired per-participant indicators
("at least one event") among participants exposed to both, and the exact conditional test of two
Poisson rates (events per exposure day, all participants). They sit on the ``active`` rows of each
table; the other rows hold NaN there.

The package holds the attribution of dates to phases (``attribution``), the Poisson test
(``poisson``), the tables of adverse events (``adverse_events``), of side effects
(``side_effects``) and of dose reductions (``dose_reductions``), and the counting they share.
"""

from __future__ import annotations

from diarytrial.analysis.safety.adverse_events import ANY_ADVERSE_EVENT, adverse_event_table
from diarytrial.analysis.safety.attribution import (
    AFTER_DATA_CUT,
    AFTER_WITHDRAWAL,
    OUTSIDE,
    attribute_to_phases,
    latest_data_date,
    phase_spans,
)
from diarytrial.analysis.safety.dose_reductions import dose_reduction_table, dose_reductions
from diarytrial.analysis.safety.poisson import (
    CorrectedRateRatio,
    PoissonComparison,
    poisson_rate_comparison,
    rate_ratio_corrected,
)
from diarytrial.analysis.safety.side_effects import ANY_SIDE_EFFECT, side_effect_table

__all__ = [
    "AFTER_DATA_CUT",
    "AFTER_WITHDRAWAL",
    "ANY_ADVERSE_EVENT",
    "ANY_SIDE_EFFECT",
    "OUTSIDE",
    "CorrectedRateRatio",
    "PoissonComparison",
    "adverse_event_table",
    "attribute_to_phases",
    "dose_reduction_table",
    "dose_reductions",
    "latest_data_date",
    "phase_spans",
    "poisson_rate_comparison",
    "rate_ratio_corrected",
    "side_effect_table",
]
