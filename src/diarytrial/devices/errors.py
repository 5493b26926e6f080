"""What the devices services refuse. Messages may reach a participant's phone: plain words,
no arm, and always what to do next."""

from __future__ import annotations

from diarytrial.core.errors import ApplicationError, InvalidInputError


class EnrolmentLinkInvalidError(ApplicationError):
    """An enrolment link that is unknown, used, expired or replaced by a newer one."""

    code = "enrolment_link_invalid"
    title = "This link no longer works"
    http_status = 410


class DeviceNotEnrolledError(ApplicationError):
    """A request from a phone that is not (or no longer) set up for a participant's diary."""

    code = "device_not_enrolled"
    title = "This phone is not set up for the diary"
    http_status = 401


class PinRequiredError(ApplicationError):
    """A PIN-protected phone that has not been unlocked with its PIN."""

    code = "pin_required"
    title = "Enter your PIN"
    http_status = 403


class PinInvalidError(InvalidInputError):
    """A PIN that is not four digits."""

    code = "pin_invalid"
