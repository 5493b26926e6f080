"""A study and the versions of its protocol; a version, once recorded, never changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Study(models.Model):
    """One trial, identified by its protocol's ``study.id``."""

    slug = models.SlugField(
        max_length=40, unique=True, help_text="The protocol's study.id, e.g. ldn_fibromyalgia."
    )
    title = models.CharField(max_length=500, help_text="The current protocol's study.title.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("slug",)
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.slug


class ProtocolVersion(models.Model):
    """The exact text of one version of a study's protocol file; the highest number is current."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="protocol_versions")
    number = models.PositiveIntegerField(help_text="1 for the original protocol, then 2, 3, ...")
    text = models.TextField(help_text="The protocol file exactly as it was read (TOML).")
    sha256 = models.CharField(max_length=64, help_text="Hex SHA-256 of the text as UTF-8.")
    source = models.CharField(max_length=255, help_text="The file name it was read from.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # PROTECT: a trial record keeps who made it, so such a user is deactivated, never deleted.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when recorded from the command line.",
    )

    class Meta:
        ordering = ("study", "number")
        constraints = (
            models.UniqueConstraint(
                fields=["study", "number"], name="studies_protocolversion_unique_number"
            ),
            models.UniqueConstraint(
                fields=["study", "sha256"], name="studies_protocolversion_unique_sha256"
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="studies_protocolversion_number_gte_1"
            ),
        )

    def __str__(self) -> str:
        return f"{self.study.slug} protocol v{self.number}"
