"""Every URL route x every role -> the status it answers: access is denied by default.

`ROUTES` has one entry per named route (``namespace:name``). A route registered without an
entry fails `test_every_route_has_an_entry`, so whoever adds a route decides here who may open
it. To add one:

    "participants:detail": RouteCase(
        url=lambda world: reverse(
            "participants:detail",
            kwargs={"study": world.study.slug, "participant": make_participant(world).code},
        ),
        expected=study_page(allowed=(COORDINATOR, INVESTIGATOR)),
    ),

`url` gets the `MatrixWorld` (a study with two sites and one signed-in client per role) and
returns the path; it may create what the route needs through the services. `expected` maps
each of `ROLES` to the status of the first response (redirects are not followed); the helpers
below build the usual rows. `method` is "get" unless given; GET is what a link or a curious
user sends, so every route has a GET row even when its form posts.

Routes of the Django admin are covered as a namespace (`COVERED_NAMESPACES`): its every page
passes through ``admin.site.has_permission`` (administrators only), tested in
test_admin_access.py; `admin:index` stands for it here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse
from tests.builders import (
    make_adverse_event,
    make_allocation,
    make_dispensing,
    make_kits,
    make_member,
    make_participant,
    make_site,
    make_study,
    make_user,
)

from diarytrial.participants.models import ParticipantStatus
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


@dataclass
class MatrixWorld:
    """A study with two sites; each role's user and a client signed in as them."""

    study: Study
    sites: list[Site]
    users: dict[str, User | None]
    clients: dict[str, Client] = field(default_factory=dict)


def build_world() -> MatrixWorld:
    study = make_study()
    sites = [make_site(study=study, code="stanford"), make_site(study=study, code="boston")]
    users: dict[str, User | None] = {ANONYMOUS: None, NO_ROLE: make_user(username="no_role")}
    for role in Role:
        # The coordinator works at one of the two sites, as most do.
        limited = [sites[0]] if role == Role.COORDINATOR else None
        users[role.value] = make_member(study=study, role=role, sites=limited).user
    world = MatrixWorld(study=study, sites=sites, users=users)
    for name, user in users.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        world.clients[name] = client
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


def _study_url(name: str) -> Callable[[MatrixWorld], str]:
    return lambda world: reverse(name, kwargs={"study": world.study.slug})


CARE = (COORDINATOR, INVESTIGATOR)  # screen, enrol, randomize, complete, withdraw
UNBLINDING = (INVESTIGATOR, PHARMACIST)  # emergency unblinding


