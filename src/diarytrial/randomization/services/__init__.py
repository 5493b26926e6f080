"""Writes of the randomization app. Each public function is one transaction that writes its rows
and their audit events together.

No audit event written here contains an arm, a sequence, a seed or a kit's contents: the trail
may be read by blinded staff. An allocation list or kit inventory is recorded by a salted
fingerprint of its content instead, which detects any later change of the stored rows.

Locks are always taken in the same order (participant, then slot or kit, then the audit chain
head), so concurrent randomizations and dispensings never deadlock.
"""

from diarytrial.randomization.services.allocation import (
    MAX_LIST_SIZE,
    allocation_list_generate,
    participant_randomize,
)
from diarytrial.randomization.services.kits import (
    KIT_CODE_PATTERN,
    MAX_KITS_PER_ARM_AND_LEVEL,
    kit_destroy,
    kit_dispense,
    kit_inventory_generate,
    kit_inventory_import,
)
from diarytrial.randomization.services.reads import (
    AllocationListView,
    KitContents,
    ParticipantAllocation,
    PhaseWithArm,
    SequenceEnrolment,
    SlotView,
    allocation_list_read,
    enrolment_by_sequence_read,
    kit_contents_read,
    participant_allocation_read,
)
from diarytrial.randomization.services.unblinding import (
    EmergencyUnblinding,
    participant_unblind_emergency,
)

__all__ = [
    "KIT_CODE_PATTERN",
    "MAX_KITS_PER_ARM_AND_LEVEL",
    "MAX_LIST_SIZE",
    "AllocationListView",
    "EmergencyUnblinding",
    "KitContents",
    "ParticipantAllocation",
    "PhaseWithArm",
    "SequenceEnrolment",
    "SlotView",
    "allocation_list_generate",
    "allocation_list_read",
    "enrolment_by_sequence_read",
    "kit_contents_read",
    "kit_destroy",
    "kit_dispense",
    "kit_inventory_generate",
    "kit_inventory_import",
    "participant_allocation_read",
    "participant_randomize",
    "participant_unblind_emergency",
]
