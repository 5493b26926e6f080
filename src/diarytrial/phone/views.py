"""The participant's phone pages under ``/d/``: tonight's diary, history, settings, the PIN, the
enrolment link, and what makes the diary an installable app (manifest, service worker).

A page is for the phone that holds an active device cookie (`request_device`); any other
phone gets a calm 401 page saying to ask the coordinator for a link. A device with a PIN is
sent to the PIN page until it is unlocked. Pages render on the server from the diary's
selectors; the page's script sends answers to the JSON API through its offline outbox.
"""

from __future__ import annotations

import functools
import hashlib
import json
import zoneinfo
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from diarytrial.core.errors import ApplicationError
from diarytrial.devices.auth import (
    PIN_UNLOCK_HOURS,
    device_cookie_clear,
    device_cookie_set,
    device_unlocked,
    pin_cookie_set,
    request_device,
)
from diarytrial.devices.errors import EnrolmentLinkInvalidError, PinInvalidError
from diarytrial.devices.models import Device
from diarytrial.devices.selectors import enrolment_link_study_locked, enrolment_link_usable
from diarytrial.devices.services import (
    PIN_ATTEMPTS,
    device_pin_check,
    device_pin_clear,
    device_pin_set,
    enrolment_link_redeem,
)
from diarytrial.participants.models import Participant
from diarytrial.participants.selectors import participant_protocol
from diarytrial.phone.pages import LOCKED_MESSAGE, history_rows, home_context
from diarytrial.studies.errors import StudyLockedError

P = ParamSpec("P")
DeviceView = Callable[Concatenate[HttpRequest, Device, P], HttpResponse]


SHELL_FILES = (
    "phone/phone.css",
    "phone/diary.js",
    "phone/icon.svg",
    "phone/icon-192.png",
    "phone/icon-512.png",
    "phone/icon-maskable-512.png",
)
"""Static files of the app shell: the service worker keeps them for offline use."""
KEPT_PAGES = ("phone:home", "phone:history", "phone:settings")
"""Pages whose last copy the service worker keeps for offline use."""
OFFLINE_COPY_HEADER = "Diary-Offline-Copy"
"""``keep`` on a page the service worker may keep for offline use; absent: keep nothing."""


def _message(
    request: HttpRequest, *, status: int, title: str, paragraphs: list[str]
) -> HttpResponse:
    response = render(
        request, "phone/message.html", {"title": title, "paragraphs": paragraphs}, status=status
    )
    patch_cache_control(response, no_store=True)
    return response


def _not_enrolled(request: HttpRequest) -> HttpResponse:
    return _message(
        request,
        status=401,
        title="This phone is not set up for the diary yet",
        paragraphs=[
            "This phone is not set up for the diary yet; ask your study coordinator for a link.",
            "Open the link on this phone and press the button it shows. You will not need a "
            "password.",
        ],
    )


def _switched_off(request: HttpRequest) -> HttpResponse:
    response = _message(
        request,
        status=401,
        title="The diary is switched off on this phone",
        paragraphs=[
            f"A wrong PIN was entered {PIN_ATTEMPTS} times, so the diary is switched off on "
            "this phone to keep your answers private. Nothing you sent is lost.",
            "Ask your study coordinator for a new link to set up the diary again.",
        ],
    )
    device_cookie_clear(response)
    return response


def _study_closed(request: HttpRequest) -> HttpResponse:
    return _message(
        request,
        status=423,
        title="The study's diary is closed",
        paragraphs=[LOCKED_MESSAGE, "This phone does not need to be set up any more."],
    )


def _link_gone(request: HttpRequest) -> HttpResponse:
    return _message(
        request,
        status=410,
        title="This link no longer works",
        paragraphs=[
            "Each link works once, and only for a few days.",
            "Please ask your study coordinator for a new link. Nothing you sent before is lost.",
        ],
    )


def _safe_next(request: HttpRequest, value: str | None) -> str:
    home = reverse("phone:home")
    if (
        value
        and value.startswith(home)
        and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()})
    ):
        return value
    return home


