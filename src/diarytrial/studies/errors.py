"""What the studies services and selectors refuse; each message says what to do instead."""

from __future__ import annotations

from diarytrial.core.errors import ApplicationError, ConflictError, InvalidInputError, NotFoundError


class StudyNotFoundError(NotFoundError):
    """No study has this slug."""

    code = "study_not_found"


class StudyAlreadyExistsError(ConflictError):
    """A study with the protocol's study.id exists already."""

    code = "study_already_exists"


class ProtocolStudyMismatchError(InvalidInputError):
    """An amendment whose study.id is not the amended study's."""

    code = "protocol_study_mismatch"


class ProtocolAlreadyRecordedError(ConflictError):
    """An amendment whose text is identical to a version already recorded."""

    code = "protocol_already_recorded"


class ProtocolVersionAlteredError(ApplicationError):
    """A stored protocol text no longer matches its recorded SHA-256: the row was changed."""

    code = "protocol_version_altered"
    http_status = 500


class StudyLockedError(ApplicationError):
    """A write to a study whose database is locked for analysis."""

    code = "study_locked"
    title = "Study database locked"
    http_status = 423


class StudyLockStateError(ConflictError):
    """Locking a locked study, or unlocking one that is not locked."""

    code = "study_lock_state"


class LockReasonRequiredError(InvalidInputError):
    """Locking or unlocking a study without saying why."""

    code = "reason_required"


class StudyNotReadyToLockError(ConflictError):
    """A lock asked for while items of the lock checklist that hold it back are still open."""

    code = "study_not_ready_to_lock"
    title = "Study not ready to lock"


class MembershipExistsError(ConflictError):
    """A role granted to a user who holds one in the study already: change that one instead."""

    code = "membership_exists"


class LastAdministratorError(ConflictError):
    """A change that would leave a study without an administrator."""

    code = "last_administrator"
    title = "The study's last administrator"


class OwnAdministratorRoleError(ConflictError):
    """An administrator taking away (or ending) their own administrator role."""

    code = "own_administrator_role"
    title = "Your own administrator role"
