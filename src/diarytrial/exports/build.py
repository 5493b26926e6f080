"""The trial dataset read from the database: one selector per table, and `dataset_build`.

`dataset_build` is not audited and checks only that an unblinded build is asked for by an
unblinded reader; call it through ``exports.services.dataset_export``, which applies the rules
of who may export what and records the EXPORT event.

A blinded build never reads a sequence: it learns only *that* a participant was randomized,
and gives them the blinded schedule of their protocol (``exports.blinding``), the same
whatever their allocation. Every table is read with one query whatever the number of
participants (participants are selected by a subquery, not a list of ids). Rows of a
participant who is not in the scope's list (enrolled while the export ran, when it does not
run in one snapshot) are left out, so that every table names the same participants.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.db.models import QuerySet

from diarytrial.core.errors import PermissionDeniedError
from diarytrial.dataset import TrialDataset
from diarytrial.dataset.tables import (
    ADVERSE_EVENTS,
    BLINDED_CONDITION,
    BLINDING,
    DIARY,
    DOSES,
    PARTICIPANTS,
    PERIODS,
    PGIC,
    SIDE_EFFECTS,
)
from diarytrial.diary.models import BlindingGuess, DiaryAnswer, PgicAnswer, SideEffectReport
from diarytrial.exports.blinding import blinded_schedule, blinded_sequence_codes
from diarytrial.exports.frames import Row, table_frame
from diarytrial.exports.signing import export_signatures, signatures_metadata
from diarytrial.participants.models import DoseLevelChange, Participant, ParticipantPhase
from diarytrial.protocol import Protocol
from diarytrial.protocol.visits import periods_closed, visit_calendar
from diarytrial.randomization.models import Randomization
from diarytrial.safety.models import AdverseEvent, EventStatus
from diarytrial.studies.access import AnyUser, is_unblinded, sites_visible_to
from diarytrial.studies.models import ProtocolVersion, Site, Study
from diarytrial.studies.selectors import (
    protocol_version_load,
    study_current_protocol,
    study_lock_record,
)

GENERATOR = "diarytrial export"


@dataclass(frozen=True)
class ExportScope:
    """Whose data an export holds: the participants, in code order, and their protocols."""

    participants: tuple[Participant, ...]
    selection: QuerySet[Participant]
    """The same participants as a query, for subqueries (``participant__in=selection``)."""
    protocols: Mapping[int, Protocol]
    """The protocol each participant started on, by protocol version id."""

    def protocol_of(self, participant: Participant) -> Protocol:
        return self.protocols[participant.protocol_version_id]

    @property
    def codes(self) -> dict[int, str]:
        return {p.pk: p.code for p in self.participants}


def export_scope(*, study: Study, sites: QuerySet[Site]) -> ExportScope:
    """The participants of `study` at `sites` who were enrolled (they have a first baseline
    day), with the protocol versions they started on.

    People who were only screened have no first baseline day, which the dataset requires; they
    are not in it.
    """
    selection = Participant.objects.filter(
        study=study, site__in=sites.values("pk"), start_date__isnull=False
    )
    participants = tuple(selection.select_related("site").order_by("code"))
    versions = ProtocolVersion.objects.select_related("study").filter(
        pk__in={p.protocol_version_id for p in participants}
    )
    return ExportScope(
        participants=participants,
        selection=selection.values("pk"),  # type: ignore[arg-type]
        protocols={v.pk: protocol_version_load(v).protocol for v in versions},
    )


def randomized_read(scope: ExportScope) -> set[int]:
    """Which of the participants are randomized (blinded-safe: not to what)."""
    return set(
        Randomization.objects.filter(participant__in=scope.selection).values_list(
            "participant_id", flat=True
        )
    )


def sequences_read(scope: ExportScope) -> dict[int, tuple[str, ...]]:
    """Each randomized participant's sequence of arm ids. Unblinded: callers check the reader."""
    rows = Randomization.objects.filter(participant__in=scope.selection).values_list(
        "participant_id", "slot__sequence_code"
    )
    by_id = {p.pk: p for p in scope.participants}
    return {
        pid: scope.protocol_of(by_id[pid]).sequence_from_code(code)
        for pid, code in rows
        if pid in by_id
    }


def participants_rows(scope: ExportScope, sequences: Mapping[int, str]) -> list[Row]:
    """Rows of participants.csv; `sequences` gives the text of the sequence column by id.

    ``randomized_on`` is the participant's own date (in their time zone) at randomization.
    """
    rows: list[Row] = []
    for p in scope.participants:
        randomized_on = (
            p.randomized_at.astimezone(zoneinfo.ZoneInfo(p.timezone)).date()
            if p.randomized_at is not None
            else None
        )
        rows.append(
            (
                p.code,
                p.site.code,
                sequences.get(p.pk),
                p.start_date,
                randomized_on,
                p.timezone,
                p.status,
                p.withdrawn_on,
                p.withdrawal_reason or None,
                p.age,
                p.opioid_use,
            )
        )
    return rows


