"""Every URL route x every role -> the status it answers: access is denied by default.

`ROUTES` has one entry per named route (``namespace:name``): the core rows below, merged with
the rows of each app's ``routes_*.py`` module beside this file (a module-level ``ROUTES``). A
route registered without an entry fails `test_every_route_has_an_entry`, so whoever adds a
route decides who may open it. To add one:

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

Besides the staff columns, every route is also opened from a participant's enrolled phone
(`PARTICIPANT`: a device cookie, no staff session). Staff pages answer it as they answer
anonymous; the rows of the phone pages and the API say what it gets.

Every answer, to every column, must also carry the security headers and hold no inline script or
style (`security_problems`: Content-Security-Policy, Referrer-Policy, Permissions-Policy,
``Cache-Control: no-store``; docs/deployment.md).

Routes of the Django admin are covered as a namespace (`COVERED_NAMESPACES`): its every page
passes through ``admin.site.has_permission`` (administrators only), tested in
test_admin_access.py; `admin:index` stands for it here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse
from tests.web.matrix import (
    ADMINISTRATOR,
    ANONYMOUS,
    CARE,
    COLUMNS,
    COORDINATOR,
    INVESTIGATOR,
    PHARMACIST,
    ROLES,
    SIGNED_IN,
    STATISTICIAN,
    UNBLINDING,
    RouteCase,
    adverse_event_url,
    allocation_list_url,
    build_world,
    everyone,
    participant_url,
    security_problems,
    signed_in_page,
    study_page,
    study_url,
)

from diarytrial.participants.models import ParticipantStatus

CORE_ROUTES: dict[str, RouteCase] = {
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
    "studies:home": RouteCase(url=study_url("studies:home"), expected=study_page()),
    # Participant pages: every role reads, coordinators only their sites (404 for another's).
    "participants:list": RouteCase(url=study_url("participants:list"), expected=study_page()),
    "participants:screen": RouteCase(
        url=study_url("participants:screen"), expected=study_page(allowed=CARE)
    ),
    "participants:detail": RouteCase(
        url=participant_url("participants:detail", site=1),  # the coordinator's other site
        expected={**study_page(), COORDINATOR: 404},
    ),
    "participants:timezone": RouteCase(
        url=participant_url("participants:timezone"), expected=study_page(allowed=CARE)
    ),
    "participants:enrol": RouteCase(
        url=participant_url("participants:enrol", status=ParticipantStatus.SCREENED),
        expected=study_page(allowed=CARE),
    ),
    "participants:randomize": RouteCase(
        url=participant_url("participants:randomize"), expected=study_page(allowed=CARE)
    ),
    "participants:complete": RouteCase(
        url=participant_url("participants:complete", status=ParticipantStatus.ACTIVE),
        expected=study_page(allowed=CARE),
    ),
    "participants:withdraw": RouteCase(
        url=participant_url("participants:withdraw"), expected=study_page(allowed=CARE)
    ),
    "participants:unblind": RouteCase(
        url=participant_url("participants:unblind", status=ParticipantStatus.RANDOMIZED),
        expected=study_page(allowed=UNBLINDING),
    ),
    "participants:unblind_result": RouteCase(
        # Nothing to show without an unblinding just done: back to the participant's page.
        url=participant_url("participants:unblind_result", status=ParticipantStatus.RANDOMIZED),
        expected=study_page(allowed=UNBLINDING, status=302),
    ),
    # Safety, on a participant: coordinators and investigators of the participant's site.
    "safety:adverse_event_new": RouteCase(
        url=participant_url("safety:adverse_event_new"), expected=study_page(allowed=CARE)
    ),
    "safety:adverse_event_change": RouteCase(
        url=adverse_event_url("safety:adverse_event_change"), expected=study_page(allowed=CARE)
    ),
    "safety:adverse_event_remove": RouteCase(
        url=adverse_event_url("safety:adverse_event_remove"), expected=study_page(allowed=CARE)
    ),
    "safety:dose_change": RouteCase(
        url=participant_url("safety:dose_change"), expected=study_page(allowed=CARE)
    ),
    # The database page: everyone reads it; its forms only post (GET: 405).
    "exports:database": RouteCase(url=study_url("exports:database"), expected=study_page()),
    "exports:lock": RouteCase(
        url=study_url("exports:lock"), expected=study_page(allowed=(ADMINISTRATOR,), status=405)
    ),
    "exports:unlock": RouteCase(
        url=study_url("exports:unlock"),
        expected=study_page(allowed=(ADMINISTRATOR,), status=405),
    ),
    "exports:unblind": RouteCase(
        url=study_url("exports:unblind"),
        expected=study_page(allowed=(STATISTICIAN,), status=405),
    ),
    "exports:download": RouteCase(
        url=study_url("exports:download"),
        expected=study_page(
            allowed=(COORDINATOR, INVESTIGATOR, STATISTICIAN, ADMINISTRATOR), status=405
        ),
    ),
    # The pharmacist's pages; forms that only post answer GET with 405.
    "randomization:pharmacy": RouteCase(
        url=study_url("randomization:pharmacy"), expected=study_page(allowed=(PHARMACIST,))
    ),
    "randomization:dispense": RouteCase(
        url=study_url("randomization:dispense"),
        expected=study_page(allowed=(PHARMACIST,), status=405),
    ),
    "randomization:kits": RouteCase(
        url=study_url("randomization:kits"), expected=study_page(allowed=(PHARMACIST,))
    ),
    "randomization:kits_generate": RouteCase(
        url=study_url("randomization:kits_generate"),
        expected=study_page(allowed=(PHARMACIST,), status=405),
    ),
    "randomization:kits_import": RouteCase(
        url=study_url("randomization:kits_import"),
        expected=study_page(allowed=(PHARMACIST,), status=405),
    ),
    "randomization:allocation_lists": RouteCase(
        url=study_url("randomization:allocation_lists"),
        expected=study_page(allowed=(PHARMACIST,)),
    ),
    "randomization:allocation_generate": RouteCase(
        url=study_url("randomization:allocation_generate"),
        expected=study_page(allowed=(PHARMACIST,), status=405),
    ),
    "randomization:allocation_list": RouteCase(
        url=allocation_list_url, expected=study_page(allowed=(PHARMACIST,))
    ),
    "randomization:enrolment": RouteCase(
        # The statistician too, once the study is unblinded (not in this world).
        url=study_url("randomization:enrolment"),
        expected=study_page(allowed=(PHARMACIST,)),
    ),
}


def _app_routes() -> dict[str, RouteCase]:
    """The core rows and every ``routes_*.py`` module's rows; a name in two modules fails."""
    merged = dict(CORE_ROUTES)
    for module_path in sorted(Path(__file__).parent.glob("routes_*.py")):
        module = importlib.import_module(f"tests.web.{module_path.stem}")
        clash = sorted(set(merged) & set(module.ROUTES))
        assert not clash, f"{module_path.name} repeats rows of other modules: {clash}"
        merged.update(module.ROUTES)
    return merged


