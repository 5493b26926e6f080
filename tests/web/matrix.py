"""The route matrix's world, roles and row helpers (tests/web/test_route_matrix.py).

Each app's rows live in its own ``routes_*.py`` module beside this one; the test merges them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.conf import settings
from django.contrib.auth.models import User
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse
from tests.builders import (
    make_adverse_event,
    make_allocation,
    make_device,
    make_dispensing,
    make_kits,
    make_member,
    make_participant,
    make_site,
    make_study,
    make_user,
)

from diarytrial.devices.auth import DEVICE_COOKIE
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.studies.models import Role, Site, Study

ANONYMOUS = "anonymous"
NO_ROLE = "no role"  # a signed-in staff user without a membership in the study
COORDINATOR = Role.COORDINATOR.value
INVESTIGATOR = Role.INVESTIGATOR.value
PHARMACIST = Role.PHARMACIST.value
STATISTICIAN = Role.STATISTICIAN.value
ADMINISTRATOR = Role.ADMINISTRATOR.value  # by membership, not the Django superuser

ROLES = (ANONYMOUS, NO_ROLE, COORDINATOR, INVESTIGATOR, PHARMACIST, STATISTICIAN, ADMINISTRATOR)
STUDY_ROLES = (COORDINATOR, INVESTIGATOR, PHARMACIST, STATISTICIAN, ADMINISTRATOR)
SIGNED_IN = (NO_ROLE, *STUDY_ROLES)
PARTICIPANT = "participant"  # a participant's enrolled phone (device cookie, no staff session)
COLUMNS = (*ROLES, PARTICIPANT)
"""Every client a row is tried with. A row may leave PARTICIPANT out: a phone is then expected
to be answered as anonymous is (staff pages know no device)."""


@dataclass
class MatrixWorld:
    """A study with two sites; each role's user and a client signed in as them."""

    study: Study
    sites: list[Site]
    users: dict[str, User | None]
    participant: Participant
    clients: dict[str, Client] = field(default_factory=dict)


def build_world() -> MatrixWorld:
    study = make_study()
    sites = [make_site(study=study, code="stanford"), make_site(study=study, code="boston")]
    users: dict[str, User | None] = {ANONYMOUS: None, NO_ROLE: make_user(username="no_role")}
    for role in Role:
        # The coordinator works at one of the two sites, as most do.
        limited = [sites[0]] if role == Role.COORDINATOR else None
        users[role.value] = make_member(study=study, role=role, sites=limited).user
    participant = make_participant(study=study, site=sites[0])
    world = MatrixWorld(study=study, sites=sites, users=users, participant=participant)
    for name, user in users.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        world.clients[name] = client
    _, token = make_device(participant)
    world.clients[PARTICIPANT] = Client()
    world.clients[PARTICIPANT].cookies[DEVICE_COOKIE] = token
    return world


def everyone(status: int) -> dict[str, int]:
    """The same status for every role, anonymous included."""
    return dict.fromkeys(ROLES, status)


def signed_in_page(status: int = 200) -> dict[str, int]:
    """Any signed-in staff user; anonymous is sent to sign in."""
    return {ANONYMOUS: 302, **dict.fromkeys(SIGNED_IN, status)}


def study_page(
    allowed: tuple[str, ...] = STUDY_ROLES, status: int = 200, refused: int = 403
) -> dict[str, int]:
    """A page of the study: `allowed` roles get `status`, other signed-in users `refused`."""
    expected = {ANONYMOUS: 302, **dict.fromkeys(SIGNED_IN, refused)}
    expected.update(dict.fromkeys(allowed, status))
    return expected


@dataclass(frozen=True)
class RouteCase:
    url: Callable[[MatrixWorld], str]
    expected: Mapping[str, int]
    method: str = "get"

    def status_for(self, column: str) -> int:
        """The expected status of `column`; a phone defaults to what anonymous gets."""
        if column == PARTICIPANT and PARTICIPANT not in self.expected:
            return self.expected[ANONYMOUS]
        return self.expected[column]


def study_url(name: str) -> Callable[[MatrixWorld], str]:
    return lambda world: reverse(name, kwargs={"study": world.study.slug})


