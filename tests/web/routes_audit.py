"""Route-matrix rows of the audit trail's pages: the study's trail, a participant's, a user's
and a record's, their CSV and PDF, and the chain's check. Investigators, statisticians and
administrators read the study's whole trail, coordinators their sites' participants' (a
participant of their other site is not found: 404); the pharmacist and other users get 403."""

from __future__ import annotations

from django.urls import reverse
from tests.web.matrix import (
    ADMINISTRATOR,
    COORDINATOR,
    INVESTIGATOR,
    STATISTICIAN,
    MatrixWorld,
    RouteCase,
    participant_url,
    study_page,
    study_url,
)

READERS = (COORDINATOR, INVESTIGATOR, STATISTICIAN, ADMINISTRATOR)


def _user_url(world: MatrixWorld) -> str:
    return reverse("audit:user", kwargs={"study": world.study.slug, "username": INVESTIGATOR})


def _record_url(world: MatrixWorld) -> str:
    return reverse(
        "audit:record",
        kwargs={
            "study": world.study.slug,
            "object_type": "participants.participant",
            "object_id": str(world.participant.pk),
        },
    )


ROUTES: dict[str, RouteCase] = {
    "audit:trail": RouteCase(url=study_url("audit:trail"), expected=study_page(allowed=READERS)),
    "audit:csv": RouteCase(url=study_url("audit:csv"), expected=study_page(allowed=READERS)),
    "audit:pdf": RouteCase(url=study_url("audit:pdf"), expected=study_page(allowed=READERS)),
    "audit:verify": RouteCase(url=study_url("audit:verify"), expected=study_page(allowed=READERS)),
    "audit:participant": RouteCase(
        url=participant_url("audit:participant"), expected=study_page(allowed=READERS)
    ),
    "audit:user": RouteCase(url=_user_url, expected=study_page(allowed=READERS)),
    "audit:record": RouteCase(url=_record_url, expected=study_page(allowed=READERS)),
}
