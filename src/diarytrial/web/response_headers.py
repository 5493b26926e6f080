"""Headers on every response the app makes: Permissions-Policy, and ``Cache-Control: no-store``.

The other security headers come from elsewhere: Content-Security-Policy from django-csp
(``CONTENT_SECURITY_POLICY`` in settings), Referrer-Policy from Django's SecurityMiddleware
(``SECURE_REFERRER_POLICY``). docs/deployment.md lists them all.

Every response the app makes carries ``no-store``: nearly all of them hold participant or trial
data or depend on who asks, and the few that do not (the sign-in page, the health check, the
phone's manifest and service worker) lose nothing by being fetched again. Static files are
served outside the app (by the proxy in production, by the development server's static handler
otherwise) and keep their own caching; the phone's service worker keeps its offline copies in
its own cache, which ``no-store`` does not govern (see ``phone.views.participant_page``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control


class ResponseHeadersMiddleware:
    """Add ``Permissions-Policy`` (unless a view set its own) and ``no-store`` to every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        patch_cache_control(response, no_store=True)
        return response
