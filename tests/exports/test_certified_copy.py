"""The investigator's certified copy: the ZIP holds their site's data as the database has it,
every file is in the signed manifest with its SHA-256, the signature verifies against the
manifest's bytes (and not against changed bytes), it names no allocation, and a refused
signature leaves no copy.

The casebooks are printed by Chromium: the PDFs' text is compressed, so the tests read the HTML
each PDF is printed from (`casebook_html`) and check that each PDF is a PDF listed with its hash.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import zipfile
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from tests.builders import client_for, make_member, make_site, make_study
from tests.exports.trial import ARM_IDS, ARM_NAMES, DOSES_MG, Trial, make_trial
from tests.web.test_blinding_pages import leaks
from tests.web.test_blinding_pages import make_trial as blinding_trial

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.core.errors import PermissionDeniedError
from diarytrial.core.moments import moment_text
from diarytrial.diary.models import DiaryAnswer, DiaryEntry
from diarytrial.exports import services
from diarytrial.exports.certified import casebook_html, casebook_page
from diarytrial.participants.models import DoseLevelChange, Participant
from diarytrial.participants.selectors import participant_protocol
from diarytrial.report.pdf import CHROMIUM, PdfError
from diarytrial.safety.models import AdverseEvent, EventStatus
from diarytrial.signatures.models import Signature, SignedAct
from diarytrial.signatures.selectors import signature_matches
from diarytrial.signatures.services import SigningCredentials
from diarytrial.studies.models import Role, Site

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM}"),
]

PASSWORD = "a long pass phrase 7"
SIGNED_ENTRIES = {"manifest.json", "signature.json"}


@pytest.fixture
def trial() -> Trial:
    return make_trial(participants=4)


def _investigator(trial: Trial, sites: list[Site] | None = None) -> User:
    # An investigator whose role lists no site sees every site of the study
    # (``studies.access.sites_visible_to``); the copy holds the sites chosen on its form.
    user = make_member(
        study=trial.study, role=Role.INVESTIGATOR, username="dr_north", sites=sites
    ).user
    user.first_name, user.last_name = "Nora", "North"
    user.set_password(PASSWORD)
    user.save()
    return user


def _url(trial: Trial) -> str:
    return reverse("exports:certified_copy", kwargs={"study": trial.study.slug})


def _download(client: Client, trial: Trial, **data: str) -> HttpResponse:
    form = {"meaning": "responsible", "password": PASSWORD, **data}
    return client.post(_url(trial), form)  # type: ignore[return-value]


def _archive(response: Any) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content[:2000]
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def _site_participants(trial: Trial) -> list[Participant]:
    return list(
        Participant.objects.filter(
            study=trial.study, site=trial.sites[0], start_date__isnull=False
        ).order_by("code")
    )


def _csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(f"dataset/{name}").decode())))


def test_the_copy_holds_the_sites_data_as_the_database_has_it(trial: Trial) -> None:
    investigator = _investigator(trial)
    archive = _archive(_download(client_for(investigator), trial, site=trial.sites[0].code))
    names = set(archive.namelist())
    mine = _site_participants(trial)
    codes = {p.code for p in mine}
    others = {p.code for p in Participant.objects.filter(study=trial.study, site=trial.sites[1])}
    assert codes
    assert others

    # A casebook per participant of the site, none of the other site's; each a PDF.
    casebooks = {n for n in names if n.startswith("casebooks/")}
    assert casebooks == {f"casebooks/{code}.pdf" for code in codes}
    for name in casebooks:
        assert archive.read(name).startswith(b"%PDF-")
    # The other site's codes are nowhere: not in a name, not in a text file.
    for name in names:
        text = name if name.endswith(".pdf") else name + archive.read(name).decode()
        assert not [code for code in others if code in text], name

    # The dataset: the site's participants, every answer of every entry, every event.
    participants = _csv(archive, "participants.csv")
    assert {row["participant_id"] for row in participants} == codes
    answers = DiaryAnswer.objects.filter(entry__participant__in=mine)
    diary = _csv(archive, "diary.csv")
    assert len(diary) == answers.count()
    stored = {
        (a.entry.participant.code, a.entry.diary_date.isoformat(), a.item): a.value
        for a in answers.select_related("entry__participant")
    }
    for row in diary:
        key = (row["participant_id"], row["diary_date"], row["item"])
        assert float(row["value"]) == pytest.approx(float(stored[key]))
    events = AdverseEvent.objects.filter(participant__in=mine, status=EventStatus.RECORDED)
    assert events.exists()
    assert {row["ae_id"] for row in _csv(archive, "adverse_events.csv")} == {
        f"AE-{e.pk:06d}" for e in events
    }
    assert {row["term"] for row in _csv(archive, "adverse_events.csv")} == {e.term for e in events}

    # The manifest lists every other file with its hash and size; nothing unlisted.
    manifest_data = archive.read("manifest.json")
    manifest = json.loads(manifest_data)
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == names - SIGNED_ENTRIES
    for path, entry in listed.items():
        data = archive.read(path)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert entry["bytes"] == len(data), path
    assert manifest["study"]["slug"] == trial.study.slug
    assert [s["code"] for s in manifest["sites"]] == [trial.sites[0].code]
    assert sorted(manifest["participants"]) == sorted(codes)
    assert manifest["made_by"] == {"username": "dr_north", "printed_name": "Nora North"}
    assert manifest["blinded"] is True
    # SHA256SUMS, as `sha256sum -c` reads it, says the same.
    sums = dict(
        reversed(line.split("  ", 1)) for line in archive.read("SHA256SUMS").decode().splitlines()
    )
    assert sums == {p: f["sha256"] for p, f in listed.items() if p != "SHA256SUMS"}

    # The signature: the investigator's, over the manifest's bytes; a changed byte breaks it.
    record = json.loads(archive.read("signature.json"))
    signature = Signature.objects.get(pk=record["id"])
    assert signature.act == SignedAct.MANIFEST
    assert signature.signer == investigator
    assert record["printed_name"] == "Nora North"
    assert record["meaning"] == "Responsible for"
    assert record["signed"] == "manifest.json"
    assert record["content_sha256"] == hashlib.sha256(manifest_data).hexdigest()
    assert record["signed_sha256"] == record["content_sha256"]
    assert signature_matches(signature, manifest_data)
    changed = bytearray(manifest_data)
    changed[len(changed) // 2] ^= 1
    assert not signature_matches(signature, bytes(changed))

    # Recorded once as an export, with the signature.
    (event,) = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert event.actor == investigator
    new = {change["field"]: change["new"] for change in event.changes}
    assert new["participants"] == len(codes)
    assert new["signature"] == signature.pk
    assert new["manifest_sha256"] == record["content_sha256"]


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="no sha256sum")
def test_sha256sum_checks_the_copy_as_the_guide_says(trial: Trial, tmp_path: Path) -> None:
    investigator = _investigator(trial)
    archive = _archive(_download(client_for(investigator), trial, site=trial.sites[1].code))
    archive.extractall(tmp_path)

    checked = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True
    )
    manifest = subprocess.run(
        ["sha256sum", "manifest.json"], cwd=tmp_path, capture_output=True, text=True
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == len(archive.namelist()) - 3
    record = json.loads((tmp_path / "signature.json").read_text())
    assert manifest.stdout.split()[0] == record["content_sha256"]
    # A changed byte is found.
    diary = tmp_path / "dataset" / "diary.csv"
    diary.write_bytes(diary.read_bytes().replace(b",", b";", 1))
    again = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True)
    assert again.returncode != 0


def test_a_casebook_holds_the_participants_entries_events_doses_answers_and_trail(
    trial: Trial,
) -> None:
    participant = trial.participants[1]  # the one with an adverse event and a lowered dose
    page = casebook_page(participant, unblinded=False)
    html = casebook_html(
        page,
        protocol=participant_protocol(participant),
        unblinded=False,
        made_at=participant.enrolled_at,
        made_by="Nora North (dr_north)",
    )

    entries = DiaryEntry.objects.filter(participant=participant)
    assert html.count('<tr class="entry">') == entries.count() > 0
    for entry in entries:
        assert entry.diary_date.isoformat() in html
    pain = DiaryAnswer.objects.filter(entry__participant=participant, item="pain")
    assert all(f"<td>{answer.value}</td>" in html for answer in pain)
    assert "Vivid dreams" in html
    (event,) = AdverseEvent.objects.filter(participant=participant)
    assert f"AE-{event.pk:06d}" in html
    assert event.term in html
    doses = DoseLevelChange.objects.filter(participant=participant)
    assert html.count('<tr class="dose">') == doses.count() > 0
    assert all(change.reason in html for change in doses)
    assert html.count('<tr class="pgic">') == 1
    assert html.count('<tr class="blinding-guess">') == 1
    trail = AuditEvent.objects.filter(participant_code=participant.code)
    assert html.count('<tr class="audit-event">') == trail.count() > 0
    # Times in the site's zone, with the offset.
    zone = zoneinfo.ZoneInfo(participant.site.timezone)
    assert moment_text(trail.first().occurred_at, zone) in html  # type: ignore[union-attr]


def test_a_copy_of_all_sites_holds_every_sites_participants(trial: Trial) -> None:
    investigator = _investigator(trial)

    archive = _archive(_download(client_for(investigator), trial))

    enrolled = Participant.objects.filter(study=trial.study, start_date__isnull=False)
    assert {n for n in archive.namelist() if n.startswith("casebooks/")} == {
        f"casebooks/{p.code}.pdf" for p in enrolled
    }
    manifest = json.loads(archive.read("manifest.json"))
    assert [s["code"] for s in manifest["sites"]] == sorted(s.code for s in trial.sites)


def test_a_site_investigators_copy_holds_their_site_only(trial: Trial) -> None:
    """An investigator whose role is at one site keeps a copy of that site's data, never of
    another's, whatever the form says."""
    here, there = trial.sites[0], trial.sites[1]
    investigator = _investigator(trial, sites=[here])
    client = client_for(investigator)

    page = client.get(_url(trial)).content.decode()
    assert f"({here.code})" in page
    assert f"({there.code})" not in page
    assert "All my sites" not in page
    refused = _download(client, trial, site=there.code)
    assert refused.status_code == 422

    archive = _archive(_download(client, trial))
    assert {n for n in archive.namelist() if n.startswith("casebooks/")} == {
        f"casebooks/{p.code}.pdf" for p in _site_participants(trial)
    }
    manifest = json.loads(archive.read("manifest.json"))
    assert [s["code"] for s in manifest["sites"]] == [here.code]


