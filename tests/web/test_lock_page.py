"""The lock page's checklist: each item with its count, what to do and where; the lock button
when nothing holds the lock back, otherwise a warning and the override reason."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tests.builders import (
    client_for,
    make_adverse_event,
    make_member,
    make_participant,
    make_site,
    make_study,
)

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_today
from diarytrial.participants.services import participant_withdraw
from diarytrial.studies.models import Role, Site, Study

pytestmark = pytest.mark.django_db

OVERRIDE = "Sponsor ended the trial; the open participant is reported as lost to follow-up."


@pytest.fixture
def study() -> Study:
    return make_study()


@pytest.fixture
def sites(study: Study) -> tuple[Site, Site]:
    return make_site(study=study, code="north"), make_site(study=study, code="south")


PASSWORD = "lock and key 42"
SIGN = {"password": PASSWORD, "meaning": "approved"}
"""The administrator's signature on a lock: the password and the meaning."""


def _client(study: Study, role: Role, sites: list[Site] | None = None) -> Client:
    return client_for(make_member(study=study, role=role, sites=sites, password=PASSWORD).user)


def _page(study: Study, action: str = "database") -> str:
    return reverse(f"exports:{action}", kwargs={"study": study.slug})


def _rows(html: str) -> dict[str, str]:
    """Each checklist row's label (link text or plain) and its count cell, as text."""
    table = re.search(r'<table class="checklist">(.*?)</table>', html, re.S)
    assert table is not None, "no checklist on the page"
    rows = {}
    for label, count in re.findall(
        r'<th scope="row">(.*?)</th>\s*<td>(.*?)</td>', table.group(1), re.S
    ):
        rows[re.sub(r"<[^>]+>", "", label).strip()] = re.sub(r"<[^>]+>", "", count).strip()
    return rows


def _withdraw(participant: Participant) -> None:
    participant_withdraw(
        participant=participant, reason="moved", on=participant_today(participant), actor=None
    )


def test_the_checklist_counts_each_item_links_it_and_offers_the_override(
    study: Study, sites: tuple[Site, Site]
) -> None:
    north, south = sites
    open_one = make_participant(study=study, site=north)
    make_participant(study=study, site=south)
    make_adverse_event(participant=open_one, outcome="unknown")
    administrator = _client(study, Role.ADMINISTRATOR)

    html = administrator.get(_page(study)).text

    assert _rows(html) == {
        "Participants neither completed nor withdrawn": "2",
        "Side effects awaiting review": "0 (done)",
        "Adverse events without an outcome": "1",
        "Data queries not closed": "0 (done)",
        "Missing end-of-period answers (PGIC, blinding guess)": "0 (done)",
    }
    participants = reverse("participants:list", kwargs={"study": study.slug})
    assert f'href="{participants}?status=enrolled&amp;status=randomized&amp;status=active"' in html
    assert "mark them completed after their last diary day" in html
    events = reverse("adverse_events:list", kwargs={"study": study.slug})
    assert f'href="{events}?unresolved=on"' in html
    assert f'href="{reverse("queries:list", kwargs={"study": study.slug})}"' in html
    assert "The study is not ready to lock:" in html
    assert "2 participants neither completed nor withdrawn" in html
    assert 'name="override_reason"' in html
    assert "Sign and lock with items open</button>" in html
    # The administrator may not open the side-effects page: no link to it.
    assert reverse("side_effects:list", kwargs={"study": study.slug}) not in html


def test_a_coordinator_sees_the_counts_of_their_sites_and_the_side_effects_link(
    study: Study, sites: tuple[Site, Site]
) -> None:
    north, south = sites
    make_participant(study=study, site=north)
    make_participant(study=study, site=south)
    make_participant(study=study, site=south)

    html = _client(study, Role.COORDINATOR, [north]).get(_page(study)).text

    assert _rows(html)["Participants neither completed nor withdrawn"] == "1"
    assert "(at your sites)" in html
    assert reverse("side_effects:list", kwargs={"study": study.slug}) in html
    assert "override_reason" not in html  # only the administrator locks


