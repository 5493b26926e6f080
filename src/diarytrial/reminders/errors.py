"""What the reminders services refuse. Messages may reach a participant's phone: plain words,
and always what to do next."""

from __future__ import annotations

from diarytrial.core.errors import InvalidInputError, ServiceUnavailableError


class ReminderEmailInvalidError(InvalidInputError):
    """An e-mail address that cannot receive reminders, or e-mail reminders without one."""

    code = "reminder_email_invalid"


class PushSubscriptionInvalidError(InvalidInputError):
    """A push subscription without a usable endpoint or keys."""

    code = "push_subscription_invalid"


class PushNotConfiguredError(ServiceUnavailableError):
    """The site has no Web Push keys, so phones cannot subscribe to push reminders."""

    code = "push_not_configured"
    title = "Phone notifications are not available"
