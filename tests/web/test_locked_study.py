"""A locked study offers no write action: every page of the route matrix, opened by every role
(and the participant's phone) on a locked study with data, holds no form and no link to an
action the services would refuse. What still works on a locked study is listed in
`ALLOWED_ACTIONS`, and each of those is shown to work below.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.builders import (
    LEFT_OPEN,
    client_for,
    make_adverse_event,
    make_device,
    make_entry,
    make_participant,
    make_totp_device,
    make_user,
)
from tests.web.matrix import ANONYMOUS, COLUMNS, MatrixWorld, build_world
from tests.web.test_route_matrix import ROUTES, registered_routes

from diarytrial.devices.auth import DEVICE_COOKIE
from diarytrial.devices.models import Device
from diarytrial.devices.services import device_pin_set
from diarytrial.studies.models import Role, Study
from diarytrial.studies.services import study_lock, study_unlock

ALLOWED_ACTIONS = {
    "accounts:sign_in": "signing in changes no trial data",
    "accounts:sign_out": "signing out changes no trial data",
    "admin:logout": "signing out of the admin changes no trial data",
    "accounts:two_step": "a staff user's own sign-in device, not trial data",
    "exports:unlock": "the way back when data must still change",
    "exports:unblind": "unblinding comes after the lock",
    "exports:download": "exports read the locked data",
    "exports:certified_copy": "a certified copy reads the locked data; its signature is not data",
    "devices:revoke": "a lost phone is still taken away (device_revoke changes no trial data)",
    "phone:pin": "typing the PIN opens the phone; it changes no trial data",
    "accounts:invitation": "an invited person's password and device, not trial data",
    "people:invite": "staff accounts and roles are access, not trial data",
    "people:grant": "roles are access, not trial data",
    "people:person": "changing a role is access, not trial data",
    "people:revoke": "a departing member's access is taken away whatever the lock",
    "people:deactivate": "a departing member's account is closed whatever the lock",
    "people:totp_reset": "a lost phone's two-step device is removed whatever the lock",
    "people:reinvite": "a new invitation is access, not trial data",
}
"""Every action a page of a locked study may still offer, and why it still works."""

WRITE_PAGES = {
    "participants:screen",
    "participants:enrol",
    "participants:randomize",
    "participants:complete",
    "participants:withdraw",
    "participants:timezone",
    "participants:unblind",
    "safety:adverse_event",
    "exports:casebook",
    "safety:adverse_event_new",
    "safety:adverse_event_change",
    "safety:adverse_event_remove",
    "safety:dose_change",
    "side_effects:confirm",
    "side_effects:dismiss",
    "diary:correct",
    "devices:link",
    "devices:revoke",
    "phone:settings",
    "phone:enrol",
    "queries:raise",
    "queries:correct",
}
"""Pages whose form writes (checked below: a page that shows a form posting to itself on an
open study must be listed here or in `ALLOWED_ACTIONS`)."""

LINKS_STILL_OFFERED = {
    "safety:adverse_event": "the event and its signatures; on a locked study without the form",
    "exports:casebook": "the casebook and its signatures; on a locked study without the form",
    "devices:revoke": "revoking still works",
    "diary:correct": "on a locked study it shows the night without the form",
    "phone:settings": "the phone's settings show the diary's times; their forms are hidden",
}
"""Write pages a locked study may still link to, and why (their forms are checked too)."""

LOCKED_LINE = "The database is locked for analysis since"


class _Actions(HTMLParser):
    """The actions of a page: each <form method=post>'s action, each <a href>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.posts: list[str | None] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "get").lower() == "post":
            self.posts.append(values.get("action"))
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")


def _route(address: str, page: str) -> str:
    """The route name of `address` (a form's empty action is the page itself)."""
    path = urlsplit(address or page).path
    try:
        match = resolve(path)
    except Resolver404:
        return f"<no route {path}>"
    return match.view_name


def _actions(client: Client, url: str) -> tuple[int, list[str], list[str], str]:
    response = client.get(url)
    if not response.get("Content-Type", "").startswith("text/html") or response.streaming:
        return response.status_code, [], [], ""
    parser = _Actions()
    text = response.content.decode()
    parser.feed(text)
    posts = [_route(action or "", url) for action in parser.posts]
    links = [_route(href, url) for href in parser.links if href.startswith("/")]
    return response.status_code, posts, links, text


