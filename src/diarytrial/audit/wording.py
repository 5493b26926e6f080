"""How an audit event reads to a person: one sentence, and its changes in words.

    Coordinator jsmith corrected the diary of 3 March 2026 of participant P-ZMXD:
    Pain from 62 to 26. Reason: transposed digits.

The trail is the lowest layer of the live system, so it knows no record of the apps above it.
Each app says how its records read, in its ``AppConfig.ready()``, the way apps register lock
checks with ``studies.readiness``:

- `register_record_wording`: a record type's noun, its fields' labels, the labels of its coded
  values, verbs that read better than the action's (a staff UPDATE of a diary entry "corrected"
  it), and a phrase naming one record from the event alone (no query);
- `register_study_labels`: the labels a study's protocol gives to codes (diary items, side
  effects of the checklist, screening questions), read once per study shown;
- `register_actor_roles`: the role each acting user holds in a study, read once per page.

`AuditReading` words a batch of events with a fixed number of queries (one per study for its
labels, one for the roles), whatever the number of events. Values pass through
``audit.redaction`` first, so a blinded reader's wording holds no allocation. A record type,
field or action nobody registered still reads (its code, made readable) and never fails;
`wording_gaps` names them, and tests/audit/test_wording.py fails on any the code writes.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.redaction import HIDDEN, redacted_changes
from diarytrial.audit.services import SYSTEM
from diarytrial.core.moments import moment_text

logger = logging.getLogger(__name__)

ACTION_VERBS: Mapping[str, str] = {
    AuditAction.CREATE: "recorded",
    AuditAction.UPDATE: "changed",
    AuditAction.REMOVE: "removed",
    AuditAction.READ: "read",
    AuditAction.UNBLIND: "unblinded",
    AuditAction.LOCK: "locked",
    AuditAction.UNLOCK: "unlocked",
    AuditAction.EXPORT: "exported",
    AuditAction.TWO_STEP_ADD: "added the two-step device",
    AuditAction.TWO_STEP_REMOVE: "removed the two-step device",
    AuditAction.PIN_WRONG: "entered a wrong PIN on",
    AuditAction.PIN_LOCKOUT: "was locked out by wrong PINs on",
    AuditAction.INVITE: "invited",
    AuditAction.GRANT: "granted",
    AuditAction.REVOKE: "revoked",
    AuditAction.DEACTIVATE: "deactivated",
    AuditAction.SIGN: "signed",
    AuditAction.SIGN_FAILED: "failed to sign",
    AuditAction.SIGN_LOCKOUT: "was locked out of signing",
}
"""The verb of each action when a record type names none of its own."""

CHANGES_IN_SENTENCE = 3
"""An update with at most this many changes says them in its sentence."""

Phrase = Callable[[AuditEvent], str]
StudyLabels = Callable[[str], Mapping[str, str]]
ActorRoles = Callable[[str, Collection[int]], Mapping[int, str]]


@dataclass(frozen=True)
class RecordWording:
    """How the events of one record type read.

    `fields` label the changed fields; `prefixes` label a family of fields (``answers.pain``)
    whose rest is a code the study's labels name (``answers.pain`` -> "Pain"), the prefix's
    label being the fallback's noun; `values` label coded values of a field (``{"status":
    {"randomized": "randomized"}}``); `study_values` look a field's value up in the study's
    labels under a prefix (a side effect's id under ``side_effects.``); `verbs` replace the
    action's verb; `phrase` names the record from the event (default: noun and stored name).
    """

    object_type: str
    noun: str
    fields: Mapping[str, str] = field(default_factory=dict)
    prefixes: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    study_values: Mapping[str, str] = field(default_factory=dict)
    verbs: Mapping[str, str] = field(default_factory=dict)
    phrase: Phrase | None = None


_RECORDS: dict[str, RecordWording] = {}
_STUDY_LABELS: list[StudyLabels] = []
_ACTOR_ROLES: list[ActorRoles] = []


def register_record_wording(wording: RecordWording) -> None:
    """Say how events of `wording.object_type` read.

    A type registered already is extended: an app that writes events about another app's record
    (the export, about the study) adds its fields, values and verbs; the first noun and phrase
    stay.
    """
    known = _RECORDS.get(wording.object_type)
    if known is not None:
        wording = RecordWording(
            object_type=known.object_type,
            noun=known.noun,
            fields={**known.fields, **wording.fields},
            prefixes={**known.prefixes, **wording.prefixes},
            values={**known.values, **wording.values},
            study_values={**known.study_values, **wording.study_values},
            verbs={**known.verbs, **wording.verbs},
            phrase=known.phrase or wording.phrase,
        )
    _RECORDS[wording.object_type] = wording


def register_study_labels(source: StudyLabels) -> None:
    """Add a source of a study's labels of codes (keys such as ``answers.pain``)."""
    if source not in _STUDY_LABELS:
        _STUDY_LABELS.append(source)


def register_actor_roles(source: ActorRoles) -> None:
    """Add a source of the role (a word such as "Coordinator") of users in a study."""
    if source not in _ACTOR_ROLES:
        _ACTOR_ROLES.append(source)


def choice_words(choices: Iterable[tuple[Any, Any]]) -> dict[str, str]:
    """A model's choices as words for a sentence: ``{"not_recovered": "not recovered"}``."""
    return {str(value): str(label)[:1].lower() + str(label)[1:] for value, label in choices}


def change_value(event: AuditEvent, name: str) -> Any:
    """The new (else old) value of the field `name` in `event`'s stored changes, or None."""
    for change in event.changes if isinstance(event.changes, list) else []:
        if isinstance(change, dict) and change.get("field") == name:
            return change.get("new") if change.get("new") is not None else change.get("old")
    return None


def registered_record_types() -> frozenset[str]:
    """Every record type whose wording is registered."""
    return frozenset(_RECORDS)


def record_wording(object_type: str) -> RecordWording | None:
    """The registered wording of `object_type`, if any."""
    return _RECORDS.get(object_type)


def readable(code: str) -> str:
    """A code made readable when nobody named it: ``from_diary_entry`` -> "from diary entry"."""
    return code.replace("_", " ").replace(".", " ").strip()


def record_noun(object_type: str) -> str:
    """The noun of a record type ("adverse event"); its model name when none is registered."""
    wording = _RECORDS.get(object_type)
    return wording.noun if wording else readable(object_type.rpartition(".")[2])


def action_verb(object_type: str, action: str) -> str:
    """What the actor did, in words ("corrected", "recorded")."""
    wording = _RECORDS.get(object_type)
    if wording is not None and action in wording.verbs:
        return wording.verbs[action]
    return ACTION_VERBS.get(action, readable(action))


def wording_gaps(event: AuditEvent) -> list[str]:
    """What of `event` has no wording: its action, its record type, its fields (empty: none)."""
    gaps: list[str] = []
    if event.action not in ACTION_VERBS:
        gaps.append(f"action {event.action}")
    wording = _RECORDS.get(event.object_type)
    if wording is None:
        return [*gaps, f"record type {event.object_type}"]
    for change in event.changes or []:
        name = str(change.get("field", ""))
        if name not in wording.fields and not any(name.startswith(p) for p in wording.prefixes):
            gaps.append(f"field {name} of {event.object_type}")
    return gaps


# --- wording a batch of events ------------------------------------------------------------------


@dataclass(frozen=True)
class WordedChange:
    """One changed field in words; `hidden` when redaction hid its values."""

    label: str
    old: str
    new: str
    hidden: bool

    def __str__(self) -> str:
        if self.old == "" or self.old == NOTHING:
            return f"{self.label}: {self.new}" if self.new != NOTHING else f"{self.label} cleared"
        return f"{self.label} from {self.old} to {self.new}"


@dataclass(frozen=True)
class WordedEvent:
    """An event as a person reads it: the sentence, and its parts for tables and exports."""

    event: AuditEvent
    sentence: str
    actor: str
    verb: str
    record: str
    participant: str
    changes: tuple[WordedChange, ...]

    @property
    def details(self) -> str:
        """Every change in one line: ``Pain from 62 to 26; Fatigue 3``."""
        return "; ".join(str(change) for change in self.changes)


NOTHING = "nothing"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


def date_words(day: dt.date) -> str:
    """``3 March 2026``."""
    return f"{day.day} {day:%B %Y}"


class AuditReading:
    """Words events for one reader: in `zone`, redacted unless `unblinded`.

    The labels of the studies the events belong to and the roles of their actors are read once,
    on the first event of each study: a page of any length costs the same queries. Without
    `lookups` nothing is read (a template filter words one event at a time): codes the
    protocol names read as "item pain", and actors without their role.
    """

    def __init__(
        self, *, zone: zoneinfo.ZoneInfo | str | None, unblinded: bool, lookups: bool = True
    ) -> None:
        self.zone = zone
        self.unblinded = unblinded
        self.lookups = lookups
        self._labels: dict[str, dict[str, str]] = {}
        self._roles: dict[str, dict[int, str]] = {}
        self._asked: dict[str, set[int]] = {}

    def prepare(self, events: Iterable[AuditEvent]) -> None:
        """Read the labels and roles the events need, in one go per study."""
        if not self.lookups:
            return
        actors: dict[str, set[int]] = {}
        for event in events:
            if event.actor_id is not None:
                actors.setdefault(event.study_slug, set()).add(event.actor_id)
            actors.setdefault(event.study_slug, set())
        for slug, ids in actors.items():
            if slug not in self._labels:
                labels: dict[str, str] = {}
                for source in _STUDY_LABELS if slug else []:
                    labels.update(_safely(source, {}, slug))
                self._labels[slug] = labels
            asked = self._asked.setdefault(slug, set())
            missing = ids - asked
            if missing and slug:
                asked.update(missing)  # a user with no role is not asked about again
                roles = self._roles.setdefault(slug, {})
                for role_source in _ACTOR_ROLES:
                    roles.update(_safely(role_source, {}, slug, missing))

    def word_all(self, events: Sequence[AuditEvent]) -> list[WordedEvent]:
        """Every event of `events` in words, in their order."""
        self.prepare(events)
        return [self.word(event) for event in events]

    def word(self, event: AuditEvent) -> WordedEvent:
        """`event` in words; nothing unknown makes it fail."""
        self.prepare([event])
        wording = _RECORDS.get(event.object_type)
        labels = self._labels.get(event.study_slug, {})
        actor = self._actor(event)
        verb = action_verb(event.object_type, event.action)
        record = self._record(event, wording)
        concerning = event.participant_code
        stored = self._changes(event)
        if event.action == AuditAction.CREATE:  # a new record's empty fields say nothing
            stored = [c for c in stored if c.get("new") not in (None, "", [], {})]
        changes = tuple(self._change(c, wording, labels) for c in stored)
        about = ""
        if concerning and event.object_type != "participants.participant":
            about = f" of participant {concerning}"
        sentence = f"{actor} {verb} {record}{about}"
        updated = event.action in (AuditAction.UPDATE, AuditAction.REMOVE)
        if updated and 0 < len(changes) <= CHANGES_IN_SENTENCE:
            sentence += ": " + "; ".join(str(c) for c in changes)
        sentence += "."
        reason = event.reason.strip()
        if reason:
            sentence += f" Reason: {reason}" + ("" if reason.endswith((".", "!", "?")) else ".")
        return WordedEvent(
            event=event,
            sentence=sentence,
            actor=actor,
            verb=verb,
            record=record,
            participant=concerning,
            changes=changes,
        )

    def _actor(self, event: AuditEvent) -> str:
        label = event.actor_label
        if event.actor_id is None:
            if label == SYSTEM or not label:
                return SYSTEM_WORDS
            if event.participant_code and label == event.participant_code:
                return f"Participant {label} (on their phone)"
            return label
        role = self._roles.get(event.study_slug, {}).get(event.actor_id)
        return f"{role} {label}" if role else label

    def _record(self, event: AuditEvent, wording: RecordWording | None) -> str:
        if wording is not None and wording.phrase is not None:
            phrase = _safely(wording.phrase, "", event)
            if phrase:
                return str(phrase)
        noun = wording.noun if wording else readable(event.object_type.rpartition(".")[2])
        if event.object_type == "participants.participant":
            return f"participant {event.participant_code or event.object_repr}"
        return f"{noun} {event.object_id}"

    def _changes(self, event: AuditEvent) -> list[dict[str, Any]]:
        if not isinstance(event.changes, list):
            return []
        rows = _safely(lambda: redacted_changes(event, unblinded=self.unblinded), [])
        return [row for row in rows if isinstance(row, dict)]

    def _change(
        self, change: Mapping[str, Any], wording: RecordWording | None, labels: Mapping[str, str]
    ) -> WordedChange:
        name = str(change.get("field", ""))
        old, new = change.get("old"), change.get("new")
        hidden = HIDDEN in (old, new)
        return WordedChange(
            label=self._label(name, wording, labels),
            old="" if old is None else self._value(name, old, wording, labels),
            new=self._value(name, new, wording, labels),
            hidden=hidden,
        )

    def _label(self, name: str, wording: RecordWording | None, labels: Mapping[str, str]) -> str:
        if wording is not None:
            if name in wording.fields:
                return wording.fields[name]
            for prefix, noun in wording.prefixes.items():
                if name.startswith(prefix):
                    code = name[len(prefix) :]
                    return labels.get(name) or f"{noun} {readable(code)}"
        return readable(name).capitalize()

    def _value(
        self, name: str, value: Any, wording: RecordWording | None, labels: Mapping[str, str]
    ) -> str:
        if value is None:
            return NOTHING
        if value == HIDDEN:
            return HIDDEN
        if wording is not None:
            coded = wording.values.get(name)
            if coded is None:
                family = next((p for p in wording.prefixes if name.startswith(p)), None)
                coded = wording.values.get(family) if family else None
            if coded is not None and isinstance(value, str | int | bool) and str(value) in coded:
                return coded[str(value)]
            prefix = wording.study_values.get(name)
            if prefix is not None and isinstance(value, str) and f"{prefix}{value}" in labels:
                return labels[f"{prefix}{value}"]
        return self.value_text(value)

    def value_text(self, value: Any) -> str:
        """A stored JSON value in words: dates spelled out, moments in the reader's zone."""
        if value is None:
            return NOTHING
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, list):
            return ", ".join(self.value_text(v) for v in value) or NOTHING
        if isinstance(value, dict):
            return ", ".join(f"{k}: {self.value_text(v)}" for k, v in value.items()) or NOTHING
        if isinstance(value, str):
            if _DATE.fullmatch(value):
                try:
                    return date_words(dt.date.fromisoformat(value))
                except ValueError:
                    return value
            if _MOMENT.fullmatch(value):
                try:
                    return moment_text(dt.datetime.fromisoformat(value), self.zone)
                except ValueError:
                    return value
            return value if value else "(empty)"
        return str(value)


SYSTEM_WORDS = "The system"


def _safely(compute: Callable[..., Any], fallback: Any, *args: Any) -> Any:
    """What `compute(*args)` returns; `fallback` when a registered wording fails on odd stored
    data (logged), so that a page of the trail always shows; the stored event stays as it is."""
    try:
        return compute(*args)
    except Exception:
        logger.exception("audit wording failed: %r", compute)
        return fallback
