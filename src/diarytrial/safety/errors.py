"""What the safety services refuse; each message says what to do instead. None names an arm."""

from __future__ import annotations

from diarytrial.core.errors import ConflictError, InvalidInputError


class AdverseEventInvalidError(InvalidInputError):
    """An adverse event whose values cannot be used (unknown choice, dates, side effect)."""

    code = "adverse_event_invalid"


class AdverseEventRemovedError(ConflictError):
    """A change to an adverse event that was removed."""

    code = "adverse_event_removed"


class AdverseEventDuplicateError(ConflictError):
    """A diary side-effect report confirmed as an adverse event a second time."""

    code = "adverse_event_duplicate"


class SideEffectCandidateClosedError(ConflictError):
    """A decision on a diary side effect that is no longer waiting for one."""

    code = "side_effect_candidate_closed"