def _participant_url(
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


def _adverse_event_url(name: str) -> Callable[[MatrixWorld], str]:
    def url(world: MatrixWorld) -> str:
        participant = make_participant(study=world.study, site=world.sites[0])
        event = make_adverse_event(participant=participant)
        return reverse(
            name,
            kwargs={"study": world.study.slug, "participant": participant.code, "event": event.pk},
        )

    return url


def _allocation_list_url(world: MatrixWorld) -> str:
    make_allocation(study=world.study, stratum="opioid_use=false")
    url = reverse("randomization:allocation_list", kwargs={"study": world.study.slug})
    return f"{url}?stratum=opioid_use%3Dfalse"


ROUTES: dict[str, RouteCase] = {
    "home": RouteCase(url=lambda w: reverse("home"), expected=everyone(302)),
    "healthz": RouteCase(url=lambda w: reverse("healthz"), expected=everyone(200)),
    "admin_sign_in": RouteCase(
        url=lambda w: reverse("admin_sign_in"),
        expected={ANONYMOUS: 302, **dict.fromkeys(SIGNED_IN, 403)},
    ),
    "admin:index": RouteCase(
        url=lambda w: reverse("admin:index"),
        # has_permission refuses: the admin redirects to its sign-in, which answers 403.
        expected={ANONYMOUS: 302, **dict.fromkeys(SIGNED_IN, 302), ADMINISTRATOR: 200},
    ),
    "accounts:sign_in": RouteCase(
        url=lambda w: reverse("accounts:sign_in"),
        expected={ANONYMOUS: 200, **dict.fromkeys(SIGNED_IN, 302)},
    ),
    "accounts:sign_out": RouteCase(
        url=lambda w: reverse("accounts:sign_out"), expected=signed_in_page()
    ),
    "accounts:two_step": RouteCase(
        url=lambda w: reverse("accounts:two_step"), expected=signed_in_page()
    ),
    "studies:list": RouteCase(url=lambda w: reverse("studies:list"), expected=signed_in_page()),
    "studies:home": RouteCase(url=_study_url("studies:home"), expected=study_page()),
    # Participant pages: every role reads, coordinators only their sites (404 for another's).
    "participants:list": RouteCase(url=_study_url("participants:list"), expected=study_page()),
    "participants:screen": RouteCase(
        url=_study_url("participants:screen"), expected=study_page(allowed=CARE)
    ),
    "participants:detail": RouteCase(
        url=_participant_url("participants:detail", site=1),  # the coordinator's other site
        expected={**study_page(), COORDINATOR: 404},
    ),
    "participants:enrol": RouteCase(
        url=_participant_url("participants:enrol", status=ParticipantStatus.SCREENED),
        expected=study_page(allowed=CARE),
    ),
    "participants:randomize": RouteCase(
        url=_participant_url("participants:randomize"), expected=study_page(allowed=CARE)
    ),
    "participants:complete": RouteCase(
        url=_participant_url("participants:complete", status=ParticipantStatus.ACTIVE),
        expected=study_page(allowed=CARE),
    ),
    "participants:withdraw": RouteCase(
        url=_participant_url("participants:withdraw"), expected=study_page(allowed=CARE)
    ),
    "participants:unblind": RouteCase(
        url=_participant_url("participants:unblind", status=ParticipantStatus.RANDOMIZED),
        expected=study_page(allowed=UNBLINDING),
    ),
    "participants:unblind_result": RouteCase(
        # Nothing to show without an unblinding just done: back to the participant's page.
        url=_participant_url("participants:unblind_result", status=ParticipantStatus.RANDOMIZED),
        expected=study_page(allowed=UNBLINDING, status=302),
    ),
    # Safety, on a participant: coordinators and investigators of the participant's site.
    "safety:adverse_event_new": RouteCase(
        url=_participant_url("safety:adverse_event_new"), expected=study_page(allowed=CARE)
    ),
    "safety:adverse_event_change": RouteCase(
        url=_adverse_event_url("safety:adverse_event_change"), expected=study_page(allowed=CARE)
    ),
    "safety:adverse_event_remove": RouteCase(
        url=_adverse_event_url("safety:adverse_event_remove"), expected=study_page(allowed=CARE)
    ),
    "safety:dose_change": RouteCase(
        url=_participant_url("safety:dose_change"), expected=study_page(allowed=CARE)
    ),
    # The database page: everyone reads it; its forms only post (GET: 405).
    "exports:database": RouteCase(url=_study_url("exports:database"), expected=study_page()),
    "exports:lock": RouteCase(
        url=_study_url("exports:lock"), expected=study_page(allowed=(ADMINISTRATOR,), status=405)
    ),
    "exports:unlock": RouteCase(
        url=_study_url("exports:unlock"),
        expected=study_page(allowed=(ADMINISTRATOR,), status=405),
    ),
    "exports:unblind": RouteCase(
        url=_study_url("exports:unblind"),
        expected=study_page(allowed=(STATISTICIAN,), status=405),
    ),
    "exports:download": RouteCase(
        url=_study_url("exports:download"),
        expected=study_page(
            allowed=(COORDINATOR, INVESTIGATOR, STATISTICIAN, ADMINISTRATOR), status=405
        ),
    ),
    # The pharmacist's pages; forms that only post answer GET with 405.
    "randomization:pharmacy": RouteCase(
        url=_study_url("randomization:pharmacy"), expected=study_page(allowed=(PHARMACIST,))
    ),
    "randomization:dispense": RouteCase(
        url=_study_url("randomization:dispense"),
        expected=study_page(allowed=(PHARMACIST,), status=405),
    ),
    "randomization:kits": RouteCase(
        url=_study_url("randomization:kits"), expected=study_page(allowed=(PHARMACIST,))
    ),
    "randomization:kits_generate": RouteCase(
        url=_study_url("randomization:kits_generate"),
        expected=study_page(allowed=(PHARMACIST,), status=405),
    ),
    "randomization:kits_import": RouteCase(
        url=_study_url("randomization:kits_import"),
        expected=study_page(allowed=(PHARMACIST,), status=405),
    ),
    "randomization:allocation_lists": RouteCase(
        url=_study_url("randomization:allocation_lists"),
        expected=study_page(allowed=(PHARMACIST,)),
    ),
    "randomization:allocation_generate": RouteCase(
        url=_study_url("randomization:allocation_generate"),
        expected=study_page(allowed=(PHARMACIST,), status=405),
    ),
    "randomization:allocation_list": RouteCase(
        url=_allocation_list_url, expected=study_page(allowed=(PHARMACIST,))
    ),
    "randomization:enrolment": RouteCase(
        # The statistician too, once the study is unblinded (not in this world).
        url=_study_url("randomization:enrolment"),
        expected=study_page(allowed=(PHARMACIST,)),
    ),
}

COVERED_NAMESPACES = {"admin": "tests/web/test_admin_access.py"}


def registered_routes(
    patterns: list[URLPattern | URLResolver] | None = None, namespace: str = "", prefix: str = ""
) -> Iterator[str]:
    """The name of every route (``namespace:name``); its pattern in <> when it has no name."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if entry.namespace else namespace
            yield from registered_routes(
                entry.url_patterns, inner.lstrip(":"), prefix + str(entry.pattern)
            )
        elif entry.name:
            yield f"{namespace}:{entry.name}" if namespace else entry.name
        else:
            unnamed = f"<unnamed {prefix}{entry.pattern}>"
            yield f"{namespace}:{unnamed}" if namespace else unnamed


def test_every_route_has_an_entry() -> None:
    routes = set(registered_routes())
    missing = sorted(
        route
        for route in routes - set(ROUTES)
        if route.partition(":")[0] not in COVERED_NAMESPACES or ":" not in route
    )
    stale = sorted(set(ROUTES) - routes)

    assert not missing, (
        "routes without an entry in ROUTES of tests/web/test_route_matrix.py (say who may "
        f"open them): {missing}"
    )
    assert not stale, f"entries in ROUTES for routes that no longer exist: {stale}"


def test_every_entry_names_every_role() -> None:
    incomplete = {
        name: sorted(set(ROLES) - set(case.expected))
        for name, case in ROUTES.items()
        if set(case.expected) != set(ROLES)
    }
    assert not incomplete, f"entries without a status for some roles: {incomplete}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_route_answers_each_role_as_expected(route: str) -> None:
    case = ROUTES[route]
    world = build_world()
    url = case.url(world)

    answered = {role: getattr(world.clients[role], case.method)(url).status_code for role in ROLES}

    wrong = {
        role: f"expected {case.expected[role]}, got {status}"
        for role, status in answered.items()
        if status != case.expected[role]
    }
    assert not wrong, f"{case.method.upper()} {url}: {wrong}"


def test_registered_routes_names_nested_and_unnamed_routes() -> None:
    def view(request: object) -> None:
        raise AssertionError("never called")

    patterns = [
        path("top", view, name="top"),
        path("app/", include(([path("y", view, name="y"), path("z", view)], "ns"))),
    ]

    assert list(registered_routes(patterns)) == ["top", "ns:y", "ns:<unnamed app/z>"]
