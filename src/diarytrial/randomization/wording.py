"""How the audit events of allocation lists, randomizations and kits read (``audit.wording``).

Every value of these records is hidden from blinded readers (``audit.redaction``); the phrases
name a record only by what a blinded reader may see (a kit's code, a list's stratum).
"""

from __future__ import annotations

from diarytrial.audit.models import AuditAction
from diarytrial.audit.wording import RecordWording, choice_words, register_record_wording
from diarytrial.randomization.models import KitStatus

PARTICIPANT = "Participant"


def register() -> None:
    """Register the wording of the records of `randomization` (``RandomizationConfig.ready``)."""
    register_record_wording(
        RecordWording(
            object_type="randomization.allocationlist",
            noun="allocation list",
            phrase=lambda event: event.object_repr,
            fields={
                "stratum": "Stratum",
                "size": "Slots",
                "block_sizes": "Block sizes",
                "protocol_version_id": "Protocol version (record)",
                "fingerprint": "Fingerprint",
            },
            verbs={AuditAction.CREATE: "generated"},
        )
    )
    register_record_wording(
        RecordWording(
            object_type="randomization.allocationslot",
            noun="allocation slot",
            phrase=lambda event: "an allocation slot",
            fields={"used_by": "Used by", "used_at": "Used at"},
            verbs={AuditAction.UPDATE: "used"},
        )
    )
    register_record_wording(
        RecordWording(
            object_type="randomization.randomization",
            noun="randomization",
            phrase=lambda event: "the randomization",
            fields={
                "participant": PARTICIPANT,
                "slot_id": "Slot (record)",
                "randomized_at": "Randomized at",
            },
        )
    )
    register_record_wording(
        RecordWording(
            object_type="randomization.kitbatch",
            noun="kit batch",
            phrase=lambda event: f"kit batch {event.object_id}",
            fields={
                "source": "Source",
                "filename": "File",
                "size": "Kits",
                "fingerprint": "Fingerprint",
            },
        )
    )
    register_record_wording(
        RecordWording(
            object_type="randomization.kit",
            noun="kit",
            phrase=lambda event: f"kit {event.object_repr}",
            fields={"code": "Code", "status": "Status", "batch_id": "Batch"},
            values={"status": choice_words(KitStatus.choices)},
        )
    )
    register_record_wording(
        RecordWording(
            object_type="randomization.dispensing",
            noun="kit dispensing",
            phrase=lambda event: "a kit",
            fields={"kit": "Kit", "participant": PARTICIPANT, "visit": "Visit"},
            verbs={AuditAction.CREATE: "dispensed"},
        )
    )
