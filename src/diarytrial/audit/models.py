"""The audit event: who did what to which record, when, with old and new values and why.

Events are append-only. The model refuses updates and deletes (also in bulk, through its
queryset), and the database refuses them too: a trigger on PostgreSQL and on SQLite (migration
0002). Each event carries the hash of the one before it, so removing or altering an event breaks
the chain that ``diarytrial audit verify`` checks.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    CREATE = "create", "created"
    UPDATE = "update", "changed"
    REMOVE = "remove", "removed"
    READ = "read", "read"
    UNBLIND = "unblind", "unblinded"
    LOCK = "lock", "locked"
    UNLOCK = "unlock", "unlocked"
    EXPORT = "export", "exported"
    # Security events (21 CFR Part 11): who added or removed a second sign-in factor, and every
    # wrong PIN on a participant's phone up to the lockout that revokes it.
    TWO_STEP_ADD = "two_step_add", "added a two-step device"
    TWO_STEP_REMOVE = "two_step_remove", "removed a two-step device"
    PIN_WRONG = "pin_wrong", "entered a wrong PIN"
    PIN_LOCKOUT = "pin_lockout", "locked out by wrong PINs"
    # Staff administration: invitations, roles granted and revoked, accounts deactivated.
    INVITE = "invite", "invited"
    GRANT = "grant", "granted a role"
    REVOKE = "revoke", "revoked a role"
    DEACTIVATE = "deactivate", "deactivated"
    # Electronic signatures (21 CFR Part 11.50, 11.70, 11.200): a signature applied, a failed
    # attempt (wrong password or code), and signing locked after repeated failures.
    SIGN = "sign", "signed"
    SIGN_FAILED = "sign_failed", "failed to sign"
    SIGN_LOCKOUT = "sign_lockout", "locked out of signing"


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only: they cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only: they cannot be deleted")


class AuditEvent(models.Model):
    """One entry of the trail. Written only by ``audit.services.audit_record``."""

    occurred_at = models.DateTimeField(help_text="Server time of the change (UTC).")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The acting user; empty for the system or a participant's device.",
    )
    actor_label = models.CharField(max_length=150, help_text="Who acted, as shown in history.")
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    study_slug = models.CharField(max_length=40, blank=True, db_index=True)
    object_type = models.CharField(max_length=100, help_text="app_label.model of the record.")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    participant_code = models.CharField(
        max_length=20,
        blank=True,
        default="",
        help_text=(
            "The participant the event concerns (their code), empty when none; written by "
            "audit_record from 0005 on, so that a participant's trail is one indexed filter."
        ),
    )
    changes = models.JSONField(default=list, help_text="A list of {field, old, new}, JSON values.")
    reason = models.TextField(blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects: ClassVar[AuditEventQuerySet] = AuditEventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ("id",)
        indexes: ClassVar = [
            models.Index(fields=["object_type", "object_id", "id"]),
            models.Index(fields=["study_slug", "participant_code", "id"], name="audit_participant"),
            models.Index(fields=["study_slug", "id"], name="audit_study_newest"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.actor_label} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events are append-only: they cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only: they cannot be deleted")


class AuditChainHead(models.Model):
    """One row holding the hash of the latest event; locking it orders concurrent writers."""

    last_hash = models.CharField(max_length=64)
    last_event_id = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"chain head at event {self.last_event_id}"