def test_the_service_refuses_a_site_the_signer_does_not_see(trial: Trial) -> None:
    """The site is one the signer sees: the service refuses another, whatever the form."""
    investigator = _investigator(trial)
    credentials = SigningCredentials(
        signer=investigator, password=PASSWORD, code="", meaning="responsible"
    )
    elsewhere = make_site(study=make_study(study_id="other_trial"), code="elsewhere")

    with pytest.raises(PermissionDeniedError):
        services.certified_copy_make(study=trial.study, credentials=credentials, site=elsewhere)
    assert not Signature.objects.filter(act=SignedAct.MANIFEST).exists()


def test_the_copy_names_no_allocation(trial: Trial) -> None:
    investigator = _investigator(trial)
    archive = _archive(_download(client_for(investigator), trial))
    secrets = [*ARM_IDS, *ARM_NAMES, *DOSES_MG, "-".join(ARM_IDS), "-".join(reversed(ARM_IDS))]
    texts = {
        name: archive.read(name).decode()
        for name in archive.namelist()
        if not name.endswith((".pdf", "protocol.toml"))  # the protocol lists the arms
    }
    for participant in _site_participants(trial):
        texts[participant.code] = casebook_html(
            casebook_page(participant, unblinded=False),
            protocol=participant_protocol(participant),
            unblinded=False,
            made_at=participant.enrolled_at,
            made_by="dr_north",
        )
    for name, text in texts.items():
        for secret in secrets:
            assert secret.lower() not in text.lower(), (name, secret)
    # The scan would find them: the protocol shipped with the dataset lists the arms.
    protocol = archive.read("dataset/protocol.toml").decode()
    assert all(name in protocol for name in ARM_NAMES)