ROUTES = _app_routes()

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
        if set(ROLES) - set(case.expected)
    }
    unknown = {
        name: sorted(set(case.expected) - set(COLUMNS))
        for name, case in ROUTES.items()
        if set(case.expected) - set(COLUMNS)
    }
    assert not incomplete, f"entries without a status for some roles: {incomplete}"
    assert not unknown, f"entries naming columns that do not exist: {unknown}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_route_answers_each_role_as_expected(route: str) -> None:
    case = ROUTES[route]
    world = build_world()
    url = case.url(world)

    responses = {column: getattr(world.clients[column], case.method)(url) for column in COLUMNS}
    answered = {column: response.status_code for column, response in responses.items()}

    wrong = {
        column: f"expected {case.status_for(column)}, got {status}"
        for column, status in answered.items()
        if status != case.status_for(column)
    }
    assert not wrong, f"{case.method.upper()} {url}: {wrong}"
    unprotected = {
        column: problems
        for column, response in responses.items()
        if (problems := security_problems(response))
    }
    assert not unprotected, f"{case.method.upper()} {url}: {unprotected}"


def test_registered_routes_names_nested_and_unnamed_routes() -> None:
    def view(request: object) -> None:
        raise AssertionError("never called")

    patterns = [
        path("top", view, name="top"),
        path("app/", include(([path("y", view, name="y"), path("z", view)], "ns"))),
    ]

    assert list(registered_routes(patterns)) == ["top", "ns:y", "ns:<unnamed app/z>"]
