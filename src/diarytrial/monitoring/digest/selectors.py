"""Reads of the daily digest: who gets it, and what it says.

What it says is blinded: participant codes, nights and counts, never an arm or a period.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from diarytrial.monitoring.models import DigestDelivery, DigestSchedule, DigestSubscription
from diarytrial.monitoring.selectors import positions_now
from diarytrial.studies.access import memberships_current
from diarytrial.studies.models import Role, Site, Study, StudyMembership
from diarytrial.studies.readiness import ReadinessItem, lock_readiness

DIGEST_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR)
"""The roles that may get a site's digest: the site team."""

SUBSCRIBED_BY_DEFAULT = {Role.COORDINATOR: True, Role.INVESTIGATOR: False}
"""Without a choice of their own, coordinators get the digest and investigators do not."""


def digest_subscribed(membership: StudyMembership) -> bool:
    """Whether `membership` gets the digest: its own choice, else its role's default."""
    try:
        return membership.digest_subscription.subscribed
    except DigestSubscription.DoesNotExist:
        return SUBSCRIBED_BY_DEFAULT.get(Role(membership.role), False)


def digest_recipients(*, site: Site) -> list[User]:
    """The active site-team members of `site` (their membership lists it, or lists no site)
    who get the digest and have an e-mail address, by username."""
    memberships = (
        StudyMembership.objects.filter(
            study_id=site.study_id, active=True, role__in=DIGEST_ROLES, user__is_active=True
        )
        .exclude(user__email="")
        .filter(Q(sites=site) | Q(sites__isnull=True))
        .select_related("user", "digest_subscription")
        .distinct()
        .order_by("user__username")
    )
    return [
        membership.user
        for membership in memberships_current(memberships)
        if digest_subscribed(membership)
    ]


@dataclass(frozen=True)
class MissedLine:
    """A participant who missed last night: how many nights in a row, and their last entry."""

    code: str
    in_a_row: int
    last_entry: dt.date | None


@dataclass(frozen=True)
class DigestContent:
    """One site's digest of one morning."""

    site: Site
    local_date: dt.date
    missed: tuple[MissedLine, ...]
    """Participants whose last due night is missed, the longest run first."""
    pending: tuple[ReadinessItem, ...]
    """The open items of the lock checklist at this site."""

    @property
    def flagged(self) -> tuple[MissedLine, ...]:
        """Those with 2 or more missed nights in a row."""
        return tuple(line for line in self.missed if line.in_a_row >= 2)

    @property
    def has_news(self) -> bool:
        return bool(self.missed or self.pending)


def digest_content(*, site: Site, now: dt.datetime | None = None) -> DigestContent:
    """What `site`'s digest says at `now`, in a few queries however many participants.

    Who missed what is the study dashboard's reading (`monitoring.selectors.positions_now`):
    the last night due is the last whose window has closed in the participant's own zone, and
    a run of missed nights counts back from it to the last entry.
    """
    moment = now or timezone.now()
    schedule = DigestSchedule.objects.filter(site=site).first()
    zone = schedule.timezone if schedule else "UTC"
    local_date = timezone.localtime(moment, zoneinfo.ZoneInfo(zone)).date()
    missed = [
        MissedLine(position.code, position.missed_run, position.last_entry)
        for position in positions_now(study=site.study, sites=[site], now=moment)
        if position.missed_run
    ]
    missed.sort(key=lambda line: (-line.in_a_row, line.code))
    pending = tuple(item for item in lock_readiness(site.study, sites=[site]) if item.open)
    return DigestContent(site=site, local_date=local_date, missed=tuple(missed), pending=pending)


def digest_schedules(*, study: Study) -> list[tuple[Site, DigestSchedule | None]]:
    """Each site of `study` with its digest schedule (None: no digest is sent)."""
    sites = Site.objects.filter(study=study).select_related("digest_schedule").order_by("code")
    result = []
    for site in sites:
        try:
            schedule: DigestSchedule | None = site.digest_schedule
        except DigestSchedule.DoesNotExist:
            schedule = None
        result.append((site, schedule))
    return result


def digest_deliveries_recent(*, study: Study, limit: int = 14) -> list[DigestDelivery]:
    """The latest digests of `study`'s sites, newest first."""
    return list(
        DigestDelivery.objects.filter(site__study=study)
        .select_related("site")
        .order_by("-local_date", "site__code")[:limit]
    )