def participant_page(view: DeviceView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Give `view` the request's device: 401 page without one, the PIN page while locked.

    The response is never stored by the browser's HTTP cache (``no-store``, as every response
    of the app); the service worker keeps a copy in its own cache for offline use when the
    page says so (`OFFLINE_COPY_HEADER`), which it does unless the device has a PIN (a PIN must
    not be bypassed offline).
    """

    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        device = request_device(request)
        if device is None:
            return _not_enrolled(request)
        if not device_unlocked(request, device):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('phone:pin')}?{query}")
        get_token(request)  # the page's script reads the CSRF cookie to send answers
        response = view(request, device, *args, **kwargs)
        patch_cache_control(response, no_store=True, private=True)
        if not device.has_pin:
            response[OFFLINE_COPY_HEADER] = "keep"
        return response

    functools.update_wrapper(wrapper, view)
    return wrapper


def _page(
    request: HttpRequest, device: Device, template: str, nav: str, context: dict[str, Any]
) -> HttpResponse:
    # keep_offline: the service worker keeps no page of a PIN-protected phone, and the page's
    # script drops copies kept before the PIN was set.
    # page_zone: the phone shows times in the participant's own zone, and says so.
    context.update(
        with_nav=True,
        with_script=True,
        nav=nav,
        page=nav,
        keep_offline=not device.has_pin,
        page_zone=zoneinfo.ZoneInfo(device.participant.timezone),
    )
    return render(request, template, context)


@require_safe
@participant_page
def home(request: HttpRequest, device: Device) -> HttpResponse:
    """Tonight's diary; its correction (``?change=1``); the end-of-period questions; thanks and
    progress once sent; or, outside the window, when the diary opens next."""
    context = home_context(device.participant, change=request.GET.get("change") == "1")
    return _page(request, device, "phone/home.html", "home", context)


@require_safe
@participant_page
def history(request: HttpRequest, device: Device) -> HttpResponse:
    """The participant's own entries, newest first."""
    rows = history_rows(device.participant)
    return _page(request, device, "phone/history.html", "history", {"rows": rows})


def _diary_time(participant: Participant) -> str:
    """When the diary opens and closes, in the participant's own zone, in words."""
    diary = participant_protocol(participant).diary
    zone = participant.timezone.replace("_", " ")
    return f"from {diary.opens:%H:%M} to {diary.closes:%H:%M}, {zone} time"


@require_http_methods(["GET", "POST"])
@participant_page
def settings_page(request: HttpRequest, device: Device) -> HttpResponse:
    """The PIN (set, change, remove) and, when the reminders app provides it, its section."""
    pin_error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "clear":
                device_pin_clear(device=device)
                return redirect(f"{reverse('phone:settings')}?saved=pin-removed")
            pin, again = request.POST.get("pin", ""), request.POST.get("pin_again", "")
            if pin != again:
                pin_error = "The two PINs are not the same. Type the same 4 digits twice."
            else:
                device_pin_set(device=device, pin=pin)
                response = redirect(f"{reverse('phone:settings')}?saved=pin-set")
                pin_cookie_set(response, device)  # this phone stays unlocked
                return response
        except ApplicationError as error:
            pin_error = error.message
    notices = {
        "pin-set": f"Your PIN is set. This phone will ask for it every {PIN_UNLOCK_HOURS} hours.",
        "pin-removed": "This phone no longer asks for a PIN.",
    }
    context = {
        "device": device,
        "participant": device.participant,
        "has_pin": device.has_pin,
        "pin_error": pin_error,
        "notice": notices.get(request.GET.get("saved", "")),
        "diary_time": _diary_time(device.participant),
        "unlock_hours": PIN_UNLOCK_HOURS,
        "pin_attempts": PIN_ATTEMPTS,
        # A locked study refuses every change: no PIN or reminder form is offered then.
        "locked": device.participant.study.locked_at is not None,
        "locked_message": LOCKED_MESSAGE,
    }
    page = _page(request, device, "phone/settings.html", "settings", context)
    if pin_error:
        page.status_code = 422
    return page


