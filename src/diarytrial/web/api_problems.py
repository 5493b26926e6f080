"""The JSON API's errors as its OpenAPI document declares them.

`ProblemOut` (in ``core/problems.py``) is the schema of every error body: an RFC 7807 problem
document, sent as ``application/problem+json``. Each router lists it under the statuses its
services refuse with (404, 409, 422, 423, 503, ...); `declare_problems` adds to every operation
of the document what the API answers whatever the endpoint (the phone's cookie and PIN, CSRF on
writes, a body it cannot read, an unexpected failure) and gives every error response the problem
media type, so that the document says what the API really sends (a test holds it to that).
"""

from __future__ import annotations

from typing import Any

from diarytrial.core.problems import PROBLEM_CONTENT_TYPE, ProblemOut

_EVERY_OPERATION = {
    "401": "`device_not_enrolled`: no enrolled phone (no device cookie, an unknown or revoked one)",
    "403": "`pin_required`: the phone is locked with a PIN; `csrf_failed`: a write without the "
    "page's CSRF token (`X-CSRFToken`)",
    "500": "`server_error`: an unexpected failure, logged; nothing of its cause is shown",
    "503": "`database_unavailable`: the database does not answer; send the same request again "
    "after `Retry-After` seconds (and, where the site has no Web Push keys, the push endpoints' "
    "`push_not_configured`)",
}
_EVERY_STAFF_OPERATION = {
    "401": "`not_signed_in`: no signed-in staff session (the staff sign in at /accounts/sign-in/)",
    "403": "`permission_denied`: the signed-in user has no role in the study that allows this "
    "(also for a study that does not exist)",
    "404": "`not_found`: an address that does not exist; `study_not_found` for a study that "
    "does not exist, answered to administrators only",
    "500": _EVERY_OPERATION["500"],
    "503": "`database_unavailable`: the database does not answer; send the same request again "
    "after `Retry-After` seconds",
}
"""What an operation tagged ``staff`` (a staff session, not a phone) answers in their place."""
_WITH_PARAMETERS = {
    "422": "`validation_error`: a value that does not fit the schema (`errors` lists each); "
    "or the service's own refusal of the values",
}
_WITH_BODY = {
    **_WITH_PARAMETERS,
    "413": "`request_too_large`: a body over 64 KB",
    "415": "`unsupported_media_type`: a body that is not sent as `application/json`",
}


def _problem_content(ref: str) -> dict[str, Any]:
    return {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": ref}}}


def declare_problems(document: dict[str, Any]) -> dict[str, Any]:
    """`document` (an OpenAPI document made by Ninja) with every error response a problem."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "ProblemOut", ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    ref = "#/components/schemas/ProblemOut"
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            # Ninja keys statuses by number, JSON by text: 401 and "401" would be two keys of
            # one object, which Swagger UI refuses ("duplicated mapping key"). One key each,
            # with our description, as JSON readers (the last key wins) saw it before.
            responses: dict[str, Any] = {
                str(status): answer for status, answer in operation.get("responses", {}).items()
            }
            operation["responses"] = responses
            staff = "staff" in operation.get("tags", ())
            common = dict(_EVERY_STAFF_OPERATION if staff else _EVERY_OPERATION)
            if "requestBody" in operation:
                common.update(_WITH_BODY)
            elif operation.get("parameters"):
                common.update(_WITH_PARAMETERS)
            for status, description in common.items():
                responses[status] = {"description": description}
            for status, response in responses.items():
                if int(status) >= 400:
                    response["content"] = _problem_content(ref)
    return document
