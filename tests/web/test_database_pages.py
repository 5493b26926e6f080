"""The database page: lock and unlock (administrator), unblinding (statistician, after the lock),
and downloads of the trial dataset."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pyreadstat
import pytest
from django.test import Client
from tests.builders import (
    LEFT_OPEN,
    client_for,
    make_allocation,
    make_member,
    make_participant,
    make_site,
    make_study,
)

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.interop.formats import FORMATS
from diarytrial.participants.models import ParticipantStatus
from diarytrial.studies.models import Role, Study
from diarytrial.studies.services import study_lock

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> Study:
    study = make_study()
    site = make_site(study=study)
    make_allocation(study=study)
    for _ in range(3):
        make_participant(study=study, site=site, status=ParticipantStatus.RANDOMIZED)
    return study


PASSWORD = "lock and key 42"


def client(study: Study, role: Role, password: str | None = None) -> Client:
    return client_for(make_member(study=study, role=role, password=password).user)


def page(study: Study, action: str = "") -> str:
    return f"/studies/{study.slug}/database/{action}"


def errors_of(html: str) -> list[str]:
    lists = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
    return re.findall(r"<li>([^<]*)</li>", "".join(lists))


def test_the_administrator_locks_and_unlocks_with_a_reason_and_signs(study: Study) -> None:
    administrator = client(study, Role.ADMINISTRATOR, password=PASSWORD)
    sign = {"password": PASSWORD, "meaning": "approved"}

    form = administrator.get(page(study)).text
    refused = administrator.post(page(study, "lock/"), {"reason": "", **sign})
    unsigned = administrator.post(
        page(study, "lock/"), {"reason": "Last participant checked", "override_reason": LEFT_OPEN}
    )
    locked = administrator.post(
        page(study, "lock/"),
        {"reason": "Last participant checked", "override_reason": LEFT_OPEN, **sign},
    )
    study.refresh_from_db()
    locked_page = administrator.get(locked["Location"]).text
    unlocked = administrator.post(page(study, "unlock/"), {"reason": "Query on P-1", **sign})

    assert "Your electronic signature" in form
    assert "Signing as <strong>administrator</strong>" in form
    assert "Say why." in errors_of(refused.text)
    assert "Choose what your signature means." in errors_of(unsigned.text)
    assert "Enter your password to sign." in errors_of(unsigned.text)
    assert locked.status_code == 302
    assert study.locked_at is not None
    assert "The database is locked" in locked_page
    assert "Sign and unlock</button>" in locked_page
    assert "Signatures of the lock and unlock" in locked_page
    assert "<strong>Approved</strong> by administrator" in locked_page
    assert unlocked.status_code == 302
    study.refresh_from_db()
    assert study.locked_at is None
    events = AuditEvent.objects.filter(action__in=[AuditAction.LOCK, AuditAction.UNLOCK])
    assert [e.reason for e in events.order_by("id")] == ["Last participant checked", "Query on P-1"]
    assert AuditEvent.objects.filter(action=AuditAction.SIGN).count() == 2


def test_a_wrong_password_does_not_lock_and_says_so(study: Study) -> None:
    administrator = client(study, Role.ADMINISTRATOR, password=PASSWORD)
    refused = administrator.post(
        page(study, "lock/"),
        {
            "reason": "Last participant checked",
            "override_reason": LEFT_OPEN,
            "password": "not it",
            "meaning": "approved",
        },
    )
    assert refused.status_code == 200
    assert "the password or the code is not right" in refused.text
    study.refresh_from_db()
    assert study.locked_at is None
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_FAILED).count() == 1


def test_a_locked_study_refuses_changes_on_the_forms(study: Study) -> None:
    administrator = make_member(study=study, role=Role.ADMINISTRATOR).user
    coordinator = client(study, Role.COORDINATOR)
    study_lock(study=study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN)
    code = study.participants.order_by("code").values_list("code", flat=True).first()

    detail = coordinator.get(f"/studies/{study.slug}/participants/{code}/").text
    refused = coordinator.post(
        f"/studies/{study.slug}/participants/{code}/withdraw/",
        {"on": "2026-01-01", "reason": "moved"},
    )

    assert "locked for analysis" in detail
    assert "Withdraw</a>" not in detail
    assert refused.status_code == 200
    assert "was locked for analysis" in refused.text


def test_the_statistician_unblinds_only_after_the_lock(study: Study) -> None:
    statistician = client(study, Role.STATISTICIAN)
    administrator = make_member(study=study, role=Role.ADMINISTRATOR).user

    before = statistician.get(page(study)).text
    too_early = statistician.post(page(study, "unblind/"), {"reason": "x", "understood": "on"})
    study_lock(study=study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN)
    form = statistician.get(page(study)).text
    untick = statistician.post(page(study, "unblind/"), {"reason": "final analysis"})
    done = statistician.post(
        page(study, "unblind/"), {"reason": "final analysis", "understood": "on"}
    )

    assert "once the administrator has locked its database" in before
    assert "is not locked" in too_early.text
    assert "Unblind the study</button>" in form
    assert "Tick the box to confirm that you understand." in errors_of(untick.text)
    assert done.status_code == 302
    study.refresh_from_db()
    assert study.unblinded_at is not None
    assert "Unblinded dataset</button>" in statistician.get(page(study)).text


def _zip_table(response_content: bytes, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(io.BytesIO(response_content)) as archive:
        text = archive.read(name).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_a_blinded_download_names_no_sequence(study: Study) -> None:
    coordinator = client(study, Role.COORDINATOR)

    response = coordinator.post(page(study, "download/"), {"kind": "blinded"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "blinded" in response["Content-Disposition"]
    rows = _zip_table(response.content, "participants.csv")
    assert len(rows) == 3
    assert {row["sequence"] for row in rows} <= {"S1", "S2", "S3"}
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "datapackage.json" in archive.namelist()
    export = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert export.reason == "blinded dataset export"


def test_the_unblinded_download_is_the_statisticians_after_unblinding(study: Study) -> None:
    from diarytrial.exports.services import study_unblind

    statistician_user = make_member(study=study, role=Role.STATISTICIAN).user
    statistician = client_for(statistician_user)
    too_early = statistician.post(page(study, "download/"), {"kind": "unblinded"})
    administrator = make_member(study=study, role=Role.ADMINISTRATOR).user
    study_lock(study=study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN)
    study_unblind(study=study, reason="final analysis", actor=statistician_user)

    response = statistician.post(page(study, "download/"), {"kind": "unblinded"})

    assert too_early.status_code == 302
    assert "is not unblinded" in statistician.get(too_early["Location"]).text
    rows = _zip_table(response.content, "participants.csv")
    assert {row["sequence"] for row in rows} <= {"ldn-placebo", "placebo-ldn"}


def test_the_pharmacist_sees_the_state_and_cannot_export(study: Study) -> None:
    pharmacist = client(study, Role.PHARMACIST)

    text = pharmacist.get(page(study)).text
    response = pharmacist.post(page(study, "download/"), {"kind": "blinded"})

    assert "Open: data can change" in text
    assert "<form" not in text.split("<main")[1]
    assert response.status_code == 403


def _unblinded_statistician(study: Study) -> Client:
    from diarytrial.exports.services import study_unblind

    statistician_user = make_member(study=study, role=Role.STATISTICIAN).user
    administrator = make_member(study=study, role=Role.ADMINISTRATOR).user
    study_lock(study=study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN)
    study_unblind(study=study, reason="final analysis", actor=statistician_user)
    return client_for(statistician_user)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_the_statistician_downloads_every_format_after_unblinding(study: Study, fmt: str) -> None:
    statistician = _unblinded_statistician(study)

    text = statistician.get(page(study)).text
    response = statistician.post(page(study, "download/"), {"kind": "unblinded", "format": fmt})

    assert f'<option value="{fmt}">{FORMATS[fmt].name}</option>' in text
    assert response.status_code == 200
    assert f"-unblinded-{fmt}-" in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
        assert names
        assert all(archive.read(name) for name in names)
    assert "participants.csv" not in names
    export = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert {c["field"]: c["new"] for c in export.changes}["format"] == fmt


@pytest.mark.parametrize("fmt", ["xpt", "sav", "dta"])
def test_a_blinded_download_in_a_statistics_format_names_no_sequence(
    study: Study, fmt: str, tmp_path: Path
) -> None:
    coordinator = client(study, Role.COORDINATOR)

    response = coordinator.post(page(study, "download/"), {"kind": "blinded", "format": fmt})

    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        archive.extract(f"participants.{fmt}", tmp_path)
    path = str(tmp_path / f"participants.{fmt}")
    if fmt == "xpt":
        frame, _ = pyreadstat.read_xport(path)
    else:
        read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        frame, _ = read(path, apply_value_formats=True)
    sequences = {str(value) for value in frame[next(c for c in frame if c.lower() == "sequence")]}
    assert sequences <= {"S1", "S2", "S3"}


def test_an_unknown_format_is_refused_with_a_message(study: Study) -> None:
    coordinator = client(study, Role.COORDINATOR)

    response = coordinator.post(page(study, "download/"), {"kind": "blinded", "format": "xls"})

    assert response.status_code == 302
    assert "a format listed" in coordinator.get(response["Location"]).text
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
