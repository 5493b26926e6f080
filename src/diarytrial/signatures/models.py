"""An electronic signature: the signer, their printed name, the meaning, the time, and the
SHA-256 hash of the content signed (21 CFR Part 11.50 and 11.70).

A signature is never changed or deleted: a record that changes after it was signed keeps its
signature, which then no longer matches (the page shows it as invalid), and is signed again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from diarytrial.studies.models import Study


class Meaning(models.TextChoices):
    """What the signer means by signing (Part 11.50(a)(3))."""

    APPROVED = "approved", "Approved"
    REVIEWED = "reviewed", "Reviewed"
    RESPONSIBLE = "responsible", "Responsible for"


class SignedAct(models.TextChoices):
    """The acts that are signed."""

    DATABASE_LOCK = "database_lock", "database lock"
    DATABASE_UNLOCK = "database_unlock", "database unlock"
    ADVERSE_EVENT = "adverse_event", "adverse event"
    CASEBOOK = "casebook", "casebook"
    EMERGENCY_UNBLINDING = "emergency_unblinding", "emergency unblinding"
    MANIFEST = "manifest", "certified copy manifest"


class ImmutableSignatureError(RuntimeError):
    """An attempt to change or delete a signature."""


class Signature(models.Model):
    """One signature. Written only by ``signatures.services.signature_apply``."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="signatures")
    act = models.CharField(max_length=24, choices=SignedAct.choices)
    object_type = models.CharField(max_length=100, help_text="app_label.model of the record.")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, help_text="The record, as people name it.")
    participant_code = models.CharField(
        max_length=20, blank=True, help_text="The participant whose record was signed, if any."
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures"
    )
    printed_name = models.CharField(
        max_length=150, help_text="The signer's full name (or username) when they signed."
    )
    meaning = models.CharField(max_length=12, choices=Meaning.choices)
    signed_at = models.DateTimeField(help_text="Server time of the signature (UTC).")
    content_sha256 = models.CharField(
        max_length=64, help_text="SHA-256 of the canonical content signed."
    )

    class Meta:
        ordering = ("signed_at", "id")
        indexes = (models.Index(fields=["object_type", "object_id", "id"]),)
        constraints = (
            models.CheckConstraint(
                condition=Q(meaning__in=Meaning.values), name="signatures_meaning_known"
            ),
            models.CheckConstraint(
                condition=Q(act__in=SignedAct.values), name="signatures_act_known"
            ),
        )

    def __str__(self) -> str:
        return f"signature {self.pk}: {self.printed_name}, {self.meaning}, {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableSignatureError("a signature cannot be changed once applied")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableSignatureError("a signature cannot be deleted")
