"""Sign-in attempts, kept to throttle guessing (not trial data: not audited); invitations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class SignInAttempt(models.Model):
    """One try to sign in with a username and password (and code): who, from where, whether it
    worked. Written only by ``accounts.services.sign_in_attempt_record``."""

    username = models.CharField(max_length=150, help_text="As typed, also for unknown users.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField()
    attempted_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("attempted_at", "id")
        indexes = (
            models.Index(fields=["username", "attempted_at"], name="accounts_attempt_user_time"),
            models.Index(fields=["ip_address", "attempted_at"], name="accounts_attempt_ip_time"),
        )

    def __str__(self) -> str:
        outcome = "succeeded" if self.succeeded else "failed"
        return f"sign-in of {self.username!r} from {self.ip_address} {outcome}"


class Invitation(models.Model):
    """A single-use, expiring link, sent by e-mail, with which an invited person sets their
    password and two-step device. Only the token's SHA-256 is kept; the e-mail holds the token.
    Written only by the invitation services of ``accounts.services``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invitations"
    )
    email = models.EmailField(help_text="Where the link was sent.")
    study_slug = models.CharField(
        max_length=40, blank=True, help_text="The study the person was invited to work on."
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when a newer invitation replaced this unused one, or the account was "
        "deactivated.",
    )

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"invitation of {self.email}"