def _lock(world: MatrixWorld) -> None:
    administrator = world.users[Role.ADMINISTRATOR.value]
    assert administrator is not None
    study_lock(study=world.study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN)


GET_ROUTES = sorted(
    name for name, case in ROUTES.items() if case.method == "get" and not name.startswith("api:")
)


@pytest.mark.django_db
@pytest.mark.parametrize("route", GET_ROUTES)
def test_no_page_of_a_locked_study_offers_a_refused_action(route: str) -> None:
    case = ROUTES[route]
    world = build_world()
    # Data to act on (site 0): a diary night with a side effect, an adverse event.
    make_entry(participant=world.participant, side_effects={"headache": "somewhat"})
    make_adverse_event(participant=world.participant, side_effect="nausea", term="Nausea")
    url = case.url(world)
    columns = [column for column in COLUMNS if column != ANONYMOUS]

    # On the open study: a page whose form posts to itself is a write page we know of.
    for column in columns:
        _, posts, _, _ = _actions(world.clients[column], url)
        unknown = {
            action for action in posts if action == route and action not in ALLOWED_ACTIONS
        } - WRITE_PAGES
        assert not unknown, f"{route} ({column}) is a write page missing from WRITE_PAGES"

    _lock(world)
    study_pages = f"/studies/{world.study.slug}/"
    offered: dict[str, list[str]] = {}
    for column in columns:
        status, posts, links, text = _actions(world.clients[column], url)
        wrong = [f"form posting to {a}" for a in posts if a not in ALLOWED_ACTIONS]
        wrong += [
            f"link to {link}"
            for link in links
            if link in WRITE_PAGES and link not in LINKS_STILL_OFFERED
        ]
        if wrong:
            offered[column] = wrong
        if status == 200 and 'class="staff-nav"' in text and url.startswith(study_pages):
            assert LOCKED_LINE in text, f"{route} ({column}) does not say the study is locked"
    assert not offered, f"GET {url} on a locked study offers: {offered}"


# --- what a locked study still allows, shown to work -------------------------------------------


@pytest.fixture
def locked() -> MatrixWorld:
    world = build_world()
    _lock(world)
    return world


