"""No 5xx from bad input under /api/: every malformed request is a 4xx problem document that
says what to fix, stores nothing and logs no traceback.

Each endpoint that reads a body gets every attack on the body itself (format, encoding, JSON
that is not JSON, sizes) and its own attacks on each field; every endpoint gets the attacks on
who is calling (cookie, CSRF, Host) and on its address and method. Tonight's window is open and
a well-formed request is accepted at the end of each run, so a refusal is due to the input.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from tests.diary.helpers import answers
from tests.reminders.helpers import BrowserKeys
from tests.web.api_phone import Phone, phone_with_open_window, stored_rows, tracebacks_and_errors

from diarytrial.core.problems import PROBLEM_CONTENT_TYPE

pytestmark = pytest.mark.django_db

JSON = "application/json"


@dataclass(frozen=True)
class Bad:
    """One malformed request body and the problem it must get."""

    name: str
    body: bytes
    status: int = 422
    code: str = "validation_error"
    content_type: str | None = JSON
    # A POST's CSRF check reads a form body before the body is parsed: a different refusal.
    status_on_post: tuple[int, str] | None = None


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


BODY_ATTACKS = [
    Bad("text/plain", b"{}", 415, "unsupported_media_type", "text/plain"),
    Bad("application/xml", b"<a/>", 415, "unsupported_media_type", "application/xml"),
    Bad("no Content-Type", b"{}", 415, "unsupported_media_type", None),
    Bad("a form", b"a=1", 415, "unsupported_media_type", "application/x-www-form-urlencoded"),
    Bad(
        "a form of 5,000 fields",
        b"&".join(b"f%d=1" % i for i in range(5000)),
        415,
        "unsupported_media_type",
        "application/x-www-form-urlencoded",
        status_on_post=(400, "bad_request"),
    ),
    Bad(
        "a multipart form",
        b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n',
        415,
        "unsupported_media_type",
        "multipart/form-data; boundary=x",
    ),
    Bad(
        "a multipart body without a boundary",
        b"--x\r\n",
        415,
        "unsupported_media_type",
        "multipart/form-data",
        status_on_post=(400, "bad_request"),
    ),
    Bad("an empty body", b""),
    Bad("not UTF-8", b'{"a": "\xff\xfe"}'),
    Bad("UTF-16", '{"a": 1}'.encode("utf-16")),
    Bad("a JSON array", b"[]"),
    Bad("JSON null", b"null"),
    Bad("a JSON string", b'"x"'),
    Bad("a JSON number", b"42"),
    Bad("JSON true", b"true"),
    Bad("truncated JSON", b'{"a": '),
    Bad("text after the JSON", b"{} x"),
    Bad("NaN", b'{"a": NaN}'),
    Bad("Infinity", b'{"a": -Infinity}'),
    Bad("a lone surrogate", b'{"a": "\\ud800"}'),
    Bad("a NUL escape in a key", b'{"\\u0000": 1}'),
    Bad("nested 1,000 deep", _nested(1000)),
    Bad("a number of 5,000 digits", b'{"a": 1' + b"0" * 5000 + b"}"),
    Bad("a string of 1 MB", _json({"a": "x" * 1_000_000}), 413, "request_too_large"),
    Bad("3 MB of spaces", b"{}" + b" " * 3_000_000, 413, "request_too_large"),
    Bad(
        "a form of 3 MB",
        b"a=" + b"x" * 3_000_000,
        413,
        "request_too_large",
        "application/x-www-form-urlencoded",
    ),
]


def _field(name: str, value: Any, code: str = "validation_error", status: int = 422) -> Any:
    """A field attack: the well-formed body with `name` set to `value` (a raw JSON text when
    `value` is bytes; absent when it is ...)."""
    return (name, value, status, code)


def _entry(phone: Phone, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "form_date": phone.tonight.isoformat(),
        "answers": answers(pain=42),
        "side_effects": {"headache": "somewhat"},
        "capsule_taken": True,
        "completed_at_device": "2026-03-02T21:14:03-08:00",
    }
    body.update(changes)
    return body


ENTRY_FIELDS = [
    _field("client_id", "not-a-uuid"),
    _field("client_id", 12),
    _field("client_id", None),
    _field("client_id", ...),
    _field("form_date", "0001-01-01", "diary_window_closed", 409),
    _field("form_date", "9999-12-31", "diary_date_invalid"),
    _field("form_date", "9999-12-30", "diary_window_closed", 409),
    _field("form_date", "not-a-date"),
    _field("form_date", "2025-02-30"),
    _field("form_date", "10000-01-01"),
    _field("form_date", 20251120),
    _field("form_date", ...),
    _field("answers", {"pain": 10**400}, "diary_answers_invalid"),
    _field("answers", b'{"pain": 1e400}', "diary_answers_invalid"),
    _field("answers", {"pain": -1}, "diary_answers_invalid"),
    _field("answers", {"pain": "a lot"}),
    _field("answers", {"pain": True}),
    _field("answers", {"pain": [1]}),
    _field("answers", {"pain": None}),
    _field("answers", {"": 1, "\u0000": 1}, "diary_answers_invalid"),
    _field("answers", {"x" * 10_000: 1}, "diary_answers_invalid"),
    _field("answers", [42]),
    _field("answers", {}, "diary_answers_invalid"),
    _field("side_effects", {"headache": "extremely"}, "diary_answers_invalid"),
    _field("side_effects", {"headache": None}),
    _field("side_effects", {"\u0000": "very"}, "diary_answers_invalid"),
    _field("side_effects", "headache"),
    _field("capsule_taken", "yes"),
    _field("capsule_taken", 1),
    _field("completed_at_device", "2025-11-20T19:57:00"),
    _field("completed_at_device", "9999-12-31T23:59:59-23:59"),
    _field("completed_at_device", "0001-01-01T00:00:00+23:59"),
    _field("completed_at_device", "0001-01-01T00:00:00Z"),
    _field("completed_at_device", "2025-13-01T00:00:00Z"),
    _field("completed_at_device", 1763678220),
    _field("received_at", "2025-11-10T04:00:00Z"),
    _field("status", "corrected"),
]
# A correction names its date in the address: a form date that is not that date is refused first.
CORRECTION_FIELDS = [
    field for field in ENTRY_FIELDS if field[0] != "form_date" or field[3] == "validation_error"
] + [
    _field("form_date", "0001-01-01", "diary_date_invalid"),
    _field("form_date", "9999-12-31", "diary_date_invalid"),
]
PGIC_FIELDS = [
    _field("visit", 10**30, "pgic_answer_invalid"),
    _field("visit", -(10**30), "pgic_answer_invalid"),
    _field("visit", 2**63, "pgic_answer_invalid"),
    _field("visit", -1, "pgic_answer_invalid"),
    _field("visit", "2"),
    _field("visit", 2.5),
    _field("visit", None),
    _field("score", 0, "pgic_answer_invalid"),
    _field("score", 8, "pgic_answer_invalid"),
    _field("score", 10**30, "pgic_answer_invalid"),
    _field("score", "3"),
    _field("score", ...),
    _field("extra", 1),
]
BLINDING_FIELDS = [
    _field("visit", 10**30, "pgic_answer_invalid"),
    _field("visit", True),
    _field("guess", "DRUG", "pgic_answer_invalid"),
    _field("guess", "\u0000", "pgic_answer_invalid"),
    _field("guess", "x" * 30_000, "pgic_answer_invalid"),
    _field("guess", 1),
    _field("guess", ...),
]
SETTINGS_FIELDS = [
    _field("email", "not an address", "reminder_email_invalid"),
    _field("email", "ana\u0000@example.org", "reminder_email_invalid"),
    _field("email", "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "org"),
    _field("email", "ana@example.org\r\nBcc: all@example.org", "reminder_email_invalid"),
    _field("email", 42),
    _field("email_enabled", "yes"),
    _field("email_enabled", ...),
    _field("push_enabled", None),
    _field("email", None, "reminder_email_invalid"),  # e-mail reminders without an address
]
SUBSCRIPTION_FIELDS = [
    _field("endpoint", "https://push.example.org/\u0000"),
    _field("endpoint", "https://push.example.org/a b"),
    _field("endpoint", "javascript:alert(1)", "push_subscription_invalid"),
    _field("endpoint", "file:///etc/passwd", "push_subscription_invalid"),
    _field("endpoint", "https://push.example.org/" + "a" * 3000),
    _field("endpoint", ""),
    _field("endpoint", ...),
    _field("keys", {"p256dh": "a\u0000", "auth": "b"}),
    _field("keys", {"p256dh": "not base64!", "auth": "b"}),
    _field("keys", {"p256dh": "a" * 201, "auth": "b"}),
    _field("keys", {"p256dh": "a", "auth": "b" * 101}),
    _field("keys", {"p256dh": "a"}),
    _field("keys", "a,b"),
    _field("expirationTime", "soon"),
]


@dataclass(frozen=True)
class Endpoint:
    """An endpoint that reads a body, its well-formed body, and its field attacks."""

    method: str
    path: str
    fields: list[Any]
    # What the well-formed body gets at the end of the run (no end-of-period question is due
    # to a participant not randomized: 422 pgic_answer_invalid, from the service).
    accepted: int

    def url(self, phone: Phone) -> str:
        return self.path.replace("{tonight}", phone.tonight.isoformat())

    def body(self, phone: Phone) -> dict[str, Any]:
        if self.path.startswith("/api/diary/entries"):
            return _entry(phone)
        if self.path == "/api/diary/pgic":
            return {"visit": 2, "score": 3}
        if self.path == "/api/diary/blinding":
            return {"visit": 2, "guess": "dont_know"}
        if self.path == "/api/reminders/settings":
            return {"email": "ana@example.org", "email_enabled": True, "push_enabled": False}
        keys = BrowserKeys.new()
        return {
            "endpoint": "https://push.example.org/send/abc",
            "keys": {"p256dh": keys.p256dh, "auth": keys.auth},
            "expirationTime": None,
        }


ENDPOINTS = {
    "submit an entry": Endpoint("POST", "/api/diary/entries", ENTRY_FIELDS, 201),
    "correct an entry": Endpoint("PUT", "/api/diary/entries/{tonight}", CORRECTION_FIELDS, 200),
    "answer the PGIC": Endpoint("POST", "/api/diary/pgic", PGIC_FIELDS, 422),
    "say what you took": Endpoint("POST", "/api/diary/blinding", BLINDING_FIELDS, 422),
    "change reminders": Endpoint("PUT", "/api/reminders/settings", SETTINGS_FIELDS, 200),
    "subscribe to pushes": Endpoint(
        "POST", "/api/reminders/push-subscriptions", SUBSCRIPTION_FIELDS, 201
    ),
}


def _with_field(body: dict[str, Any], name: str, value: Any) -> bytes:
    if value is ...:
        return _json({key: item for key, item in body.items() if key != name})
    if isinstance(value, bytes):
        return _json({**body, name: "__raw__"}).replace(b'"__raw__"', value)
    return _json({**body, name: value})


def _refusal(response: Any, status: int, code: str) -> str | None:
    """What is wrong with `response` as the problem (`status`, `code`), or None."""
    if response["Content-Type"] != PROBLEM_CONTENT_TYPE:
        return f"{response.status_code} {response['Content-Type']}"
    problem = response.json()
    got = (response.status_code, problem.get("code"))
    if got != (status, code):
        return f"{got} {problem.get('detail', '')[:160]}"
    if not problem.get("detail") or problem.get("status") != status:
        return f"an incomplete problem: {problem}"
    return None


class Refusals:
    """What was wrong with each refusal of a run; at its end, nothing stored, nothing logged."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.clear()
        self.caplog = caplog
        self.rows_before = stored_rows()
        self.wrong: list[str] = []

    def check(self, label: str, response: Any, status: int, code: str) -> None:
        if wrong := _refusal(response, status, code):
            self.wrong.append(f"{label}: {wrong}")

    def assert_clean(self) -> None:
        assert self.wrong == [], "\n".join(self.wrong)
        assert stored_rows() == self.rows_before
        assert tracebacks_and_errors(self.caplog) == []