def periods_rows_unblinded(
    scope: ExportScope, sequences: Mapping[int, tuple[str, ...]]
) -> list[Row]:
    """Rows of periods.csv from the stored planned phases, with each phase's arm and condition."""
    by_id = {p.pk: p for p in scope.participants}
    rows: list[Row] = []
    phases = ParticipantPhase.objects.filter(participant__in=scope.selection).order_by(
        "participant_id", "index"
    )
    for phase in phases:
        participant = by_id.get(phase.participant_id)
        if participant is None or participant.pk not in sequences:
            continue
        templates = scope.protocol_of(participant).phase_templates(sequences[participant.pk])
        template = templates[phase.index] if phase.index < len(templates) else None
        if template is None or (template.kind, template.period) != (phase.kind, phase.period):
            raise RuntimeError(  # the phases were stored from this protocol and sequence
                f"the planned phase {phase.index} of {participant.code} does not match the "
                f"schedule of its protocol and sequence"
            )
        rows.append(
            (
                participant.code,
                phase.index,
                phase.kind,
                phase.period,
                phase.block,
                template.arm,
                template.condition,
                phase.start,
                phase.end,
            )
        )
    return rows


def periods_rows_blinded(scope: ExportScope, randomized: Collection[int]) -> list[Row]:
    """Rows of periods.csv for a blinded export: each randomized participant's blinded schedule
    (no arm; condition ``blinded`` in treatment; phases whose dates differ by sequence merged).
    """
    schedules = {
        version: blinded_schedule(protocol) for version, protocol in scope.protocols.items()
    }
    rows: list[Row] = []
    for participant in scope.participants:
        start = participant.start_date
        if participant.pk not in randomized or start is None:
            continue
        for phase in schedules[participant.protocol_version_id]:
            rows.append(
                (
                    participant.code,
                    phase.index,
                    phase.kind,
                    phase.period,
                    phase.block,
                    None,
                    BLINDED_CONDITION if phase.kind == "treatment" else phase.kind,
                    phase.start(start),
                    phase.end(start),
                )
            )
    return rows


def doses_rows(scope: ExportScope) -> list[Row]:
    """Rows of doses.csv: the blinded dose level from each date on.

    When a level was set twice with effect from one date, the later change is the level from
    that date on (the dataset has one row per participant and date).
    """
    codes = scope.codes
    latest: dict[tuple[int, object], Row] = {}
    changes = DoseLevelChange.objects.filter(participant__in=scope.selection).order_by(
        "participant_id", "effective_on", "id"
    )
    for pid, effective_on, level, reason in changes.values_list(
        "participant_id", "effective_on", "level", "reason"
    ):
        if pid in codes:
            latest[(pid, effective_on)] = (codes[pid], effective_on, level, reason)
    return list(latest.values())


def diary_rows(scope: ExportScope) -> list[Row]:
    """Rows of diary.csv: each answer of each entry, as it stands (after any correction)."""
    codes = scope.codes
    answers = DiaryAnswer.objects.filter(entry__participant__in=scope.selection).values_list(
        "entry__participant_id",
        "entry__diary_date",
        "item",
        "value",
        "entry__received_at",
        "entry__late",
    )
    return [(codes[pid], *rest) for pid, *rest in answers if pid in codes]


def side_effects_rows(scope: ExportScope) -> list[Row]:
    """Rows of side_effects.csv: the side effects ticked in each entry's checklist."""
    codes = scope.codes
    reports = SideEffectReport.objects.filter(entry__participant__in=scope.selection).values_list(
        "entry__participant_id", "entry__diary_date", "side_effect", "unpleasantness"
    )
    return [(codes[pid], *rest) for pid, *rest in reports if pid in codes]


def _visit_periods(
    scope: ExportScope, sequences: Mapping[int, tuple[str, ...]] | None
) -> dict[int, dict[int, int]]:
    """Per participant, the treatment period each visit closes ({visit: period}); nothing for
    a blinded export (`sequences` None), where no answer says which period it closes."""
    if sequences is None:
        return {}
    calendars = {version: visit_calendar(p) for version, p in scope.protocols.items()}
    found: dict[int, dict[int, int]] = {}
    for participant in scope.participants:
        sequence = sequences.get(participant.pk)
        if sequence is not None:
            version = participant.protocol_version_id
            protocol = scope.protocols[version]
            found[participant.pk] = periods_closed(protocol, calendars[version], sequence)
    return found


