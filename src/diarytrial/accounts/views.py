"""Staff sign-in, sign-out, the TOTP page (set up an authenticator app, or give its code), and
the invitation page (an invited person's password and authenticator app)."""

from __future__ import annotations

from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from diarytrial.accounts.errors import (
    InvitationInvalidError,
    SignInRefusedError,
    SignInThrottledError,
)
from diarytrial.accounts.forms import InvitationForm, SignInForm, TotpCodeForm
from diarytrial.accounts.middleware import session_is_verified
from diarytrial.accounts.services import (
    INVITATION_LIFETIME_HOURS,
    invitation_accept,
    invitation_device,
    invitation_for_token,
    sign_in_verify,
    totp_device_confirm,
    totp_device_start,
    totp_devices_confirmed,
    totp_verify,
)
from diarytrial.core.errors import InvalidInputError, PermissionDeniedError


def request_ip_address(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind a trusted proxy the one it appended last."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return str(request.META.get("REMOTE_ADDR", "")) or None


def _next_url(request: HttpRequest) -> str:
    """Where to go after signing in: a same-site ``next``, else the studies list."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate.split("?")[0] == reverse("accounts:sign_in"):
        candidate = ""  # never back to the sign-in page itself
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password", "code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Username, password and (once set up) the authenticator code, on one form."""
    next_url = _next_url(request)
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(next_url)
    form = SignInForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_valid():
        try:
            granted = sign_in_verify(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
                ip_address=request_ip_address(request),
            )
        except SignInThrottledError as error:
            form.add_error(None, error.message)
            status = error.http_status
        except SignInRefusedError as error:
            form.add_error(None, error.message)
        else:
            # login() gives the session a new key, so a key planted before cannot be reused.
            login(request, granted.user, backend="django.contrib.auth.backends.ModelBackend")
            if granted.device is not None:
                otp_login(request, granted.device)
            return redirect(next_url)
    return render(request, "accounts/sign_in.html", {"form": form, "next": next_url}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    """GET asks to confirm; POST signs out (and ends the session)."""
    if request.method == "POST":
        logout(request)
        messages.info(request, "You are signed out.")
        return redirect("accounts:sign_in")
    if not request.user.is_authenticated:
        return redirect("accounts:sign_in")
    return render(request, "accounts/sign_out.html")


@sensitive_post_parameters("code")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_step(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app (no confirmed device yet), or confirm this session with it."""
    user = request.user
    if not isinstance(user, User):  # login_required let in only signed-in users
        return redirect_to_login(request.get_full_path())
    form = TotpCodeForm(request.POST if request.method == "POST" else None)
    if totp_devices_confirmed(user):
        return _two_step_confirm_session(request, user, form)
    return _two_step_set_up(request, user, form)


def _two_step_confirm_session(request: HttpRequest, user: User, form: TotpCodeForm) -> HttpResponse:
    if session_is_verified(user):
        return render(request, "accounts/two_step_done.html")
    next_url = _next_url(request)
    if form.is_valid():
        device = totp_verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return HttpResponseRedirect(next_url)
        form.add_error(
            "code",
            "This code is not right or was used already: wait for the next one and try again.",
        )
    return render(request, "accounts/two_step_verify.html", {"form": form, "next": next_url})


def _two_step_set_up(request: HttpRequest, user: User, form: TotpCodeForm) -> HttpResponse:
    next_url = _next_url(request)
    device = totp_device_start(user=user)
    if form.is_valid():
        if totp_device_confirm(device=device, code=form.cleaned_data["code"]):
            otp_login(request, device)
            messages.success(
                request,
                "Your authenticator app is set up: you will need a code from it at every sign-in.",
            )
            return HttpResponseRedirect(next_url)
        form.add_error(
            "code",
            "This code is not right: check that the app shows diarytrial "
            "with your username, wait for a new code and try again.",
        )
    # Drawn here as inline SVG: the secret never leaves the server for a QR service.
    qr_svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=2, title="QR code to scan with your authenticator app"
    )
    context = {
        "form": form,
        "next": next_url,
        "qr_svg": qr_svg,
        "secret": b32encode(device.bin_key).decode("ascii"),
        "required": settings.DIARYTRIAL_REQUIRE_TOTP,
    }
    return render(request, "accounts/two_step_setup.html", context)


@never_cache
def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """The admin's own sign-in page, replaced: everyone signs in through `sign_in`.

    The admin sends here whoever it refuses; a signed-in user it refused is no administrator.
    """
    if request.user.is_authenticated:
        raise PermissionDeniedError(
            "The admin pages are for administrators only. Your work is on the study pages."
        )
    target = request.GET.get("next") or reverse("admin:index")
    return redirect_to_login(target, login_url=reverse("accounts:sign_in"))


def _totp_qr(device: TOTPDevice) -> str:
    # Drawn here as inline SVG: the secret never leaves the server for a QR service.
    return str(
        segno.make(device.config_url, error="m").svg_inline(
            scale=5, border=2, title="QR code to scan with your authenticator app"
        )
    )


@sensitive_post_parameters("password", "password_again", "code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link of an invitation: choose a password and set up the authenticator app, together.

    Refused (410) with what to do when the link is unknown, used, replaced or expired; then
    the person signs in on the sign-in page, with the code.
    """
    try:
        found = invitation_for_token(token)
        device = invitation_device(found)
    except InvitationInvalidError as error:
        return render(request, "accounts/invitation.html", {"refusal": error.message}, status=410)
    form = InvitationForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_valid():
        try:
            user = invitation_accept(
                token=token,
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
            )
        except InvitationInvalidError as error:
            return render(
                request, "accounts/invitation.html", {"refusal": error.message}, status=410
            )
        except InvalidInputError as error:
            field = str(error.extra.get("field", ""))
            form.add_error(field if field in form.fields else None, error.message)
            status = error.http_status
        else:
            messages.success(
                request,
                f"Your account {user.get_username()} is ready. Sign in with your password and "
                f"a code from your authenticator app.",
            )
            return redirect("accounts:sign_in")
    elif form.is_bound:
        status = 400
    context = {
        "form": form,
        "invited": found.user,
        "qr_svg": _totp_qr(device),
        "secret": b32encode(device.bin_key).decode("ascii"),
        "lifetime_hours": INVITATION_LIFETIME_HOURS,
    }
    return render(request, "accounts/invitation.html", context, status=status)