def test_when_ready_the_plain_lock_button_locks(study: Study, sites: tuple[Site, Site]) -> None:
    _withdraw(make_participant(study=study, site=sites[0]))
    administrator = _client(study, Role.ADMINISTRATOR)

    html = administrator.get(_page(study)).text
    locked = administrator.post(_page(study, "lock"), {"reason": "last visit done", **SIGN})

    assert "not ready to lock" not in html
    assert "override_reason" not in html
    assert "Sign and lock the database</button>" in html
    assert locked.status_code == 302
    study.refresh_from_db()
    assert study.locked_at is not None
    assert study.lock_override_reason == ""
    after = administrator.get(_page(study)).text
    assert 'class="checklist"' not in after
    assert "Sign and unlock</button>" in after
    assert "The database is locked for analysis since" in after


def test_without_an_override_the_refusal_lists_the_open_items(
    study: Study, sites: tuple[Site, Site]
) -> None:
    make_participant(study=study, site=sites[0])
    administrator = _client(study, Role.ADMINISTRATOR)

    refused = administrator.post(_page(study, "lock"), {"reason": "last visit done", **SIGN})

    assert refused.status_code == 200
    assert "not ready to lock; still open: Participants neither completed nor withdrawn: 1" in (
        refused.text
    )
    study.refresh_from_db()
    assert study.locked_at is None


@pytest.mark.parametrize("hostile", ["x" * 5000, "\x00", "   "])
def test_hostile_override_reasons_are_refused_plainly(
    study: Study, sites: tuple[Site, Site], hostile: str
) -> None:
    make_participant(study=study, site=sites[0])
    administrator = _client(study, Role.ADMINISTRATOR)

    response = administrator.post(
        _page(study, "lock"), {"reason": "lock", "override_reason": hostile, **SIGN}
    )

    assert response.status_code == 200
    assert 'class="form-errors"' in response.text or "errorlist" in response.text
    study.refresh_from_db()
    assert study.locked_at is None


def test_an_override_locks_and_the_page_shows_it(study: Study, sites: tuple[Site, Site]) -> None:
    make_participant(study=study, site=sites[0])
    administrator = _client(study, Role.ADMINISTRATOR)
    statistician = _client(study, Role.STATISTICIAN)

    locked = administrator.post(
        _page(study, "lock"),
        {"reason": "last visit done", "override_reason": OVERRIDE, **SIGN},
    )

    assert locked.status_code == 302
    study.refresh_from_db()
    assert study.lock_override_reason == OVERRIDE
    event = AuditEvent.objects.get(study_slug=study.slug, action=AuditAction.LOCK)
    assert {"field": "open_at_lock", "old": None, "new": {"open_participants": 1}} in (
        event.changes
    )
    html = administrator.get(_page(study)).text
    assert "Locked with items of the lock checklist still open." in html
    assert OVERRIDE in html
    assert "participants neither completed nor withdrawn: 1" in html
    # Every reader sees it, the statistician too.
    assert OVERRIDE in statistician.get(_page(study)).text


def test_the_page_reads_a_few_queries_whatever_the_number_of_participants(
    study: Study, sites: tuple[Site, Site]
) -> None:
    administrator = _client(study, Role.ADMINISTRATOR)
    make_participant(study=study, site=sites[0])
    administrator.get(_page(study))  # warm the caches of the session and the protocol
    with CaptureQueriesContext(connection) as few:
        administrator.get(_page(study))
    for _ in range(5):
        make_adverse_event(
            participant=make_participant(study=study, site=sites[1]), outcome="unknown"
        )

    with CaptureQueriesContext(connection) as many:
        administrator.get(_page(study))

    assert len(many) == len(few)


def test_the_participants_link_lists_those_still_in_the_trial(
    study: Study, sites: tuple[Site, Site]
) -> None:
    staying = make_participant(study=study, site=sites[0])
    leaving = make_participant(study=study, site=sites[0])
    _withdraw(leaving)
    administrator = _client(study, Role.ADMINISTRATOR)
    html = administrator.get(_page(study)).text
    link = re.search(r'<a href="([^"]*status=enrolled[^"]*)"', html)
    assert link is not None

    listed = administrator.get(link.group(1).replace("&amp;", "&"))

    assert listed.status_code == 200
    assert staying.code in listed.text
    assert leaving.code not in listed.text
