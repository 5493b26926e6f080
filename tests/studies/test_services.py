"""Services of the studies app: create a study from its protocol, amend the protocol."""

from __future__ import annotations

import pytest
from tests.builders import make_member, make_protocol_text, make_study, make_user

from diarytrial.core.errors import ApplicationError, InvalidInputError, ProtocolInvalidError
from diarytrial.protocol import load_example, protocol_sha256
from diarytrial.studies.errors import (
    ProtocolAlreadyRecordedError,
    ProtocolStudyMismatchError,
    StudyAlreadyExistsError,
)
from diarytrial.studies.models import ProtocolVersion, Study
from diarytrial.studies.selectors import study_current_protocol
from diarytrial.studies.services import study_amend_protocol, study_create_from_protocol

pytestmark = pytest.mark.django_db

BAD_PROTOCOL = 'schema_version = 1\n\n[study]\nid = "Not A Slug"\n'


def test_create_keeps_the_protocol_text_and_its_hash() -> None:
    example = load_example("ldn-fibromyalgia")

    study = study_create_from_protocol(
        text=example.text, source="ldn-fibromyalgia.toml", created_by=None
    )

    assert study.slug == "ldn_fibromyalgia"
    assert study.title == example.protocol.study.title
    version = ProtocolVersion.objects.get(study=study)
    assert version.number == 1
    assert version.text == example.text
    assert version.sha256 == protocol_sha256(example.text) == example.sha256
    assert version.source == "ldn-fibromyalgia.toml"
    assert version.created_by is None


def test_create_records_who_created_it() -> None:
    user = make_user()

    study = make_study(created_by=user)

    assert study_current_protocol(study).created_by == user


def test_create_refuses_a_study_that_exists_already() -> None:
    make_study()

    with pytest.raises(StudyAlreadyExistsError, match="'ldn_fibromyalgia' exists already"):
        make_study(text=make_protocol_text(note="a second try"))

    assert Study.objects.count() == 1
    assert ProtocolVersion.objects.count() == 1


def test_create_refuses_a_bad_protocol_with_its_problems_and_writes_nothing() -> None:
    with pytest.raises(ProtocolInvalidError) as caught:
        study_create_from_protocol(text=BAD_PROTOCOL, source="bad.toml", created_by=None)

    fields = {problem.field for problem in caught.value.problems}
    assert {"study.id", "study.title", "arms"} <= fields
    assert "bad.toml:4: study.id: String should match pattern" in caught.value.message
    assert caught.value.code == "protocol_invalid"
    assert isinstance(caught.value, ApplicationError)
    assert not Study.objects.exists()
    assert not ProtocolVersion.objects.exists()


def test_create_is_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ProtocolVersion, "save", fail)

    with pytest.raises(RuntimeError):
        make_study()

    assert not Study.objects.exists()


def test_amend_makes_version_2_and_leaves_version_1_unchanged() -> None:
    study = make_study()
    first = study_current_protocol(study)
    amended_text = make_protocol_text(note="amendment 1: longer washout")
    user = make_user()

    second = study_amend_protocol(
        study=study, text=amended_text, source="ldn-amended.toml", created_by=user
    )

    assert second.number == 2
    assert second.text == amended_text
    assert second.sha256 == protocol_sha256(amended_text)
    assert second.created_by == user
    assert study_current_protocol(study) == second
    unchanged = ProtocolVersion.objects.get(pk=first.pk)
    assert (unchanged.number, unchanged.text, unchanged.sha256, unchanged.source) == (
        1,
        first.text,
        first.sha256,
        first.source,
    )


def test_amend_numbers_versions_in_order() -> None:
    study = make_study()

    numbers = [
        study_amend_protocol(
            study=study,
            text=make_protocol_text(note=f"amendment {n}"),
            source="p.toml",
            created_by=None,
        ).number
        for n in range(1, 4)
    ]

    assert numbers == [2, 3, 4]


def test_amend_takes_the_new_title() -> None:
    study = make_study()

    study_amend_protocol(
        study=study,
        text=make_protocol_text(title="LDN, amended"),
        source="p.toml",
        created_by=None,
    )

    assert study.title == "LDN, amended"
    assert Study.objects.get(pk=study.pk).title == "LDN, amended"


@pytest.mark.parametrize("version_resubmitted", [1, 2])
def test_amend_refuses_text_identical_to_any_version(version_resubmitted: int) -> None:
    study = make_study()
    texts = {1: make_protocol_text(), 2: make_protocol_text(note="amendment 1")}
    study_amend_protocol(study=study, text=texts[2], source="p.toml", created_by=None)

    with pytest.raises(
        ProtocolAlreadyRecordedError, match=f"identical to version {version_resubmitted}"
    ):
        study_amend_protocol(
            study=study, text=texts[version_resubmitted], source="p.toml", created_by=None
        )

    assert ProtocolVersion.objects.filter(study=study).count() == 2


def test_amend_refuses_another_study_id() -> None:
    study = make_study()

    with pytest.raises(
        ProtocolStudyMismatchError, match="'other_trial', not of 'ldn_fibromyalgia'"
    ):
        study_amend_protocol(
            study=study,
            text=make_protocol_text(study_id="other_trial"),
            source="p.toml",
            created_by=None,
        )

    assert ProtocolVersion.objects.filter(study=study).count() == 1


def test_amend_refuses_a_bad_protocol_with_its_problems() -> None:
    study = make_study()

    with pytest.raises(ProtocolInvalidError) as caught:
        study_amend_protocol(study=study, text=BAD_PROTOCOL, source="bad.toml", created_by=None)

    assert caught.value.describe_problems()[0].startswith("bad.toml:")
    assert ProtocolVersion.objects.filter(study=study).count() == 1


def test_amendments_of_two_studies_are_numbered_apart() -> None:
    first = make_study()
    other = make_study(study_id="other_trial")

    version = study_amend_protocol(
        study=other,
        text=make_protocol_text(study_id="other_trial", note="v2"),
        source="p.toml",
        created_by=None,
    )

    assert version.number == 2
    assert study_current_protocol(first).number == 1


@pytest.mark.django_db
def test_sites_and_memberships_are_audited() -> None:
    from diarytrial.audit.models import AuditEvent
    from diarytrial.studies.models import Role
    from diarytrial.studies.services import membership_grant, site_create

    study = make_study()
    admin = make_member(study=study, role=Role.ADMINISTRATOR, username="admin").user
    site = site_create(study=study, code="stanford", name="Stanford", actor=admin)
    member = make_user(username="coordinator-a")
    membership = membership_grant(
        study=study, user=member, role=Role.COORDINATOR, sites=[site], actor=admin
    )
    assert list(membership.sites.all()) == [site]
    last = AuditEvent.objects.latest("id")
    assert last.object_type == "studies.studymembership"
    assert last.changes[1] == {"field": "role", "old": None, "new": "coordinator"}
    other = make_study(study_id="other")
    with pytest.raises(InvalidInputError, match="belongs to another study"):
        membership_grant(study=other, user=member, role=Role.COORDINATOR, sites=[site], actor=None)
