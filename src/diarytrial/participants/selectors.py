"""Reads of the participants app. Nothing here returns an arm: all of it is blinded-safe.

Lists take the sites the reader may see (`sites`): the access layer passes
``sites_visible_to(user, study)``, and an empty collection shows nothing (deny by default).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from diarytrial.participants.errors import ParticipantNotFoundError
from diarytrial.participants.models import (
    Consent,
    DoseLevelChange,
    EligibilityAnswer,
    Participant,
    ParticipantPhase,
)
from diarytrial.protocol import Protocol
from diarytrial.studies.models import Site, Study
from diarytrial.studies.selectors import protocol_version_load


def participant_list(
    *,
    study: Study,
    sites: Iterable[Site] | QuerySet[Site],
    statuses: Collection[str] | None = None,
) -> QuerySet[Participant]:
    """The participants of `study` at `sites`, by code; only those in `statuses` when given."""
    site_list = sites if isinstance(sites, QuerySet) else list(sites)
    rows = Participant.objects.filter(study=study, site__in=site_list).select_related("site")
    if statuses is not None:
        rows = rows.filter(status__in=list(statuses))
    return rows.order_by("code")


def participant_get(
    *, study: Study, code: str, sites: Iterable[Site] | QuerySet[Site]
) -> Participant:
    """The participant `code` of `study` at one of `sites`; raises ParticipantNotFoundError.

    A participant at a site the reader may not see is reported as not found, like a code that
    does not exist, so a reader cannot probe for codes of other sites.
    """
    found = (
        participant_list(study=study, sites=sites)
        .select_related("study", "protocol_version")
        .filter(code=code.strip().upper())
        .first()
    )
    if found is None:
        raise ParticipantNotFoundError(
            f"There is no participant {code!r} at your sites of study {study.slug!r}; "
            f"check the code (letters and digits, e.g. P-7Q3M).",
            extra={"study": study.slug, "participant": code},
        )
    return found


def participant_protocol(participant: Participant) -> Protocol:
    """The protocol the participant started on (amendments after that do not apply to them)."""
    return protocol_version_load(participant.protocol_version).protocol


def schedule_reveals_allocation(protocol: Protocol) -> bool:
    """True when phase lengths differ between sequences, so that dates alone tell the arm.

    The LDN example gives 84 days of LDN and 28 of placebo: a blinded reader who sees that
    period 1 lasts 84 days knows the participant's sequence. Pages for blinded roles should then
    show a participant's planned phases only up to the current one (the pharmacist, unblinded,
    plans dispensing from the whole schedule).

    >>> from diarytrial.protocol import load_example
    >>> schedule_reveals_allocation(load_example("ldn-fibromyalgia").protocol)
    True
    >>> schedule_reveals_allocation(load_example("nof1-ldn").protocol)
    False
    """
    shapes = {
        tuple((t.kind, t.days) for t in protocol.phase_templates(sequence))
        for sequence in protocol.sequences
    }
    return len(shapes) > 1


def participant_today(participant: Participant, *, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the participant's own time zone."""
    moment = now or timezone.now()
    return moment.astimezone(zoneinfo.ZoneInfo(participant.timezone)).date()


def participant_schedule(*, participant: Participant) -> list[ParticipantPhase]:
    """The planned phases (without arms), in order; empty before randomization."""
    return list(ParticipantPhase.objects.filter(participant=participant).order_by("index"))


@dataclass(frozen=True)
class ParticipantDetail:
    """Everything a blinded page shows about one participant."""

    participant: Participant
    eligibility_answers: tuple[EligibilityAnswer, ...]
    consents: tuple[Consent, ...]
    dose_level_changes: tuple[DoseLevelChange, ...]
    phases: tuple[ParticipantPhase, ...]

    def phase_on(self, day: dt.date) -> ParticipantPhase | None:
        """The planned phase `day` falls in, or None outside the schedule."""
        for phase in self.phases:
            if phase.start <= day <= phase.end:
                return phase
        return None


def participant_detail(*, participant: Participant) -> ParticipantDetail:
    """The participant with their screening, consents, dose levels and planned schedule."""
    return ParticipantDetail(
        participant=participant,
        eligibility_answers=tuple(
            EligibilityAnswer.objects.filter(participant=participant).order_by("id")
        ),
        consents=tuple(
            Consent.objects.filter(participant=participant)
            .select_related("obtained_by")
            .order_by("consented_on", "id")
        ),
        dose_level_changes=tuple(
            DoseLevelChange.objects.filter(participant=participant).order_by("effective_on", "id")
        ),
        phases=tuple(participant_schedule(participant=participant)),
    )
