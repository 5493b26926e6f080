"""How the audit events of participants' phones and enrolment links read (``audit.wording``)."""

from __future__ import annotations

from diarytrial.audit.models import AuditAction
from diarytrial.audit.wording import RecordWording, register_record_wording


def register() -> None:
    """Register the wording of the records of `devices` (``DevicesConfig.ready``)."""
    register_record_wording(
        RecordWording(
            object_type="devices.device",
            noun="phone",
            phrase=lambda event: f"phone {event.object_id}",
            fields={
                "participant": "Participant",
                "enrolment_link": "Enrolment link",
                "label": "Phone",
                "revoked_at": "Revoked at",
                "pin": "PIN",
                "pin_failures": "Wrong PINs in a row",
            },
            verbs={AuditAction.CREATE: "set up"},
        )
    )
    register_record_wording(
        RecordWording(
            object_type="devices.enrolmentlink",
            noun="phone enrolment link",
            phrase=lambda event: f"phone enrolment link {event.object_id}",
            fields={"participant": "Participant", "expires_at": "Expires at"},
            verbs={AuditAction.CREATE: "issued"},
        )
    )
