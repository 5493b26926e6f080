"""What the participants services and selectors refuse; each message says what to do instead."""

from __future__ import annotations

from diarytrial.core.errors import ConflictError, InvalidInputError, NotFoundError


class ParticipantNotFoundError(NotFoundError):
    """No participant with this code in the sites the reader may see."""

    code = "participant_not_found"


class ParticipantStatusError(ConflictError):
    """The participant's status does not allow what was asked (e.g. randomizing a withdrawn one)."""

    code = "participant_status"


class ParticipantIneligibleError(ConflictError):
    """Enrolment of a person whose screening answers make them ineligible."""

    code = "participant_ineligible"


class ScreeningAnswersInvalidError(InvalidInputError):
    """Eligibility answers missing, or answers to questions the protocol does not ask."""

    code = "screening_answers_invalid"


class ReasonRequiredError(InvalidInputError):
    """A change that must say why was asked without a reason."""

    code = "reason_required"


class DoseLevelInvalidError(InvalidInputError):
    """A dose level the participant's protocol does not define, or the level they are at."""

    code = "dose_level_invalid"
