"""Allocation lists, randomizations, kits and their dispensing.

Fields marked *unblinded* (a slot's sequence, a list's seed, a kit's arm and dose level, a
batch's seed) are read only through the unblinded selectors, which check the role and audit
each read. ``__str__`` of every model here avoids them, because the audit trail stores it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from diarytrial.participants.models import Participant
from diarytrial.studies.models import ProtocolVersion, Study


class AllocationList(models.Model):
    """The allocation list of one stratum of a study, generated once from a recorded seed."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="allocation_lists")
    protocol_version = models.ForeignKey(
        ProtocolVersion,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The protocol whose sequences and block sizes the list was generated from.",
    )
    stratum = models.CharField(
        max_length=200, help_text="e.g. opioid_use=true or site=stanford|opioid_use=false."
    )
    seed = models.PositiveBigIntegerField(help_text="Unblinded: regenerates the list.")
    block_sizes = models.JSONField(help_text="The block sizes drawn from, e.g. [2, 4].")
    size = models.PositiveIntegerField(help_text="Number of slots (complete blocks).")
    salt = models.CharField(max_length=32, help_text="Random salt of the fingerprint.")
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 commitment to seed and slots, recorded in the audit."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("study", "stratum")
        constraints = (
            models.UniqueConstraint(
                fields=["study", "stratum"], name="randomization_allocationlist_one_per_stratum"
            ),
        )

    def __str__(self) -> str:
        return f"allocation list {self.stratum}"


class AllocationSlot(models.Model):
    """One position of an allocation list; used by at most one participant, once."""

    allocation_list = models.ForeignKey(
        AllocationList, on_delete=models.PROTECT, related_name="slots"
    )
    position = models.PositiveIntegerField(help_text="1, 2, ... in list order.")
    block = models.PositiveIntegerField(help_text="The permuted block it belongs to, from 1.")
    sequence_code = models.CharField(max_length=40, help_text="Unblinded: e.g. AB.")
    used_by = models.OneToOneField(
        Participant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The participant randomized to this slot; unique, so a slot serves one.",
    )
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("allocation_list", "position")
        constraints = (
            models.UniqueConstraint(
                fields=["allocation_list", "position"],
                name="randomization_allocationslot_unique_position",
            ),
            models.CheckConstraint(
                condition=Q(used_by__isnull=True, used_at__isnull=True)
                | Q(used_by__isnull=False, used_at__isnull=False),
                name="randomization_allocationslot_used_with_time",
            ),
        )
        indexes = (
            models.Index(
                fields=["allocation_list", "position"],
                condition=Q(used_by__isnull=True),
                name="randomization_slot_unused",
            ),
        )

    def __str__(self) -> str:
        return f"slot {self.position} of list {self.allocation_list_id}"


class Randomization(models.Model):
    """A participant's randomization: the slot that fixed their sequence. One per participant."""

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="randomization"
    )
    slot = models.OneToOneField(
        AllocationSlot, on_delete=models.PROTECT, related_name="randomization"
    )
    randomized_at = models.DateTimeField(default=timezone.now)
    randomized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("randomized_at", "id")

    def __str__(self) -> str:
        return f"randomization of {self.participant_id}"


class KitBatch(models.Model):
    """Kits made or imported together; the seed and fingerprint are unblinded."""

    class Source(models.TextChoices):
        GENERATED = "generated", "Generated"
        IMPORTED = "imported", "Imported"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="kit_batches")
    source = models.CharField(max_length=10, choices=Source.choices)
    seed = models.PositiveBigIntegerField(null=True, blank=True, help_text="Generated only.")
    filename = models.CharField(max_length=255, blank=True, help_text="Imported only.")
    size = models.PositiveIntegerField()
    salt = models.CharField(max_length=32)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("study", "created_at", "id")
        verbose_name_plural = "kit batches"

    def __str__(self) -> str:
        return f"kit batch {self.pk} ({self.source}, {self.size} kits)"


class KitStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    DISPENSED = "dispensed", "Dispensed"
    DESTROYED = "destroyed", "Destroyed"


class Kit(models.Model):
    """A box of study medication: a code that says nothing, and unblinded contents."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="kits")
    batch = models.ForeignKey(KitBatch, on_delete=models.PROTECT, related_name="kits")
    code = models.CharField(max_length=40, help_text="e.g. K-7Q3M; random, not by arm.")
    arm = models.CharField(max_length=40, help_text="Unblinded: the protocol arm id.")
    dose_level = models.CharField(max_length=40, help_text="Unblinded: the dose level id.")
    status = models.CharField(max_length=10, choices=KitStatus.choices, default=KitStatus.AVAILABLE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("study", "code")
        constraints = (
            models.UniqueConstraint(fields=["study", "code"], name="randomization_kit_unique_code"),
            models.CheckConstraint(
                condition=Q(status__in=KitStatus.values), name="randomization_kit_status_known"
            ),
        )

    def __str__(self) -> str:
        return self.code


class Dispensing(models.Model):
    """A kit handed to a participant at a visit, for the stretch of days until the next one.

    A kit is dispensed once, and a participant gets one kit per visit. The visit, not the
    treatment period, is recorded: visits fall on the same days whatever the sequence (see
    ``protocol.visits``), periods do not.
    """

    kit = models.OneToOneField(Kit, on_delete=models.PROTECT, related_name="dispensing")
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="dispensings"
    )
    visit = models.PositiveSmallIntegerField(
        help_text="The visit that dispensed the kit, from 1 (visit 1 is the last baseline day)."
    )
    dispensed_at = models.DateTimeField(default=timezone.now)
    dispensed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("participant", "dispensed_at", "id")
        constraints = (
            models.CheckConstraint(
                condition=Q(visit__gte=1), name="randomization_dispensing_visit_gte_1"
            ),
            models.UniqueConstraint(
                fields=["participant", "visit"], name="randomization_dispensing_one_per_visit"
            ),
        )

    def __str__(self) -> str:
        return f"dispensing {self.pk}"