@pytest.fixture
def phone(settings: Any) -> Phone:
    return phone_with_open_window(settings)


@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=ENDPOINTS.keys())
def test_every_malformed_body_is_refused_and_stores_nothing(
    endpoint: Endpoint, phone: Phone, caplog: pytest.LogCaptureFixture
) -> None:
    url = endpoint.url(phone)
    if endpoint.method == "PUT" and url.startswith("/api/diary/entries/"):
        created = phone.send("POST", "/api/diary/entries", _json(endpoint.body(phone)))
        assert created.status_code == 201  # tonight's entry, for the corrections to correct
    refusals = Refusals(caplog)

    for bad in BODY_ATTACKS:
        status, code = bad.status, bad.code
        if endpoint.method == "POST" and bad.status_on_post:
            status, code = bad.status_on_post
        response = phone.send(endpoint.method, url, bad.body, content_type=bad.content_type)
        refusals.check(bad.name, response, status, code)
    for name, value, status, code in endpoint.fields:
        body = _with_field(endpoint.body(phone), name, value)
        response = phone.send(endpoint.method, url, body)
        refusals.check(f"{name}={str(value)[:40]!r}", response, status, code)

    refusals.assert_clean()
    well_formed = phone.send(endpoint.method, url, _json(endpoint.body(phone)))
    assert well_formed.status_code == endpoint.accepted, well_formed.content


