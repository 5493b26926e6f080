"""What the randomization services and selectors refuse. No message here names an arm: a refusal
may be shown to, or logged for, blinded staff.
"""

from __future__ import annotations

from collections.abc import Sequence

from diarytrial.core.errors import ConflictError, InvalidInputError, NotFoundError


class StratumInvalidError(InvalidInputError):
    """A stratum key that does not fit the protocol's strata or the study's sites."""

    code = "stratum_invalid"


class AllocationListExistsError(ConflictError):
    """A second list for a stratum that has one: a list is generated once."""

    code = "allocation_list_exists"


class AllocationListMissingError(ConflictError):
    """Randomization in a stratum that has no allocation list yet."""

    code = "allocation_list_missing"


class AllocationListExhaustedError(ConflictError):
    """Every slot of the stratum's list is used."""

    code = "allocation_list_exhausted"


class AlreadyRandomizedError(ConflictError):
    """A second randomization of a participant."""

    code = "already_randomized"


class NotRandomizedError(ConflictError):
    """Something that needs a randomized participant (dispensing, unblinding)."""

    code = "not_randomized"


class VisitInvalidError(InvalidInputError):
    """A visit the participant's visit calendar does not have, or one that dispenses no kit."""

    code = "visit_invalid"


class VisitDispensedError(ConflictError):
    """A second kit for a visit: a participant gets one kit per visit."""

    code = "visit_dispensed"


class NoKitAvailableError(ConflictError):
    """No available kit holds what the participant needs."""

    code = "no_kit_available"


class KitNotAvailableError(ConflictError):
    """A kit already dispensed or destroyed."""

    code = "kit_not_available"


class KitNotFoundError(NotFoundError):
    """No kit with this code in the study."""

    code = "kit_not_found"


class KitMismatchError(InvalidInputError):
    """A kit whose contents are not what the participant needs for the visit's stretch."""

    code = "kit_mismatch"


class KitImportInvalidError(InvalidInputError):
    """A kit list (CSV) with problems; `problems` has one line per problem."""

    code = "kit_import_invalid"

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        super().__init__(
            "\n".join([f"{source}: the kit list has {count}; nothing was imported:", *problems]),
            extra={"source": source, "problems": list(problems)},
        )
        self.problems = list(problems)
