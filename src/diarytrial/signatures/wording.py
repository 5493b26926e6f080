"""How the audit events of electronic signatures read (``audit.wording``): a signature
applied, and on the signer's account a failed attempt and signing paused."""

from __future__ import annotations

from diarytrial.audit.models import AuditAction
from diarytrial.audit.wording import RecordWording, choice_words, register_record_wording
from diarytrial.signatures.models import Meaning, SignedAct

FIELDS = {
    "act": "Act signed",
    "record": "Record",
    "printed_name": "Printed name",
    "meaning": "Meaning",
    "content_sha256": "SHA-256 of the content signed",
}
VALUES = {"act": choice_words(SignedAct.choices), "meaning": choice_words(Meaning.choices)}


def register() -> None:
    """Register the wording of signatures (``SignaturesConfig.ready``)."""
    register_record_wording(
        RecordWording(
            object_type="signatures.signature",
            noun="electronic signature",
            fields=FIELDS,
            values=VALUES,
            verbs={AuditAction.SIGN: "applied"},
        )
    )
    # A failed attempt and a pause are recorded on the signer's account.
    register_record_wording(
        RecordWording(
            object_type="auth.user",
            noun="user account",
            fields={"act": FIELDS["act"], "record": FIELDS["record"], "locked_until": "Until"},
            values={"act": VALUES["act"]},
        )
    )
