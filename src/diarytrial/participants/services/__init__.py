"""Writes of the participants app. Each public function is one transaction that writes its rows
and their audit events together; none of them writes or records an arm.

Status moves only along ``screened -> enrolled -> randomized -> active -> completed``, and to
``withdrawn`` from any status before ``completed``; anything else raises ParticipantStatusError.
Every write locks the participant's row first, so two staff members acting on one participant
at once are served one after the other and the second sees the first one's result.

A module per use case: `screening.py` (`participant_screen`), `enrolment.py`
(`participant_enrol`, `consent_record`), `status.py` (the moves a status may make,
`TRANSITIONS` and `participant_transition_check`; `participant_activate`,
`participant_complete`, `participant_withdraw`), `time_zone.py`
(`participant_timezone_change`), `dose.py` (`participant_dose_level_set`) and
`randomization.py` (`participant_mark_randomized`, `participant_mark_emergency_unblinded`, the
participant's part of the randomization app's services). `common.py` holds what they share:
`participant_lock`, `required_reason`, the audited fields and the private helpers.
"""

from diarytrial.participants.services.common import (
    PARTICIPANT_AUDITED_FIELDS,
    participant_lock,
    required_reason,
)
from diarytrial.participants.services.dose import participant_dose_level_set
from diarytrial.participants.services.enrolment import consent_record, participant_enrol
from diarytrial.participants.services.randomization import (
    participant_mark_emergency_unblinded,
    participant_mark_randomized,
)
from diarytrial.participants.services.screening import (
    CODE_LENGTH,
    CODE_PREFIX,
    participant_screen,
)
from diarytrial.participants.services.status import (
    TRANSITIONS,
    participant_activate,
    participant_complete,
    participant_transition_check,
    participant_withdraw,
)
from diarytrial.participants.services.time_zone import participant_timezone_change

__all__ = [
    "CODE_LENGTH",
    "CODE_PREFIX",
    "PARTICIPANT_AUDITED_FIELDS",
    "TRANSITIONS",
    "consent_record",
    "participant_activate",
    "participant_complete",
    "participant_dose_level_set",
    "participant_enrol",
    "participant_lock",
    "participant_mark_emergency_unblinded",
    "participant_mark_randomized",
    "participant_screen",
    "participant_timezone_change",
    "participant_transition_check",
    "participant_withdraw",
    "required_reason",
]
