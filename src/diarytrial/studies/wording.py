"""How the audit events of studies, protocol versions, sites and roles read (``audit.wording``);
and the two sources every study's wording reads: the protocol's labels of its codes, and the
roles of the acting users."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.audit.wording import (
    RecordWording,
    change_value,
    choice_words,
    register_actor_roles,
    register_record_wording,
    register_study_labels,
)
from diarytrial.studies.models import Role, Study, StudyMembership
from diarytrial.studies.selectors import protocol_version_load, study_current_protocol

_VERSION = re.compile(r"protocol v(\d+)$")


def _version_phrase(event: AuditEvent) -> str:
    found = _VERSION.search(event.object_repr)
    return f"protocol version {found.group(1)}" if found else "a protocol version"


def _site_phrase(event: AuditEvent) -> str:
    return f"site {event.object_repr.rpartition('/')[2]}"


def _membership_phrase(event: AuditEvent) -> str:
    role, user = change_value(event, "role"), change_value(event, "user")
    if role and user:
        return f"the {choice_words(Role.choices).get(str(role), role)} role of {user}"
    return f"study role {event.object_id}"


def study_labels(slug: str) -> Mapping[str, str]:
    """The labels the study's current protocol gives to its codes: diary items
    (``answers.<id>``), side effects (``side_effects.<id>``), screening questions
    (``eligibility.<id>``)."""
    study = Study.objects.filter(slug=slug).first()
    if study is None:
        return {}
    protocol = protocol_version_load(study_current_protocol(study)).protocol
    labels = {f"answers.{item.id}": item.label for item in protocol.diary.items}
    labels.update({f"side_effects.{s.id}": s.label for s in protocol.diary.side_effects})
    labels.update({f"eligibility.{q.id}": q.question for q in protocol.eligibility})
    return labels


def actor_roles(slug: str, user_ids: Collection[int]) -> Mapping[int, str]:
    """The role each of `user_ids` holds in the study, one query (one role per user and
    study; the role they hold now, or held last)."""
    rows = (
        StudyMembership.objects.filter(study__slug=slug, user_id__in=list(user_ids))
        .order_by("active", "id")
        .values_list("user_id", "role")
    )
    words = dict(Role.choices)
    return {user_id: str(words.get(role, role)) for user_id, role in rows}


def register() -> None:
    """Register the wording of the records of `studies` (from ``StudiesConfig.ready``)."""
    register_record_wording(
        RecordWording(
            object_type="studies.study",
            noun="study",
            phrase=lambda event: f"study {event.object_repr}",
            fields={
                "title": "Title",
                "locked_at": "Locked at",
                "lock_override_reason": "Locked despite open items, because",
                "open_at_lock": "Open items at the lock",
            },
        )
    )
    register_record_wording(
        RecordWording(
            object_type="studies.protocolversion",
            noun="protocol version",
            phrase=_version_phrase,
            fields={"number": "Version", "sha256": "SHA-256", "source": "File"},
        )
    )
    register_record_wording(
        RecordWording(
            object_type="studies.site",
            noun="site",
            phrase=_site_phrase,
            fields={"code": "Code", "name": "Name", "timezone": "Time zone"},
        )
    )
    register_record_wording(
        RecordWording(
            object_type="studies.studymembership",
            noun="study role",
            phrase=_membership_phrase,
            fields={
                "user": "User",
                "role": "Role",
                "sites": "Sites",
                "active": "Active",
                "ends_on": "Ends on",
            },
            values={"role": choice_words(Role.choices)},
            verbs={AuditAction.CREATE: "granted"},
        )
    )
    register_study_labels(study_labels)
    register_actor_roles(actor_roles)
