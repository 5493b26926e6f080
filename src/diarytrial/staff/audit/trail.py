"""Who reads which trail, and the trail's rows as a reader sees them.

- Statisticians and administrators read the study's whole trail, and so do investigators whose
  role covers every site (lists none, or all of them).
- Coordinators, and investigators whose role lists some of the sites, read what concerns the
  participants of their sites: events about no participant (roles, the lock, kits in the
  pharmacy) are not theirs.
- Pharmacists do not read the trail here: their unblinded work is audited, and its reading is
  for the others.

Every reader sees it as ``audit.redaction`` allows: values of allocation hidden unless the reader
is unblinded (`is_unblinded`). Times are shown in the page's zone (``studies.zones``): a
participant's trail in their site's, the study's in its sites' zone when they share one, else
UTC.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from diarytrial.audit.models import AuditEvent
from diarytrial.audit.selectors import audit_trail
from diarytrial.audit.wording import AuditReading, WordedEvent
from diarytrial.core.moments import moment_text
from diarytrial.participants.models import Participant
from diarytrial.staff.audit.forms import TrailFilterForm
from diarytrial.studies.access import StudyRequest, is_unblinded, sites_visible_to
from diarytrial.studies.models import Role, Site
from diarytrial.studies.zones import staff_zone

TRAIL_ROLES = (Role.INVESTIGATOR, Role.STATISTICIAN, Role.ADMINISTRATOR, Role.COORDINATOR)
"""Who reads an audit trail; a coordinator only their sites' participants'."""

WHOLE_STUDY_ROLES = (Role.INVESTIGATOR, Role.STATISTICIAN, Role.ADMINISTRATOR)
"""Who reads the study's whole trail (an investigator only when their role covers every
site)."""

PRINT_LIMIT = 5000
"""The most events a PDF holds; more asks the reader to narrow the filter."""


@dataclass(frozen=True)
class TrailScope:
    """What one reader may read of a study's trail, and how it is shown to them."""

    participants: QuerySet[Participant, str] | None
    unblinded: bool
    zone: zoneinfo.ZoneInfo
    sites: tuple[Site, ...]

    @property
    def whole_study(self) -> bool:
        return self.participants is None


def trail_scope(request: StudyRequest, *, site: Site | None = None) -> TrailScope:
    """The reader's scope; `site` sets the zone (a participant's page)."""
    sites = tuple(sites_visible_to(request.user, request.study).order_by("code"))
    codes: QuerySet[Participant, str] | None = None
    role = request.membership.role
    everywhere = role != Role.INVESTIGATOR or len(sites) == request.study.sites.count()
    if role not in WHOLE_STUDY_ROLES or not everywhere:
        codes = Participant.objects.filter(study=request.study, site__in=sites).values_list(
            "code", flat=True
        )
    return TrailScope(
        participants=codes,
        unblinded=is_unblinded(request.user, request.study),
        zone=staff_zone(site=site, sites=sites),
        sites=sites,
    )


def day_start(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first instant of `day` in `zone` (a day the zone skips into starts when it can)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


def trail_events(
    request: StudyRequest, scope: TrailScope, form: TrailFilterForm
) -> QuerySet[AuditEvent]:
    """The events of the study that the reader may see and the (valid) filter selects."""
    data = form.cleaned_data
    since, until = data.get("since"), data.get("until")
    return audit_trail(
        study_slug=request.study.slug,
        participants=scope.participants,
        actor=data.get("who", ""),
        action=data.get("action", ""),
        object_type=data.get("record", ""),
        object_id=data.get("object_id", ""),
        participant=data.get("participant", ""),
        start=day_start(since, scope.zone) if since else None,
        end=day_start(until + dt.timedelta(days=1), scope.zone) if until else None,
    )


def worded(events: Iterable[AuditEvent], scope: TrailScope) -> list[WordedEvent]:
    """The events in words for the reader (one batch: a fixed number of queries)."""
    return AuditReading(zone=scope.zone, unblinded=scope.unblinded).word_all(list(events))


CSV_HEADER = (
    "event_id",
    "occurred_at_utc",
    "occurred_at_local",
    "who",
    "action",
    "record_type",
    "record_id",
    "participant",
    "what",
    "changes",
    "reason",
)
"""The CSV's columns: the stored codes, then the same event in words (`what`, `changes`)."""


def csv_rows(rows: Iterable[WordedEvent], scope: TrailScope) -> Iterator[tuple[object, ...]]:
    """One CSV row per event: as the page words it, with the stored codes beside."""
    for row in rows:
        event = row.event
        yield (
            event.pk,
            event.occurred_at.astimezone(dt.UTC).isoformat(),
            moment_text(event.occurred_at, scope.zone),
            event.actor_label,
            event.action,
            event.object_type,
            event.object_id,
            event.participant_code,
            row.sentence,
            row.details,
            event.reason,
        )