OPERATIONS = [
    ("GET", "/api/diary/form"),
    ("GET", "/api/diary/entries"),
    ("POST", "/api/diary/entries"),
    ("PUT", "/api/diary/entries/{tonight}"),
    ("GET", "/api/diary/progress"),
    ("POST", "/api/diary/pgic"),
    ("POST", "/api/diary/blinding"),
    ("GET", "/api/reminders/settings"),
    ("PUT", "/api/reminders/settings"),
    ("GET", "/api/reminders/push-key"),
    ("POST", "/api/reminders/push-subscriptions"),
    ("DELETE", "/api/reminders/push-subscriptions"),
    ("POST", "/api/reminders/calendar"),
    ("DELETE", "/api/reminders/calendar"),
]
WRITES = {"POST", "PUT", "DELETE"}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[" ".join(op) for op in OPERATIONS])
def test_who_is_calling_is_checked_before_anything_is_read(
    method: str, path: str, phone: Phone, caplog: pytest.LogCaptureFixture
) -> None:
    url = path.replace("{tonight}", phone.tonight.isoformat())
    refusals = Refusals(caplog)
    body = b"{}" if method in {"POST", "PUT"} else None
    cookie = phone.client.cookies
    write = method in WRITES
    # Harmless to a read, which answers as without them; a write without its token is refused.
    harmless = (403, "csrf_failed") if write else (0, "")
    attacks: list[tuple[str, dict[str, Any], tuple[int, str]]] = [
        ("a Host this site does not serve", {"HTTP_HOST": "evil.example"}, (400, "bad_request")),
        ("a Host of 10,000 characters", {"HTTP_HOST": "a" * 10_000}, (400, "bad_request")),
        ("an X-CSRFToken of control bytes", {"HTTP_X_CSRFTOKEN": "\x00\x7f" * 32}, harmless),
        ("an X-CSRFToken of 100 KB", {"HTTP_X_CSRFTOKEN": "a" * 100_000}, harmless),
        ("no CSRF token, a header of 100 KB", {"HTTP_X_PADDING": "x" * 100_000}, harmless),
        ("a Content-Length that lies", {"CONTENT_LENGTH": "99999999"}, harmless),
    ]
    for name, headers, (status, code) in attacks:
        response = phone.send(method, url, body, csrf=name.startswith("a Host"), **headers)
        if status == 0:
            if response.status_code >= 500:
                refusals.wrong.append(f"{name}: {response.status_code}")
        else:
            refusals.check(name, response, status, code)
    for name, value in [
        ("no device cookie", None),
        ("an unknown device cookie", "x" * 43),
        ("a device cookie of 4 KB", "a" * 4096),
        ("a device cookie with control bytes", "\x01\x7f;="),
    ]:
        cookie.pop("dt_device", None)
        if value is not None:
            cookie["dt_device"] = value
        refusals.check(name, phone.send(method, url, body), 401, "device_not_enrolled")
    cookie["dt_device"] = phone.device_cookie

    refusals.assert_clean()


