"""How the audit events of staff accounts and their two-step devices read (``audit.wording``)."""

from __future__ import annotations

from diarytrial.audit.models import AuditAction
from diarytrial.audit.wording import RecordWording, register_record_wording


def register() -> None:
    """Register the wording of the accounts' records (``AccountsConfig.ready``)."""
    register_record_wording(
        RecordWording(
            object_type="otp_totp.totpdevice",
            noun="two-step device",
            phrase=lambda event: f"two-step device {event.object_id}",
            fields={"name": "Name", "confirmed": "Confirmed"},
            verbs={
                AuditAction.CREATE: "started setting up",
                AuditAction.TWO_STEP_ADD: "confirmed",
                AuditAction.TWO_STEP_REMOVE: "removed",
            },
        )
    )
    register_record_wording(
        RecordWording(
            object_type="auth.user",
            noun="user account",
            phrase=lambda event: f"the account of {event.object_repr}",
            fields={
                "username": "Username",
                "email": "E-mail address",
                "is_active": "Active",
                "first_name": "First name",
                "last_name": "Last name",
                "password": "Password",
                "invitation": "Invitation",
                "invitation_expires_at": "Invitation valid until",
            },
        )
    )
