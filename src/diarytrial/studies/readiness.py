"""Lock readiness: what is still open in a study, asked of the apps that own it.

The database lock sits in this app, at the bottom of the live system, but what keeps a study
from being ready to lock belongs to apps above it: participants neither completed nor
withdrawn (participants), side effects awaiting a decision and adverse events without an
outcome (safety), missing end-of-period answers (diary), open data queries (queries). Each of
those apps registers one *lock check* when Django starts (its AppConfig.ready); `lock_readiness`
asks them all. The lock service, the lock page, the study dashboard's "pending work" and the
daily digest all read these same numbers, so they never disagree.

A check is computed without allocation: it counts records, never arms or sequences.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from diarytrial.studies.models import Site, Study


@dataclass(frozen=True)
class ReadinessItem:
    """One line of the lock checklist: what is open, how many, and what to do about it."""

    key: str
    """Stable identifier, e.g. ``open_queries``; also the JSON key of the dashboard."""
    label: str
    """What is counted, in plain words: "Open data queries"."""
    count: int
    """How many are open (0: this item is done)."""
    what_to_do: str
    """One sentence for the person who has to close the item."""
    blocks_lock: bool = True
    """False for an item that is shown but does not hold the lock back."""

    @property
    def open(self) -> bool:
        return self.count > 0


LockCheck = Callable[[Study, Sequence[Site] | None], ReadinessItem]
"""``check(study, sites)``: the item over `sites`, or over the whole study when None."""

_CHECKS: dict[str, tuple[int, LockCheck]] = {}


def register_lock_check(key: str, check: LockCheck, *, order: int) -> None:
    """Register `check` under `key` (an app's AppConfig.ready); `order` sorts the checklist.

    Registering the same key again replaces the check, so a reload does not count twice.
    """
    _CHECKS[key] = (order, check)


def lock_readiness(
    study: Study, *, sites: Sequence[Site] | None = None
) -> tuple[ReadinessItem, ...]:
    """Every registered check's item for `study` (limited to `sites` when given), in order."""
    ordered = sorted(_CHECKS.items(), key=lambda pair: (pair[1][0], pair[0]))
    return tuple(check(study, sites) for _key, (_order, check) in ordered)


def open_items(items: Sequence[ReadinessItem]) -> tuple[ReadinessItem, ...]:
    """The items that hold the lock back."""
    return tuple(item for item in items if item.open and item.blocks_lock)