BAD_DATES = ["not-a-date", "2025-13-45", "2025-02-30", "0000-01-01", "99999-01-01", "-0001-01-01"]
BAD_DATES += ["%00", "%FF", "9" * 5000, "2025-11-20T12:30:00", "20251120", "2025-W47-4"]


def test_a_diary_date_in_the_address_that_is_no_date_is_refused(
    phone: Phone, caplog: pytest.LogCaptureFixture
) -> None:
    refusals = Refusals(caplog)
    for text in BAD_DATES:
        response = phone.send("PUT", f"/api/diary/entries/{text}", _json(_entry(phone)))
        refusals.check(text[:20], response, 422, "validation_error")
    for text, status, code in [
        ("9999-12-31", 404, "not_found"),  # no entry of that date to correct
        ("0001-01-01", 404, "not_found"),
        ("2025-11-20T00:00:00", 404, "not_found"),  # read as that date, which has no entry
        ("2025-11-20%2F..%2F..%2F", 404, "not_found"),  # a slash: no such address
    ]:
        body = _json(_entry(phone, form_date=text[:10]))
        refusals.check(text, phone.send("PUT", f"/api/diary/entries/{text}", body), status, code)

    refusals.assert_clean()


BAD_ENDPOINTS = ["\x00", "a" * 2049, "https://push.example.org/ x", "\x7f"]


