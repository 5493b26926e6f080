"""How the audit events of the daily digest's settings read (``audit.wording``)."""

from __future__ import annotations

from diarytrial.audit.wording import RecordWording, register_record_wording


def register() -> None:
    """Register the wording of the records of `monitoring` (``MonitoringConfig.ready``)."""
    register_record_wording(
        RecordWording(
            object_type="monitoring.digestschedule",
            noun="daily digest schedule",
            phrase=lambda event: "the daily digest's schedule",
            fields={"timezone": "Time zone", "send_at": "Sent at"},
        )
    )
    register_record_wording(
        RecordWording(
            object_type="monitoring.digestsubscription",
            noun="daily digest subscription",
            phrase=lambda event: "their daily digest",
            fields={"subscribed": "Receives it"},
        )
    )