def test_the_copy_is_made_on_a_locked_study(trial: Trial) -> None:
    investigator = _investigator(trial)
    trial.lock()
    client = client_for(investigator)
    assert (
        "Make a certified copy"
        in client.get(reverse("exports:database", kwargs={"study": trial.study.slug})).text
    )

    archive = _archive(_download(client, trial))

    assert "manifest.json" in archive.namelist()


def test_a_refused_signature_leaves_no_copy(trial: Trial, monkeypatch: pytest.MonkeyPatch) -> None:
    investigator = _investigator(trial)
    printed: list[Path] = []
    monkeypatch.setattr(services, "print_pdf", lambda html, pdf: printed.append(pdf))

    response = _download(client_for(investigator), trial, password="not my password")

    assert response.status_code == 403  # SigningRefusedError
    assert response["Content-Type"].startswith("text/html")
    assert "This was not done." in response.text
    assert not Signature.objects.filter(act=SignedAct.MANIFEST).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_FAILED).count() == 1
    assert printed == []  # the signer is checked before anything is made


@pytest.mark.parametrize(
    "data",
    [
        {"meaning": "owned"},
        {"meaning": ""},
        {"password": ""},
        {"password": "x" * 5000},
        {"site": "../../etc/passwd"},
        {"site": "nowhere"},
        {"meaning": "<script>alert(1)</script>"},
    ],
)
def test_hostile_input_is_refused_in_words(trial: Trial, data: dict[str, str]) -> None:
    investigator = _investigator(trial)

    response = _download(client_for(investigator), trial, **data)

    assert response.status_code == 422
    assert "Please correct what is marked below." in response.text
    assert "<script>alert(1)" not in response.text
    assert not Signature.objects.filter(act=SignedAct.MANIFEST).exists()