def test_stopping_pushes_for_an_address_that_is_no_address_is_refused(
    phone: Phone, caplog: pytest.LogCaptureFixture
) -> None:
    refusals = Refusals(caplog)
    for text in BAD_ENDPOINTS:
        response = phone.client.delete(
            "/api/reminders/push-subscriptions",
            QUERY_STRING=f"endpoint={text}",
            HTTP_X_CSRFTOKEN=phone.csrf_token,
        )
        refusals.check(repr(text[:20]), response, 422, "validation_error")

    refusals.assert_clean()


METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
UNKNOWN = ["/api/", "/api/nothing", "/api/diary/", "/api/diary/form/", "/api//diary/form"]
UNKNOWN += ["/api/diary/entries/2025-11-20/x", "/api/%FF", "/api/" + "a" * 5000, "/api/docs/x"]


@pytest.mark.parametrize("debug", [False, True], ids=["DEBUG off", "DEBUG on"])
def test_unknown_addresses_and_methods_are_problems_whatever_the_method(
    phone: Phone, settings: Any, caplog: pytest.LogCaptureFixture, debug: bool
) -> None:
    settings.DEBUG = debug
    refusals = Refusals(caplog)
    for path in UNKNOWN:
        for method in METHODS:
            response = phone.send(method, path, b"{}", csrf=False)
            refusals.check(f"{method} {path[:40]}", response, 404, "not_found")
    for method, path in [("PATCH", "/api/diary/entries"), ("DELETE", "/api/diary/form")]:
        response = phone.send(method, path, b"{}")
        refusals.check(f"{method} {path}", response, 405, "method_not_allowed")

    refusals.assert_clean()


def test_push_without_keys_is_a_documented_503_without_a_traceback(
    phone: Phone, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.VAPID_PUBLIC_KEY = ""
    refusals = Refusals(caplog)
    body = _json(ENDPOINTS["subscribe to pushes"].body(phone))

    responses = [
        phone.send("GET", "/api/reminders/push-key"),
        phone.send("POST", "/api/reminders/push-subscriptions", body),
    ]

    for response in responses:
        refusals.check(response.request["PATH_INFO"], response, 503, "push_not_configured")
        assert "e-mail reminders or the calendar" in response.json()["detail"]
    refusals.assert_clean()
    warnings = [r for r in caplog.records if "push_not_configured" in r.getMessage()]
    assert [r.levelname for r in warnings] == ["WARNING", "WARNING"]  # one line each, no more
    assert [r for r in caplog.records if r.name == "django.request" and r.levelno >= 30] == []
