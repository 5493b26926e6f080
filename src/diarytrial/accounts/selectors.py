"""Reads of the accounts app: the people of a study as its administrator manages them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import User
from django.db.models import Prefetch
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from diarytrial.accounts.models import Invitation
from diarytrial.core.errors import NotFoundError
from diarytrial.studies.access import membership_ended
from diarytrial.studies.models import Role, Site, Study, StudyMembership


class PersonState(StrEnum):
    """Where a member of the study stands, as the people page says it."""

    CURRENT = "holds the role"
    ENDED = "role ended"
    REVOKED = "role revoked"
    DEACTIVATED = "account deactivated"


@dataclass(frozen=True)
class Person:
    """A member of a study (a role held, ended or revoked), with their account's standing."""

    membership: StudyMembership
    state: PersonState
    pending_invitation: Invitation | None
    """The invitation not used yet, while the account has no password; None once accepted."""
    two_step: bool
    """Whether the account has a confirmed two-step device."""

    @property
    def user(self) -> User:
        return self.membership.user

    @property
    def role_label(self) -> str:
        return Role(self.membership.role).label

    @property
    def invitation_expired(self) -> bool:
        invitation = self.pending_invitation
        return invitation is not None and invitation.expires_at <= timezone.now()


def _state(membership: StudyMembership, now: dt.datetime) -> PersonState:
    if not membership.user.is_active:
        return PersonState.DEACTIVATED
    if not membership.active:
        return PersonState.REVOKED
    if membership_ended(membership, now):
        return PersonState.ENDED
    return PersonState.CURRENT


def _people(memberships: list[StudyMembership]) -> list[Person]:
    users = [m.user_id for m in memberships]
    pending: dict[int, Invitation] = {}
    invitations = Invitation.objects.filter(
        user_id__in=users, used_at__isnull=True, revoked_at__isnull=True
    ).order_by("created_at", "id")
    for invitation in invitations:
        pending[invitation.user_id] = invitation
    confirmed = set(
        TOTPDevice.objects.filter(user_id__in=users, confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    now = timezone.now()
    return [
        Person(
            membership=m,
            state=_state(m, now),
            pending_invitation=None if m.user.has_usable_password() else pending.get(m.user_id),
            two_step=m.user_id in confirmed,
        )
        for m in memberships
    ]


def _memberships(study: Study, **only: object) -> list[StudyMembership]:
    return list(
        StudyMembership.objects.filter(study=study, **only)
        .select_related("user", "study")
        .prefetch_related(Prefetch("sites", queryset=Site.objects.order_by("code")))
        .order_by("user__username")
    )


_ID_LIMIT = 2**63  # ids are 64-bit: a larger number from an address is nobody


def study_people(study: Study) -> list[Person]:
    """Everyone who holds or held a role in `study`, by username; a fixed number of queries
    (and one more per role that ends within a day, to read its sites' zone)."""
    return _people(_memberships(study))


def study_person(study: Study, user_id: int) -> Person:
    """The member `user_id` of `study` (held, ended or revoked role); NotFoundError otherwise."""
    found = _memberships(study, user_id=user_id) if 0 < user_id < _ID_LIMIT else []
    if not found:
        raise NotFoundError(
            f"Nobody with this number has a role in {study.slug!r}: choose them on the "
            f"people page.",
            extra={"study": study.slug},
        )
    return _people(found)[0]


def user_by_username(username: str) -> User | None:
    """The account named `username` (case as typed or not), or None."""
    text = username.strip()
    if not text or len(text) > 150:
        return None
    return User.objects.filter(username__iexact=text).first()
