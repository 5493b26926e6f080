"""Sign-in attempts, kept to throttle guessing. Not trial data: they are not audited."""

from __future__ import annotations

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
