"""The coordinator's blinded dose change, through the participants app's dose level service."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction

from diarytrial.core.errors import InvalidInputError
from diarytrial.participants.models import DoseLevelChange, Participant
from diarytrial.participants.services import participant_dose_level_set
from diarytrial.studies.services import require_unlocked


@transaction.atomic
def dose_level_change(
    *,
    participant: Participant,
    level: str,
    reason: str,
    actor: User | None,
    effective_on: dt.date | None = None,
) -> DoseLevelChange:
    """The coordinator's blinded dose change: `participant` takes dose level `level` from
    `effective_on` (default: their today), e.g. ``reduced`` after an unpleasant side effect or
    ``standard`` to restore it.

    The same for every arm: it sets a level, never an amount; the pharmacist's next kit
    (``kit_to_dispense``) follows the new level. Done by
    ``participants.services.participant_dose_level_set`` (which refuses an unknown level, the
    current level, a missing reason, a participant not taking part, a date before the current
    level's), and returns the new `DoseLevelChange`.
    """
    require_unlocked(participant.study)
    participant_dose_level_set(
        participant=participant,
        level=level,
        reason=reason,
        actor=actor,
        effective_on=effective_on,
    )
    change = DoseLevelChange.objects.filter(participant=participant).order_by("-id").first()
    if change is None:  # pragma: no cover - the call above wrote one
        raise InvalidInputError(f"No dose level change was recorded for {participant.code}.")
    return change