@pytest.mark.django_db
def test_signing_in_works(locked: MatrixWorld) -> None:
    make_user(username="late_reader", password="a long pass phrase 42")
    client = Client()

    response = client.post(
        reverse("accounts:sign_in"),
        {"username": "late_reader", "password": "a long pass phrase 42"},
    )

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_signing_out_works(locked: MatrixWorld) -> None:
    client = locked.clients[Role.COORDINATOR.value]

    response = client.post(reverse("accounts:sign_out"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    administrator = locked.clients[Role.ADMINISTRATOR.value]
    assert administrator.post(reverse("admin:logout")).status_code in (200, 302)
    assert "_auth_user_id" not in administrator.session


@pytest.mark.django_db
def test_two_step_set_up_works(locked: MatrixWorld) -> None:
    client = locked.clients[Role.INVESTIGATOR.value]
    assert client.get(reverse("accounts:two_step")).status_code == 200
    device = TOTPDevice.objects.get(user=locked.users[Role.INVESTIGATOR.value])
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"

    response = client.post(reverse("accounts:two_step"), {"code": code})

    assert response.status_code in (200, 302)
    device.refresh_from_db()
    assert device.confirmed


@pytest.mark.django_db
def test_unlocking_and_unblinding_and_downloading_work(locked: MatrixWorld) -> None:
    def url(name: str) -> str:
        return reverse(name, kwargs={"study": locked.study.slug})

    statistician = locked.clients[Role.STATISTICIAN.value]

    unblinded = statistician.post(
        url("exports:unblind"), {"reason": "final analysis", "understood": "on"}
    )
    downloaded = statistician.post(url("exports:download"), {"kind": "unblinded"})
    administrator = locked.users[Role.ADMINISTRATOR.value]
    assert administrator is not None
    administrator.set_password("unlock 4 query")
    administrator.save(update_fields=["password"])
    unlocked = client_for(administrator).post(  # a new password ends the old session
        url("exports:unlock"),
        {"reason": "a late query", "password": "unlock 4 query", "meaning": "approved"},
    )

    assert unblinded.status_code == 302
    assert downloaded.status_code == 200
    assert downloaded["Content-Type"] == "application/zip"
    assert unlocked.status_code == 302
    study = Study.objects.get(pk=locked.study.pk)
    assert study.unblinded_at is not None
    assert study.locked_at is None


@pytest.mark.django_db
def test_revoking_a_lost_phone_works(locked: MatrixWorld) -> None:
    device = Device.objects.get(participant=locked.participant)
    kwargs = {"study": locked.study.slug, "participant": locked.participant.code}
    revoke = reverse("devices:revoke", kwargs={**kwargs, "device": device.pk})
    coordinator = locked.clients[Role.COORDINATOR.value]
    assert revoke in coordinator.get(reverse("devices:list", kwargs=kwargs)).text

    response = coordinator.post(revoke, {"reason": "phone lost"})

    assert response.status_code == 302
    device.refresh_from_db()
    assert device.revoked_at is not None


@pytest.mark.django_db
def test_the_pin_still_opens_a_phone(locked: MatrixWorld) -> None:
    administrator = locked.users[Role.ADMINISTRATOR.value]
    assert administrator is not None
    # A phone with a PIN set while the study was open (unlocked for it, then locked again).
    study_unlock(study=locked.study, reason="a phone to set up", actor=administrator)
    device, token = make_device(make_participant(study=locked.study, site=locked.sites[0]))
    device_pin_set(device=device, pin="2580")
    _lock(locked)
    phone = Client()
    phone.cookies[DEVICE_COOKIE] = token
    history = reverse("phone:history")
    assert phone.get(history).status_code == 302  # to the PIN page

    response = phone.post(reverse("phone:pin"), {"pin": "2580", "next": history})

    assert response.status_code == 302
    assert phone.get(history).status_code == 200


def test_every_listed_action_is_a_route() -> None:
    routes = set(registered_routes())
    assert set(ALLOWED_ACTIONS) - {"admin:logout"} <= routes  # the admin is one namespace
    assert routes >= WRITE_PAGES
    assert set(LINKS_STILL_OFFERED) <= WRITE_PAGES


@pytest.mark.django_db
def test_people_and_roles_are_managed_on_a_locked_study(
    locked: MatrixWorld, django_capture_on_commit_callbacks: Any
) -> None:
    administrator = locked.clients[Role.ADMINISTRATOR.value]
    people = f"/studies/{locked.study.slug}/people/"
    coordinator = locked.users[Role.COORDINATOR.value]
    investigator = locked.users[Role.INVESTIGATOR.value]
    assert coordinator is not None
    assert investigator is not None
    make_totp_device(investigator)
    make_user(username="late_member")

    with django_capture_on_commit_callbacks(execute=True):
        invited = administrator.post(
            people + "invite/",
            {"username": "newcomer", "email": "new@example.org", "role": "statistician"},
        )
    granted = administrator.post(
        people + "grant/", {"username": "late_member", "role": "investigator"}
    )
    changed = administrator.post(f"{people}{coordinator.pk}/", {"role": "investigator"})
    reset = administrator.post(
        f"{people}{investigator.pk}/two-step-reset/", {"totp-reason": "lost"}
    )
    revoked = administrator.post(f"{people}{coordinator.pk}/revoke/", {"revoke-reason": "left"})
    deactivated = administrator.post(
        f"{people}{coordinator.pk}/deactivate/", {"deactivate-reason": "left"}
    )

    statuses = [r.status_code for r in (invited, granted, changed, reset, revoked, deactivated)]
    assert statuses == [302] * 6
    (message,) = mail.outbox
    link = re.search(r"/accounts/invitation/[^/\s]+/", message.body)
    assert link is not None
    device = TOTPDevice.objects.get(user__username="newcomer")
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    accepted = Client().post(
        link[0],
        {
            "password": "a long pass phrase 42",
            "password_again": "a long pass phrase 42",
            "code": code,
        },
    )
    assert accepted.status_code == 302
