"""Who may unblind and export, and when; what the audit trail records of it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from tests.builders import make_member, make_user
from tests.exports.trial import ARM_IDS, Trial, make_trial

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.core.errors import PermissionDeniedError
from diarytrial.dataset import TrialDataset, validate_dataset
from diarytrial.exports import services
from diarytrial.exports.errors import (
    StudyAlreadyUnblindedError,
    StudyNotLockedError,
    StudyNotUnblindedError,
    UnblindReasonRequiredError,
)
from diarytrial.exports.services import dataset_export, study_unblind
from diarytrial.studies.models import Role, Study
from diarytrial.studies.services import study_unlock

pytestmark = pytest.mark.django_db


@pytest.fixture
def trial() -> Trial:
    return make_trial(participants=4)


def _member(trial: Trial, role: Role) -> User:
    return make_member(study=trial.study, role=role, username=f"other-{role.value}").user


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- unblinding -------------------------------------------------------------------------------


def test_the_statistician_unblinds_a_locked_study_with_a_reason(trial: Trial) -> None:
    trial.lock()

    study = study_unblind(study=trial.study, reason="  final analysis  ", actor=trial.statistician)

    assert study.unblinded_at is not None
    assert Study.objects.get(pk=trial.study.pk).unblinded_at == study.unblinded_at
    assert trial.study.unblinded_at == study.unblinded_at
    (event,) = _events(AuditAction.UNBLIND)
    assert event.actor == trial.statistician
    assert event.object_type == "studies.study"
    assert event.reason == "final analysis"
    assert event.changes == [
        {"field": "unblinded_at", "old": None, "new": study.unblinded_at.isoformat()}
    ]


def test_unblinding_before_the_lock_is_refused_with_409(trial: Trial) -> None:
    with pytest.raises(StudyNotLockedError, match="lock it first") as caught:
        study_unblind(study=trial.study, reason="curious", actor=trial.statistician)

    assert caught.value.http_status == 409
    assert Study.objects.get(pk=trial.study.pk).unblinded_at is None
    assert _events(AuditAction.UNBLIND) == []


@pytest.mark.parametrize(
    "role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.PHARMACIST, Role.ADMINISTRATOR]
)
def test_only_the_statistician_unblinds(trial: Trial, role: Role) -> None:
    user = _member(trial, role)
    trial.lock()

    with pytest.raises(PermissionDeniedError) as caught:
        study_unblind(study=trial.study, reason="final analysis", actor=user)

    assert caught.value.http_status == 403
    assert Study.objects.get(pk=trial.study.pk).unblinded_at is None


def test_a_superuser_or_an_outsider_cannot_unblind(trial: Trial) -> None:
    trial.lock()
    root = User.objects.create_superuser(username="root", password=None)

    for user in (root, make_user(username="outsider")):
        with pytest.raises(PermissionDeniedError):
            study_unblind(study=trial.study, reason="final analysis", actor=user)


def test_unblinding_needs_a_reason_and_happens_once(trial: Trial) -> None:
    trial.lock()

    with pytest.raises(UnblindReasonRequiredError) as caught:
        study_unblind(study=trial.study, reason="   ", actor=trial.statistician)
    assert caught.value.http_status == 422
    study_unblind(study=trial.study, reason="final analysis", actor=trial.statistician)
    with pytest.raises(StudyAlreadyUnblindedError) as again:
        study_unblind(study=trial.study, reason="again", actor=trial.statistician)

    assert again.value.http_status == 409
    assert len(_events(AuditAction.UNBLIND)) == 1


# --- who may export what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.STATISTICIAN, Role.ADMINISTRATOR]
)
def test_a_blinded_export_is_open_to_the_blinded_roles_at_any_time(
    trial: Trial, role: Role
) -> None:
    user = _member(trial, role)

    before_lock = dataset_export(study=trial.study, actor=user, blinded=True)
    trial.lock()
    after_lock = dataset_export(study=trial.study, actor=user, blinded=True)

    assert before_lock.provenance["blinded"] is True
    assert after_lock.participants.equals(before_lock.participants)


def test_the_superuser_exports_blinded_but_not_unblinded(trial: Trial) -> None:
    root = User.objects.create_superuser(username="root", password=None)
    trial.lock()
    study_unblind(study=trial.study, reason="final analysis", actor=trial.statistician)

    assert len(dataset_export(study=trial.study, actor=root, blinded=True).participants) == 5
    with pytest.raises(PermissionDeniedError):
        dataset_export(study=trial.study, actor=root, blinded=False)


def test_the_pharmacist_and_outsiders_get_no_export(trial: Trial) -> None:
    outsider = make_user(username="outsider")

    for user in (trial.pharmacist, outsider):
        for blinded in (True, False):
            with pytest.raises(PermissionDeniedError) as caught:
                dataset_export(study=trial.study, actor=user, blinded=blinded)
            assert caught.value.http_status == 403
    assert _events(AuditAction.EXPORT) == []


def test_an_unblinded_export_waits_for_the_unblinding(trial: Trial) -> None:
    with pytest.raises(StudyNotUnblindedError, match="--blinded") as before_lock:
        dataset_export(study=trial.study, actor=trial.statistician, blinded=False)
    trial.lock()
    with pytest.raises(StudyNotUnblindedError) as locked_only:
        dataset_export(study=trial.study, actor=trial.statistician, blinded=False)
    study_unblind(study=trial.study, reason="final analysis", actor=trial.statistician)

    dataset = dataset_export(study=trial.study, actor=trial.statistician, blinded=False)

    assert before_lock.value.http_status == locked_only.value.http_status == 409
    assert set(dataset.participants["sequence"].dropna()) == {
        "-".join(ARM_IDS),
        "-".join(reversed(ARM_IDS)),
    }


@pytest.mark.parametrize(
    "role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.PHARMACIST, Role.ADMINISTRATOR]
)
def test_after_unblinding_the_unblinded_export_is_still_the_statisticians_only(
    trial: Trial, role: Role
) -> None:
    user = _member(trial, role)
    trial.lock()
    study_unblind(study=trial.study, reason="final analysis", actor=trial.statistician)

    with pytest.raises(PermissionDeniedError):
        dataset_export(study=trial.study, actor=user, blinded=False)


def test_an_unblinded_export_of_a_study_unlocked_again_is_refused(trial: Trial) -> None:
    trial.lock()
    study_unblind(study=trial.study, reason="final analysis", actor=trial.statistician)
    study_unlock(study=trial.study, reason="query on one entry", actor=trial.administrator)

    with pytest.raises(StudyNotLockedError, match="lock it again"):
        dataset_export(study=trial.study, actor=trial.statistician, blinded=False)
    assert len(dataset_export(study=trial.study, actor=trial.statistician, blinded=True).periods)


# --- the audit trail ----------------------------------------------------------------------------


def test_each_export_is_an_audit_event_with_counts_and_no_allocation(trial: Trial) -> None:
    blinded = dataset_export(study=trial.study, actor=trial.coordinator, blinded=True)
    trial.lock()
    study_unblind(study=trial.study, reason="final analysis", actor=trial.statistician)
    unblinded = dataset_export(study=trial.study, actor=trial.statistician, blinded=False)

    first, second = _events(AuditAction.EXPORT)

    assert (first.actor, second.actor) == (trial.coordinator, trial.statistician)
    assert first.object_type == "studies.study"
    assert first.object_id == str(trial.study.pk)
    assert first.study_slug == trial.study.slug
    changes = {c["field"]: c["new"] for c in first.changes}
    assert changes["blinded"] is True
    assert changes["protocol_version"] == 1
    assert changes["sites"] == ["north"]  # the coordinator's site
    assert changes["rows"]["participants"] == len(blinded.participants)
    assert changes["format"] == "dataset"
    assert changes["rows"]["periods"] == len(blinded.periods)
    assert changes["rows"]["doses"] == len(blinded.doses)
    second_changes = {c["field"]: c["new"] for c in second.changes}
    assert second_changes["blinded"] is False
    assert second_changes["sites"] == "all"
    assert second_changes["rows"]["participants"] == len(unblinded.participants) == 5
    for event in (first, second):
        text = json.dumps([event.changes, event.reason, event.object_repr])
        for arm in ARM_IDS:
            assert arm not in text
        for code in ("AB", "BA"):
            assert f'"{code}"' not in text


def test_a_refused_export_records_nothing(trial: Trial) -> None:
    with pytest.raises(StudyNotUnblindedError):
        dataset_export(study=trial.study, actor=trial.statistician, blinded=False)

    assert _events(AuditAction.EXPORT) == []


# --- one snapshot ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_export_reads_every_table_in_one_read_only_snapshot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trial = make_trial(participants=2)
    seen: dict[str, Any] = {}
    build = services.dataset_build

    def observed(**kwargs: Any) -> TrialDataset:
        seen["atomic"] = connection.in_atomic_block
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW transaction_isolation")
                seen["isolation"] = cursor.fetchone()[0]  # type: ignore[index]
                cursor.execute("SHOW transaction_read_only")
                seen["read_only"] = cursor.fetchone()[0]  # type: ignore[index]
        return build(**kwargs)

    monkeypatch.setattr(services, "dataset_build", observed)
    dataset = dataset_export(study=trial.study, actor=trial.statistician, blinded=True)

    assert validate_dataset(dataset) == []
    assert seen["atomic"] is True
    if connection.vendor == "postgresql":
        assert (seen["isolation"], seen["read_only"]) == ("repeatable read", "on")
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 1