def test_a_copy_over_the_limit_is_refused_before_signing(
    trial: Trial, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "CERTIFIED_COPY_LIMIT", 1)
    investigator = _investigator(trial)

    response = _download(client_for(investigator), trial)

    assert response.status_code == 413
    assert "one copy holds at most 1" in response.text
    assert not Signature.objects.filter(act=SignedAct.MANIFEST).exists()


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.STATISTICIAN, Role.ADMINISTRATOR])
def test_only_an_investigator_makes_a_copy(trial: Trial, role: Role) -> None:
    user = {
        Role.COORDINATOR: trial.coordinator,
        Role.STATISTICIAN: trial.statistician,
        Role.ADMINISTRATOR: trial.administrator,
    }[role]
    user.set_password(PASSWORD)
    user.save()

    response = _download(client_for(user), trial)

    assert response.status_code == 403
    assert not Signature.objects.filter(act=SignedAct.MANIFEST).exists()


def test_a_casebook_that_cannot_be_printed_leaves_no_copy_and_no_signature(
    trial: Trial, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(html: Path, pdf: Path) -> Path:
        raise PdfError("cannot make the PDF: Chromium failed (exit code 1)")

    monkeypatch.setattr(services, "print_pdf", broken)
    investigator = _investigator(trial)

    response = _download(client_for(investigator), trial)

    assert response.status_code == 503
    assert "could not be printed" in response.text
    assert "Nothing was signed" in response.text
    assert not Signature.objects.filter(act=SignedAct.MANIFEST).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def _without_schemas(name: str, text: str) -> str:
    """`text` without datapackage.json's table schemas: the same for every study and export,
    they describe the columns in the example's words ('e.g. ldn-placebo', the conditions)."""
    if not name.endswith("datapackage.json"):
        return text
    package = json.loads(text)
    for resource in package["resources"]:
        resource.pop("schema", None)
    return json.dumps(package)


def test_the_blinding_checks_find_no_allocation_in_a_copy() -> None:
    """The staff pages' blinding check (two participants on different sequences, with side
    effects, an adverse event and a dose change each) run over the copy's files and casebooks."""
    checked = blinding_trial()
    investigator = make_member(
        study=checked.study, role=Role.INVESTIGATOR, username="dr_blind", password=PASSWORD
    ).user
    response = client_for(investigator).post(
        reverse("exports:certified_copy", kwargs={"study": checked.study.slug}),
        {"meaning": "responsible", "password": PASSWORD},
    )
    archive = _archive(response)

    found = {
        name: leaks(_without_schemas(name, archive.read(name).decode()), checked.protocol)
        for name in archive.namelist()
        if not name.endswith((".pdf", "protocol.toml"))  # the protocol lists the arms
    }
    for participant in (checked.first, checked.second):
        assert f"casebooks/{participant.code}.pdf" in archive.namelist()
        html = casebook_html(
            casebook_page(participant, unblinded=False),
            protocol=checked.protocol,
            unblinded=False,
            made_at=participant.enrolled_at,
            made_by="dr_blind",
        )
        found[participant.code] = leaks(html, checked.protocol)
    assert not {name: leak for name, leak in found.items() if leak}
    # The check would see them: the shipped protocol names the arms and doses.
    assert leaks(archive.read("dataset/protocol.toml").decode(), checked.protocol)
