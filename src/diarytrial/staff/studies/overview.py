"""Reads for the staff pages of a study: the list of a user's studies, and a study's home page."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Prefetch

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.selectors import audit_history
from diarytrial.participants.selectors import StatusCount, participant_status_counts
from diarytrial.studies.access import (
    is_unblinded,
    memberships_current,
    sites_visible_to,
    studies_visible_to,
)
from diarytrial.studies.models import ProtocolVersion, Role, Site, Study, StudyMembership


@dataclass(frozen=True)
class StudyListing:
    """A study on the user's list, with the role the user has in it."""

    study: Study
    role_label: str


def study_listings_for(user: User) -> list[StudyListing]:
    """The studies `user` works on, by slug, each with their role (the superuser: every study)."""
    roles = dict(
        StudyMembership.objects.filter(user=user, active=True).values_list("study_id", "role")
    )
    listings = []
    for study in studies_visible_to(user):
        role = roles.get(study.pk)
        label = Role(role).label if role else f"{Role.ADMINISTRATOR.label} (superuser)"
        listings.append(StudyListing(study=study, role_label=label))
    return listings


@dataclass(frozen=True)
class RoleMembers:
    """The members of a study who have one role."""

    role: Role
    members: list[StudyMembership]


@dataclass(frozen=True)
class StudyOverview:
    """What a study's home page shows, as it is recorded now."""

    study: Study
    protocol_versions: list[ProtocolVersion]
    sites: list[Site]
    members_by_role: list[RoleMembers]
    history: list[AuditEvent]
    participant_counts: list[StatusCount]
    unblinded: bool

    @property
    def current_protocol(self) -> ProtocolVersion | None:
        """The version with the highest number."""
        return self.protocol_versions[-1] if self.protocol_versions else None


def study_overview(*, study: Study, user: User) -> StudyOverview:
    """The study's protocol versions, the sites `user` sees, its members by role, its history,
    the participants of those sites by status, and whether `user` may see allocation.

    A fixed number of queries, however many versions, sites and members there are.
    """
    versions = list(
        ProtocolVersion.objects.filter(study=study).select_related("created_by").order_by("number")
    )
    memberships = memberships_current(
        StudyMembership.objects.filter(study=study, active=True)
        .select_related("user")
        .prefetch_related(Prefetch("sites", queryset=Site.objects.order_by("code")))
        .order_by("user__username")
    )
    members_by_role = [
        RoleMembers(role=role, members=[m for m in memberships if m.role == role]) for role in Role
    ]
    sites = sites_visible_to(user, study)
    return StudyOverview(
        study=study,
        protocol_versions=versions,
        sites=list(sites),
        members_by_role=[group for group in members_by_role if group.members],
        history=list(audit_history(study)),
        participant_counts=participant_status_counts(study=study, sites=sites),
        unblinded=is_unblinded(user, study),
    )