@never_cache
@require_http_methods(["GET", "POST"])
def pin(request: HttpRequest) -> HttpResponse:
    """Unlock a PIN-protected phone for `PIN_UNLOCK_HOURS`; the `PIN_ATTEMPTS`th wrong PIN in a
    row revokes it."""
    device = request_device(request)
    if device is None:
        return _not_enrolled(request)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if not device.has_pin:
        return redirect(next_url)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            right = device_pin_check(device=device, pin=request.POST.get("pin", "").strip())
        except PinInvalidError:  # not four digits: no try is counted
            error, status = "A PIN is 4 digits. Type your 4-digit PIN.", 422
        else:
            if right:
                response = redirect(next_url)
                pin_cookie_set(response, device)
                return response
            if device.revoked_at is not None:
                return _switched_off(request)
            left = PIN_ATTEMPTS - device.pin_failures
            tries = "try" if left == 1 else "tries"
            error = (
                f"That PIN is not right. You have {left} more {tries}; after that the diary is "
                f"switched off on this phone and your study coordinator can give you a new link."
            )
            status = 422
    return render(request, "phone/pin.html", {"next": next_url, "error": error}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest, token: str) -> HttpResponse:
    """The link a coordinator gives: GET asks to confirm (a link scanner must not use it up),
    POST binds this phone, sets its cookie and opens the diary."""
    if request.method == "POST":
        try:
            issued = enrolment_link_redeem(
                token=token, user_agent=request.META.get("HTTP_USER_AGENT", "")
            )
        except EnrolmentLinkInvalidError:
            return _link_gone(request)
        except StudyLockedError:
            return _study_closed(request)
        response = redirect("phone:home")
        device_cookie_set(response, issued.token)
        return response
    if enrolment_link_study_locked(token=token):
        return _study_closed(request)  # no button that could only be refused
    if not enrolment_link_usable(token=token):
        return _link_gone(request)
    # The link is a secret: the site's Referrer-Policy (same-origin) keeps it from other sites;
    # no-referrer would make the browser send "Origin: null", which the CSRF check refuses.
    return render(request, "phone/enrol.html")


@require_safe
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: the diary installs on the home screen and opens at ``/d/``."""
    home = reverse("phone:home")
    icons = [
        {"src": static("phone/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("phone/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {
            "src": static("phone/icon-maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
        {"src": static("phone/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
    ]
    body = {
        "id": home,
        "name": "Study diary",
        "short_name": "Diary",
        "description": "Your nightly diary for the study.",
        "start_url": home,
        "scope": home,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f3f5f2",
        "theme_color": "#1d5c8c",
        "lang": "en",
        "icons": icons,
    }
    return JsonResponse(body, content_type="application/manifest+json")


@functools.cache
def _shell_version() -> str:
    digest = hashlib.sha256()
    for name in SHELL_FILES:
        found = finders.find(name)
        if isinstance(found, str):
            with open(found, "rb") as handle:
                digest.update(handle.read())
    digest.update(
        render_to_string(
            "phone/sw.js", {"version": "", "shell": "", "kept_pages": "", "scope": ""}
        ).encode()
    )
    return digest.hexdigest()[:16]


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, scope ``/d/``; its version changes with the shell's content."""
    shell = [static(name) for name in SHELL_FILES] + [reverse("phone:manifest")]
    text = render_to_string(
        "phone/sw.js",
        {
            "version": _shell_version(),
            "shell": json.dumps(shell),
            "kept_pages": json.dumps([reverse(name) for name in KEPT_PAGES]),
            "scope": reverse("phone:home"),
            "push_script": json.dumps(static("reminders/sw-push.js")),
            "offline_copy_header": OFFLINE_COPY_HEADER,
            "stylesheet": json.dumps(static("phone/phone.css")),
        },
    )
    response = HttpResponse(text, content_type="text/javascript; charset=utf-8")
    response.headers["Service-Worker-Allowed"] = reverse("phone:home")
    patch_cache_control(response, no_cache=True, max_age=0)
    return response
