"""The database lock in the export's metadata: ``datapackage.json``'s provenance says when the
database was locked and, when it was locked with items of the checklist open, the override
reason and the counts (docs/dataset.md); and the electronic signatures, with their state."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from lxml import etree
from tests.builders import LEFT_OPEN, make_adverse_event, make_member
from tests.exports.trial import Trial, make_trial
from tests.interop.validators import odm_valid

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.dataset import dataset_sha256, read_dataset, write_dataset
from diarytrial.exports.services import dataset_export, study_unblind
from diarytrial.exports.signing import casebook_sign, study_lock_signed
from diarytrial.interop.odm import read_odm, write_odm
from diarytrial.safety.signing import adverse_event_sign
from diarytrial.signatures.services import SigningCredentials
from diarytrial.studies.models import Role
from diarytrial.studies.services import study_unlock

pytestmark = pytest.mark.django_db


@pytest.fixture
def trial() -> Trial:
    return make_trial()


def _descriptor(folder: Path) -> dict[str, object]:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def test_an_export_before_the_lock_has_no_lock_record(trial: Trial, tmp_path: Path) -> None:
    dataset = dataset_export(study=trial.study, actor=trial.statistician, blinded=True)
    write_dataset(dataset, tmp_path)

    assert "database_lock" not in _descriptor(tmp_path)["diarytrial"]["provenance"]  # type: ignore[index]


@pytest.mark.parametrize("blinded", [True, False], ids=["blinded", "unblinded"])
def test_an_overridden_lock_is_in_the_metadata_with_its_reason_and_counts(
    trial: Trial, tmp_path: Path, blinded: bool
) -> None:
    trial.lock()  # with LEFT_OPEN: the trial's participants are still in the trial
    if not blinded:
        study_unblind(study=trial.study, reason="final analysis", actor=trial.statistician)
    lock = AuditEvent.objects.get(study_slug=trial.study.slug, action=AuditAction.LOCK)
    opened = {change["field"]: change["new"] for change in lock.changes}["open_at_lock"]

    dataset = dataset_export(study=trial.study, actor=trial.statistician, blinded=blinded)
    write_dataset(dataset, tmp_path)

    recorded = _descriptor(tmp_path)["diarytrial"]["provenance"]["database_lock"]  # type: ignore[index]
    assert recorded == {
        "locked_at": lock.changes[0]["new"],
        "override_reason": LEFT_OPEN,
        "open_at_lock": opened,
    }
    assert opened["open_participants"] == 6  # five randomized and one enrolled
    assert read_dataset(tmp_path).provenance["database_lock"] == recorded  # it validates


def test_after_an_unlock_the_metadata_no_longer_claims_a_lock(trial: Trial, tmp_path: Path) -> None:
    trial.lock()
    study_unlock(study=trial.study, reason="a late query", actor=trial.administrator)

    dataset = dataset_export(study=trial.study, actor=trial.coordinator, blinded=True)

    assert "database_lock" not in dataset.provenance


def test_the_signatures_are_in_the_metadata_with_their_state_now(
    trial: Trial, tmp_path: Path
) -> None:
    """The lock's signature and the sign-offs of the exported participants, each with its
    state when exported; a coordinator's export holds only their sites' sign-offs."""
    password = "sign 4 export"
    investigator = make_member(
        study=trial.study, role=Role.INVESTIGATOR, username="dr-x", password=password
    ).user
    administrator = make_member(
        study=trial.study, role=Role.ADMINISTRATOR, username="ada", password=password
    ).user

    def signing(user: User) -> SigningCredentials:
        return SigningCredentials(signer=user, password=password, code="", meaning="approved")

    here, there = (
        trial.participants[0],
        next(p for p in trial.participants if p.site_id != trial.participants[0].site_id),
    )
    event = make_adverse_event(participant=here)
    adverse_event_sign(event=event, participant=here, credentials=signing(investigator))
    casebook_sign(participant=there, credentials=signing(investigator))
    make_adverse_event(participant=there, term="Nausea", side_effect="nausea")  # after it
    study_lock_signed(
        study=trial.study,
        reason="end",
        override_reason=LEFT_OPEN,
        credentials=signing(administrator),
    )

    dataset = dataset_export(study=trial.study, actor=trial.statistician, blinded=True)
    write_dataset(dataset, tmp_path)
    signed = _descriptor(tmp_path)["diarytrial"]["provenance"]["signatures"]  # type: ignore[index]

    assert [(s["act"], s["participant"], s["state"]) for s in signed] == [
        ("adverse_event", here.code, "valid"),
        ("casebook", there.code, "invalid"),
        ("database_lock", "", "valid"),
    ]
    assert signed[0]["printed_name"] == "dr-x"
    assert signed[0]["meaning"] == "Approved"
    assert len(signed[0]["content_sha256"]) == 64
    assert read_dataset(tmp_path).provenance["signatures"] == signed  # it validates
    mine = dataset_export(study=trial.study, actor=trial.coordinator, blinded=True)
    codes = {s["participant"] for s in mine.provenance["signatures"]}
    assert codes == {here.code if here.site_id == trial.sites[0].pk else there.code, ""}


def test_a_live_export_as_odm_carries_the_sign_offs_as_odm_signatures(
    trial: Trial, tmp_path: Path
) -> None:
    """The sign-offs signed through the services become ODM Signatures at the participants'
    sites; the file validates and reads back to the same dataset; the lock stays in the
    provenance only (docs/dataset.md, "CDISC ODM 1.3.2")."""
    password = "sign 4 odm"
    investigator = make_member(
        study=trial.study, role=Role.INVESTIGATOR, username="igarcia", password=password
    ).user
    investigator.first_name, investigator.last_name = "Ines", "Garcia"
    investigator.save()
    administrator = make_member(
        study=trial.study, role=Role.ADMINISTRATOR, username="ada", password=password
    ).user

    def signing(user: User, meaning: str) -> SigningCredentials:
        return SigningCredentials(signer=user, password=password, code="", meaning=meaning)

    here, there = (
        trial.participants[0],
        next(p for p in trial.participants if p.site_id != trial.participants[0].site_id),
    )
    event = make_adverse_event(participant=here)
    adverse_event_sign(event=event, participant=here, credentials=signing(investigator, "reviewed"))
    casebook_sign(participant=there, credentials=signing(investigator, "approved"))
    study_lock_signed(
        study=trial.study,
        reason="end",
        override_reason=LEFT_OPEN,
        credentials=signing(administrator, "approved"),
    )
    dataset = dataset_export(study=trial.study, actor=trial.statistician, blinded=True)
    write_dataset(dataset, tmp_path / "before")

    [path] = write_odm(
        dataset, tmp_path / "odm", created_at=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    )

    assert odm_valid(path) == []
    read_odm(path)  # every Signature agrees with the provenance
    write_dataset(read_odm(path), tmp_path / "after")
    assert dataset_sha256(tmp_path / "after") == dataset_sha256(tmp_path / "before")
    ns = "{http://www.cdisc.org/ns/odm/v1.3}"
    root = etree.parse(str(path)).getroot()
    placed = {
        (
            etree.QName(s.getparent()).localname,  # type: ignore[arg-type]
            s.find(f"{ns}UserRef").get("UserOID"),  # type: ignore[union-attr]
            s.find(f"{ns}LocationRef").get("LocationOID"),  # type: ignore[union-attr]
            s.find(f"{ns}SignatureRef").get("SignatureOID"),  # type: ignore[union-attr]
        )
        for s in root.iter(f"{ns}Signature")
    }
    assert placed == {
        ("ItemGroupData", "STAFF.igarcia", f"LOC.{here.site.code}", "SD.REVIEWED"),
        ("SubjectData", "STAFF.igarcia", f"LOC.{there.site.code}", "SD.APPROVED"),
    }
    [user] = [u for u in root.iter(f"{ns}User") if u.get("OID") == "STAFF.igarcia"]
    assert (user.findtext(f"{ns}LoginName"), user.findtext(f"{ns}FullName")) == (
        "igarcia",
        "Ines Garcia",
    )
    assert "ada" not in {u.findtext(f"{ns}LoginName") for u in root.iter(f"{ns}User")}
    acts = [s["act"] for s in dataset.provenance["signatures"]]
    assert acts == ["adverse_event", "casebook", "database_lock"]
