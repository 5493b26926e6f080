"""How the export's and the unblinding's audit events of a study read (``audit.wording``)."""

from __future__ import annotations

from diarytrial.audit.wording import RecordWording, register_record_wording


def register() -> None:
    """Add the export's fields to the study's wording (``ExportsConfig.ready``)."""
    register_record_wording(
        RecordWording(
            object_type="studies.study",
            noun="study",
            fields={
                "unblinded_at": "Unblinded at",
                "blinded": "Blinded dataset",
                "protocol_version": "Protocol version",
                "sites": "Sites",
                "rows": "Rows by table",
                "format": "Format",
                "certified_copy": "Certified copy",
                "participants": "Participants",
                "files": "Files",
                "manifest_sha256": "Manifest SHA-256",
                "signature": "Signature",
            },
        )
    )