CARE = (COORDINATOR, INVESTIGATOR)  # screen, enrol, randomize, complete, withdraw
UNBLINDING = (INVESTIGATOR, PHARMACIST)  # emergency unblinding


def participant_url(
    name: str, *, status: ParticipantStatus = ParticipantStatus.ENROLLED, site: int = 0
) -> Callable[[MatrixWorld], str]:
    """A participant of `status` at the world's site `site` (0 is the coordinator's)."""

    def url(world: MatrixWorld) -> str:
        active = status == ParticipantStatus.ACTIVE
        if status == ParticipantStatus.RANDOMIZED or active:
            make_allocation(study=world.study)
        participant = make_participant(
            study=world.study,
            site=world.sites[site],
            status=ParticipantStatus.RANDOMIZED if active else status,
        )
        if active:
            make_kits(study=world.study, per_arm_and_level=1)
            make_dispensing(participant=participant)
        return reverse(name, kwargs={"study": world.study.slug, "participant": participant.code})

    return url


def adverse_event_url(name: str) -> Callable[[MatrixWorld], str]:
    def url(world: MatrixWorld) -> str:
        participant = make_participant(study=world.study, site=world.sites[0])
        event = make_adverse_event(participant=participant)
        return reverse(
            name,
            kwargs={"study": world.study.slug, "participant": participant.code, "event": event.pk},
        )

    return url


def allocation_list_url(world: MatrixWorld) -> str:
    make_allocation(study=world.study, stratum="opioid_use=false")
    url = reverse("randomization:allocation_list", kwargs={"study": world.study.slug})
    return f"{url}?stratum=opioid_use%3Dfalse"


# --- the headers every response carries (docs/deployment.md, "Security headers") ---------------

CSP_REQUIRED = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)
SCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module"}


class InlineCodeFinder(HTMLParser):
    """Inline script and style a Content-Security-Policy without 'unsafe-inline' blocks: a
    ``<script>`` or ``<style>`` without src and without the page's nonce, a style="" or on...=""
    attribute, a javascript: address. Data blocks (``<script type="application/json">``) run
    nothing and pass."""

    def __init__(self, nonce: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        nonced = self.nonce is not None and values.get("nonce") == self.nonce
        executable = values.get("type", "").strip().lower() in SCRIPT_TYPES
        if tag == "script" and "src" not in values and executable and not nonced:
            self.found.append("<script> without src or nonce")
        if tag == "style" and not nonced:
            self.found.append("<style> without nonce")
        for name, value in values.items():
            script_address = value.strip().lower().startswith("javascript:")
            if name == "style" or name.startswith("on") or script_address:
                self.found.append(f'<{tag} {name}="{value[:40]}">')


def security_problems(response: HttpResponseBase) -> list[str]:
    """What `response` lacks of the security headers, and any inline code its HTML holds."""
    problems = []
    policy = response.get("Content-Security-Policy", "")
    missing = [directive for directive in CSP_REQUIRED if directive not in policy]
    if missing:
        problems.append(f"Content-Security-Policy {policy!r} lacks {missing}")
    if "'unsafe-inline'" in policy or "'unsafe-eval'" in policy:
        problems.append(f"Content-Security-Policy allows unsafe code: {policy!r}")
    if response.get("Referrer-Policy") != "same-origin":
        problems.append(f"Referrer-Policy is {response.get('Referrer-Policy')!r}")
    if response.get("Permissions-Policy") != settings.PERMISSIONS_POLICY:
        problems.append(f"Permissions-Policy is {response.get('Permissions-Policy')!r}")
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    if "no-store" not in directives:
        problems.append(f"Cache-Control is {response.get('Cache-Control')!r}, without no-store")
    is_html = response.get("Content-Type", "").startswith("text/html")
    if is_html and not response.streaming:
        nonce = re.search(r"'nonce-([^']+)'", policy)
        finder = InlineCodeFinder(nonce.group(1) if nonce else None)
        finder.feed(response.content.decode(response.charset or "utf-8"))
        problems += finder.found
    return problems
