"""How the audit events of a participant's reminder settings read (``audit.wording``)."""

from __future__ import annotations

from diarytrial.audit.wording import RecordWording, register_record_wording


def register() -> None:
    """Register the wording of the records of `reminders` (``RemindersConfig.ready``)."""
    register_record_wording(
        RecordWording(
            object_type="reminders.remindersettings",
            noun="reminder settings",
            phrase=lambda event: "the reminder settings",
            fields={
                "email": "E-mail address",
                "email_enabled": "Reminders by e-mail",
                "push_enabled": "Reminders on the phone",
            },
        )
    )
    register_record_wording(
        RecordWording(
            object_type="reminders.pushsubscription",
            noun="phone notification subscription",
            phrase=lambda event: f"phone notification subscription {event.object_id}",
            fields={"device": "Phone", "endpoint": "Push address"},
        )
    )
    register_record_wording(
        RecordWording(
            object_type="reminders.calendarfeed",
            noun="calendar address",
            phrase=lambda event: f"calendar address {event.object_id}",
            fields={"revoked_at": "Stopped at"},
        )
    )