def pgic_rows(
    scope: ExportScope, sequences: Mapping[int, tuple[str, ...]] | None = None
) -> list[Row]:
    """Rows of pgic.csv: the PGIC answers by visit. With the participants' `sequences`
    (unblinded) each row gives the treatment period its visit closes, if any; without (blinded)
    the period stays empty, since which visits close a period tells the sequence.
    """
    return _answer_rows(scope, sequences, PgicAnswer, "score")


def blinding_rows(
    scope: ExportScope, sequences: Mapping[int, tuple[str, ...]] | None = None
) -> list[Row]:
    """Rows of blinding.csv: the blinding guesses by visit, the period as in `pgic_rows`."""
    return _answer_rows(scope, sequences, BlindingGuess, "guess")


def _answer_rows(
    scope: ExportScope,
    sequences: Mapping[int, tuple[str, ...]] | None,
    model: type[PgicAnswer] | type[BlindingGuess],
    value: str,
) -> list[Row]:
    codes = scope.codes
    closes = _visit_periods(scope, sequences)
    answers = model.objects.filter(participant__in=scope.selection).values_list(
        "participant_id", "visit", "answered_on", value
    )
    return [
        (codes[pid], visit, closes.get(pid, {}).get(visit), answered_on, given)
        for pid, visit, answered_on, given in answers
        if pid in codes
    ]


def adverse_events_rows(scope: ExportScope) -> list[Row]:
    """Rows of adverse_events.csv: the events as recorded now; removed ones are left out.

    ``ae_id`` is ``AE-`` and the event's number in the database, the same in every export.
    """
    codes = scope.codes
    events = AdverseEvent.objects.filter(
        participant__in=scope.selection, status=EventStatus.RECORDED
    ).values_list(
        "pk",
        "participant_id",
        "term",
        "side_effect",
        "onset_date",
        "end_date",
        "severity",
        "serious",
        "related",
        "action",
        "outcome",
    )
    return [
        (codes[pid], f"AE-{pk:06d}", term, side_effect or None, *rest)
        for pk, pid, term, side_effect, *rest in events
        if pid in codes
    ]


def dataset_build(
    *, study: Study, user: AnyUser, blinded: bool, sites: QuerySet[Site] | None = None
) -> TrialDataset:
    """The trial dataset of `study` as `user` may see it (their sites), blinded or not;
    `sites` narrows it to those of them (a certified copy of one site).

    Not audited: use ``exports.services.dataset_export``. Raises PermissionDeniedError for an
    unblinded build by a reader who is not unblinded.
    """
    if not blinded and not is_unblinded(user, study):
        raise PermissionDeniedError(
            "Only an unblinded reader may build an unblinded dataset.",
            extra={"study": study.slug},
        )
    version = study_current_protocol(study)
    visible = sites_visible_to(user, study)
    if sites is not None:
        visible = visible.filter(pk__in=sites.values("pk"))
    scope = export_scope(study=study, sites=visible)
    sequences: dict[int, tuple[str, ...]] | None = None
    if blinded:
        randomized = randomized_read(scope)
        codes = blinded_sequence_codes(p.code for p in scope.participants if p.pk in randomized)
        sequence_text = {p.pk: codes[p.code] for p in scope.participants if p.pk in randomized}
        periods = periods_rows_blinded(scope, randomized)
    else:
        sequences = sequences_read(scope)
        sequence_text = {pid: "-".join(arms) for pid, arms in sequences.items()}
        periods = periods_rows_unblinded(scope, sequences)
    provenance: dict[str, object] = {
        "generator": GENERATOR,
        "study": study.slug,
        "blinded": blinded,
        "protocol_version": version.number,
    }
    seen_sites = list(visible.values_list("code", flat=True))
    if len(seen_sites) != Site.objects.filter(study=study).count():
        provenance["sites"] = seen_sites  # a coordinator's export holds their sites only
    lock = study_lock_record(study)
    if lock is not None:
        provenance["database_lock"] = lock.as_metadata()
    # Each signature with its state now; the emergency unblindings' stay with the unblinding.
    signed = export_signatures(study=study, participants=scope.participants)
    if signed:
        provenance["signatures"] = signatures_metadata(signed)
    return TrialDataset(
        protocol=protocol_version_load(version),
        participants=table_frame(PARTICIPANTS, participants_rows(scope, sequence_text)),
        periods=table_frame(PERIODS, periods),
        diary=table_frame(DIARY, diary_rows(scope)),
        side_effects=table_frame(SIDE_EFFECTS, side_effects_rows(scope)),
        doses=table_frame(DOSES, doses_rows(scope)),
        adverse_events=table_frame(ADVERSE_EVENTS, adverse_events_rows(scope)),
        pgic=table_frame(PGIC, pgic_rows(scope, sequences)),
        blinding=table_frame(BLINDING, blinding_rows(scope, sequences)),
        provenance=provenance,
    )
