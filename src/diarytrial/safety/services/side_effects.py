"""Side effects reported in the diary: the coordinator confirms an open candidate (an episode
of one side effect) as an adverse event, or dismisses it with a reason. Each decision is kept
as an audited review of the nights it covers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from diarytrial.audit.models import AuditAction
from diarytrial.audit.services import audit_record
from diarytrial.diary.models import DiaryEntry
from diarytrial.participants.models import Participant
from diarytrial.participants.services import participant_lock, required_reason
from diarytrial.safety.errors import SideEffectCandidateClosedError
from diarytrial.safety.models import AdverseEvent, ReviewDecision, SideEffectReview
from diarytrial.safety.selectors import SideEffectCandidate, side_effect_candidate_get
from diarytrial.safety.services.adverse_events import adverse_event_record
from diarytrial.studies.services import require_unlocked


def _candidate_open(
    participant: Participant, side_effect: str, first_reported: dt.date
) -> SideEffectCandidate:
    """The open candidate of `participant` (locked) for `side_effect` from `first_reported`."""
    candidate = side_effect_candidate_get(
        participant=participant, side_effect=side_effect, first_reported=first_reported
    )
    if candidate is not None:
        return candidate
    raise SideEffectCandidateClosedError(
        f"The {side_effect} reported by {participant.code} from {first_reported.isoformat()} "
        f"is not waiting for a decision: it was confirmed or dismissed already, or an adverse "
        f"event covers it. Reload the list to see what is left.",
        extra={
            "participant": participant.code,
            "side_effect": side_effect,
            "first_reported": first_reported.isoformat(),
        },
    )


def _review_save(
    *,
    participant: Participant,
    candidate: SideEffectCandidate,
    decision: ReviewDecision,
    reason: str,
    actor: User | None,
    event: AdverseEvent | None = None,
) -> SideEffectReview:
    review = SideEffectReview(
        participant=participant,
        side_effect=candidate.side_effect,
        first_reported=candidate.first_reported,
        last_reported=candidate.last_reported,
        worst=candidate.worst,
        reports=[
            {"diary_date": r.diary_date.isoformat(), "unpleasantness": r.unpleasantness}
            for r in candidate.reports
        ],
        decision=decision,
        adverse_event=event,
        reason=reason,
        decided_by=actor,
    )
    review.full_clean()
    review.save()
    changes: dict[str, tuple[Any, Any]] = {
        "participant": (None, participant.code),
        "side_effect": (None, review.side_effect),
        "first_reported": (None, review.first_reported),
        "last_reported": (None, review.last_reported),
        "nights": (None, len(review.reports)),
        "worst": (None, review.worst),
        "decision": (None, review.decision),
    }
    if event is not None:
        changes["adverse_event"] = (None, event.pk)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=review,
        study_slug=participant.study.slug,
        changes=changes,
        reason=reason,
    )
    return review


@transaction.atomic
def side_effect_candidate_confirm(
    *,
    participant: Participant,
    side_effect: str,
    first_reported: dt.date,
    severity: str,
    serious: bool,
    related: str,
    action: str,
    outcome: str,
    actor: User | None,
    term: str = "",
    end_date: dt.date | None = None,
    notes: str = "",
) -> SideEffectReview:
    """Confirm the diary's episode of `side_effect` from `first_reported` as an adverse event.

    The event is recorded by `adverse_event_record` with the side effect, the onset on the
    episode's first night and that night's diary entry; the review keeps the nights it covers
    and the `notes`. Both are audited. Refuses: SideEffectCandidateClosedError (decided
    already, or an event covers it), what `adverse_event_record` refuses, StudyLockedError.
    """
    require_unlocked(participant.study)
    locked = participant_lock(participant)
    candidate = _candidate_open(locked, side_effect, first_reported)
    event = adverse_event_record(
        participant=locked,
        term=term,
        side_effect=candidate.side_effect,
        onset_date=candidate.first_reported,
        end_date=end_date,
        severity=severity,
        serious=serious,
        related=related,
        action=action,
        outcome=outcome,
        actor=actor,
        from_diary_entry=DiaryEntry.objects.get(pk=candidate.first_entry_id),
    )
    return _review_save(
        participant=locked,
        candidate=candidate,
        decision=ReviewDecision.CONFIRMED,
        reason=notes.strip(),
        actor=actor,
        event=event,
    )


@transaction.atomic
def side_effect_candidate_dismiss(
    *,
    participant: Participant,
    side_effect: str,
    first_reported: dt.date,
    reason: str,
    actor: User | None,
) -> SideEffectReview:
    """Dismiss the diary's episode of `side_effect` from `first_reported`: not an adverse event
    (e.g. "known, mild, not an AE"), saying why.

    The dismissal covers the episode's nights and the ones that continue it (at most
    `EPISODE_GAP_DAYS` apart and no more unpleasant than its worst night); a later episode, or a
    night rated worse, is a new candidate. Audited with the reason. Refuses:
    ReasonRequiredError, SideEffectCandidateClosedError, StudyLockedError.
    """
    require_unlocked(participant.study)
    text = required_reason(reason, f"the {side_effect} reported in the diary is not an event")
    locked = participant_lock(participant)
    candidate = _candidate_open(locked, side_effect, first_reported)
    return _review_save(
        participant=locked,
        candidate=candidate,
        decision=ReviewDecision.DISMISSED,
        reason=text,
        actor=actor,
    )
