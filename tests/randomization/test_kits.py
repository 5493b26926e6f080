"""Kits: inventories with codes that say nothing, blinded lists, choosing and dispensing."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from tests.builders import (
    make_allocation,
    make_dispensing,
    make_kits,
    make_member,
    make_participant,
    make_protocol_text,
    make_study,
)

from diarytrial.audit.models import AuditEvent
from diarytrial.core.errors import InvalidInputError, PermissionDeniedError
from diarytrial.participants.errors import ParticipantStatusError
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.participants.services import participant_dose_level_set
from diarytrial.protocol import load_example
from diarytrial.protocol.visits import kit_arm, visit_calendar
from diarytrial.randomization.errors import (
    KitImportInvalidError,
    KitMismatchError,
    KitNotAvailableError,
    NoKitAvailableError,
    VisitDispensedError,
    VisitInvalidError,
)
from diarytrial.randomization.models import AllocationSlot, Dispensing, Kit, KitBatch, KitStatus
from diarytrial.randomization.plans import kits_per_participant
from diarytrial.randomization.selectors import (
    KitSummary,
    dispensing_due,
    dispensing_list,
    kit_list_blinded,
    kit_to_dispense,
)
from diarytrial.randomization.services import (
    kit_contents_read,
    kit_destroy,
    kit_dispense,
    kit_inventory_generate,
    kit_inventory_import,
)
from diarytrial.simulate.people import CODE_ALPHABET
from diarytrial.studies.models import Role, Study

pytestmark = pytest.mark.django_db

Status = ParticipantStatus
LDN = load_example("ldn-fibromyalgia").protocol
CALENDAR = visit_calendar(LDN)


def _last_event_id() -> int:
    last = AuditEvent.objects.order_by("-id").first()
    return last.pk if last else 0


def _events_after(event_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=event_id).order_by("id"))


def _arms_of(participant: Participant) -> tuple[str, ...]:
    """The participant's arms, read as a test may (the application reads them through selectors)."""
    return LDN.sequence_from_code(AllocationSlot.objects.get(used_by=participant).sequence_code)


def _randomized(study: Study) -> Participant:
    if not study.allocation_lists.exists():
        make_allocation(study=study)
    return make_participant(study=study, status=Status.RANDOMIZED)


# --- inventories ----------------------------------------------------------------------------------


def test_generate_makes_each_arm_and_level_under_random_codes() -> None:
    study = make_study()

    batch = make_kits(study=study, per_arm_and_level=5, seed=99)

    kits = list(Kit.objects.filter(study=study))
    assert batch.size == len(kits) == 20
    assert batch.seed == 99
    assert Counter((k.arm, k.dose_level) for k in kits) == {
        (arm, level): 5 for arm in ("ldn", "placebo") for level in ("reduced", "standard")
    }
    assert all(re.fullmatch(f"K-[{CODE_ALPHABET}]{{4}}", k.code) for k in kits)
    assert all(k.status == KitStatus.AVAILABLE for k in kits)
    # Stored in code order: ids follow codes, not contents.
    by_id = [k.code for k in Kit.objects.filter(study=study).order_by("id")]
    assert by_id == sorted(by_id)


def test_the_same_seed_makes_the_same_kits_and_a_second_batch_never_repeats_a_code() -> None:
    first_study = make_study()
    second_study = make_study(study_id="replica")

    make_kits(study=first_study, per_arm_and_level=4, seed=5)
    make_kits(study=second_study, per_arm_and_level=4, seed=5)
    make_kits(study=first_study, per_arm_and_level=4, seed=5)

    def contents(study: Study) -> list[tuple[str, str, str]]:
        return list(
            Kit.objects.filter(study=study).order_by("id").values_list("code", "arm", "dose_level")
        )

    assert contents(second_study) == contents(first_study)[:16]
    codes = [code for code, _, _ in contents(first_study)]
    assert len(codes) == len(set(codes)) == 32


def test_generate_refuses_an_impossible_count() -> None:
    with pytest.raises(InvalidInputError, match="from 1 to"):
        kit_inventory_generate(study=make_study(), per_arm_and_level=0, actor=None)
    assert not KitBatch.objects.exists()


def test_generate_is_audited_without_contents_or_seed() -> None:
    study = make_study()
    mark = _last_event_id()

    batch = make_kits(study=study, per_arm_and_level=2, seed=123456)

    events = _events_after(mark)
    assert [(e.action, e.object_type) for e in events] == [
        ("create", "randomization.kitbatch"),
        *[("create", "randomization.kit")] * 8,
    ]
    assert {c["field"] for c in events[0].changes} == {"source", "filename", "size", "fingerprint"}
    for event in events:
        text = str(event.changes) + event.object_repr + event.reason
        assert "ldn" not in text
        assert "placebo" not in text
        assert "123456" not in text
    assert {c["field"] for c in events[1].changes} == {"code", "status", "batch_id"}
    assert batch.fingerprint in str(events[0].changes)


CSV_OK = "code,arm,dose_level\nX-93KQ,placebo,standard\nX-22AB,ldn,standard\nX-5M7P,ldn,reduced\n"


def test_import_stores_the_kits_in_code_order() -> None:
    study = make_study()

    batch = kit_inventory_import(study=study, csv_text=CSV_OK, source="supplier.csv", actor=None)

    assert (batch.source, batch.filename, batch.size, batch.seed) == (
        "imported",
        "supplier.csv",
        3,
        None,
    )
    stored = list(Kit.objects.filter(study=study).order_by("id").values_list("code", "arm"))
    assert stored == [("X-22AB", "ldn"), ("X-5M7P", "ldn"), ("X-93KQ", "placebo")]


def test_import_is_audited_by_batch_and_kit_without_contents() -> None:
    study = make_study()
    mark = _last_event_id()

    kit_inventory_import(study=study, csv_text=CSV_OK, source="supplier.csv", actor=None)

    events = _events_after(mark)
    assert [(e.action, e.object_type) for e in events] == [
        ("create", "randomization.kitbatch"),
        *[("create", "randomization.kit")] * 3,
    ]
    for event in events:
        assert "ldn" not in str(event.changes)
        assert "placebo" not in str(event.changes)


def test_import_lists_every_problem_with_its_line_and_imports_nothing() -> None:
    study = make_study()
    kit_inventory_import(
        study=study,
        csv_text="code,arm,dose_level\nK-EXIST,ldn,standard\n",
        source="a.csv",
        actor=None,
    )
    text = (
        "code,arm,dose_level\n"
        "K-AAAA,ldn,standard\n"
        "K-AAAA,placebo,standard\n"
        "K-EXIST,placebo,reduced\n"
        "K-BBBB,aspirin,standard\n"
        "K-CCCC,ldn,double\n"
        "LDN-0001,ldn,standard\n"
        "!,placebo,standard\n"
    )

    with pytest.raises(KitImportInvalidError) as caught:
        kit_inventory_import(study=study, csv_text=text, source="b.csv", actor=None)

    assert caught.value.problems == [
        "line 3: kit code K-AAAA is on line 2 too",
        "line 4: kit code K-EXIST exists in the study already",
        "line 5: arm 'aspirin' is not an arm id (ldn, placebo)",
        "line 6: dose level 'double' is not a level id (reduced, standard)",
        "line 7: kit code LDN-0001 contains an arm id; kit codes must not reveal what a kit "
        "contains",
        "line 8: kit code '!' must be 3 to 40 letters, digits or '-', e.g. K-7Q3M",
    ]
    assert caught.value.message.startswith("b.csv: the kit list has 6 problems")
    assert Kit.objects.filter(study=study).count() == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("code,arm\nK-AAAA,ldn\n", "header must name the columns code, arm, dose_level"),
        ("code,arm,dose_level\n", "the file lists no kits"),
        ("", "header must name"),
    ],
)
def test_import_refuses_a_file_without_the_columns_or_kits(text: str, problem: str) -> None:
    with pytest.raises(KitImportInvalidError, match=problem):
        kit_inventory_import(study=make_study(), csv_text=text, source="k.csv", actor=None)


# --- lists ----------------------------------------------------------------------------------------


def test_the_blinded_list_has_codes_and_statuses_only() -> None:
    study = make_study()
    make_kits(study=study, per_arm_and_level=2)

    with CaptureQueriesContext(connection) as captured:
        kits = kit_list_blinded(study=study)

    assert len(kits) == 8
    assert all(isinstance(k, KitSummary) for k in kits)
    assert set(KitSummary.__dataclass_fields__) == {"code", "status"}
    assert [k.code for k in kits] == sorted(k.code for k in kits)
    (query,) = captured.captured_queries
    assert '"arm"' not in query["sql"]
    assert '"dose_level"' not in query["sql"]
    assert kit_list_blinded(study=study, status=KitStatus.DISPENSED) == []


def test_the_unblinded_list_is_for_the_pharmacist_and_each_read_is_audited() -> None:
    study = make_study()
    make_kits(study=study, per_arm_and_level=1)
    pharmacist = make_member(study=study, role=Role.PHARMACIST).user
    coordinator = make_member(study=study, role=Role.COORDINATOR).user
    mark = _last_event_id()

    kits = kit_contents_read(user=pharmacist, study=study)

    assert {(k.arm, k.dose_level) for k in kits} == {
        (arm, level) for arm in ("ldn", "placebo") for level in ("reduced", "standard")
    }
    assert [(e.action, e.object_type) for e in _events_after(mark)] == [
        ("read", "randomization.kitbatch")
    ]
    with pytest.raises(PermissionDeniedError):
        kit_contents_read(user=coordinator, study=study)


# --- choosing and dispensing ----------------------------------------------------------------------


def test_the_kit_to_dispense_holds_the_visits_arm_at_the_current_level() -> None:
    study = make_study()
    make_kits(study=study, per_arm_and_level=3)
    participant = _randomized(study)
    needs = [kit_arm(LDN, c) for c in CALENDAR.contents[_arms_of(participant)]]

    for visit in range(1, 6):
        kit = kit_to_dispense(participant=participant, visit=visit)
        assert (kit.arm, kit.dose_level, kit.status) == (needs[visit - 1], "standard", "available")

    participant_dose_level_set(
        participant=participant, level="reduced", reason="nausea", actor=None
    )
    assert kit_to_dispense(participant=participant, visit=1).dose_level == "reduced"


def _one_of_each_sequence(study: Study) -> dict[tuple[str, ...], Participant]:
    """A randomized participant of each LDN sequence (more are randomized on the way)."""
    found: dict[tuple[str, ...], Participant] = {}
    for _ in range(20):
        participant = _randomized(study)
        found.setdefault(_arms_of(participant), participant)
        if len(found) == len(LDN.sequences):
            return found
    raise AssertionError("twenty randomizations gave a single sequence")


def test_each_ldn_sequence_gets_five_kits_three_ldn_and_two_placebo() -> None:
    study = make_study()
    make_kits(study=study, per_arm_and_level=6)  # two participants, three LDN kits each
    pharmacist = make_member(study=study, role=Role.PHARMACIST).user
    people = _one_of_each_sequence(study)

    for participant in people.values():
        for visit in range(1, 6):
            make_dispensing(participant=participant, visit=visit)

    def kits_of(sequence: tuple[str, ...]) -> list[tuple[int, str]]:
        dispensings = Dispensing.objects.filter(participant=people[sequence]).order_by("visit")
        return [(d.visit, d.kit.arm) for d in dispensings.select_related("kit")]

    assert kits_of(("ldn", "placebo")) == [
        (1, "ldn"),
        (2, "ldn"),
        (3, "ldn"),
        (4, "placebo"),  # the washout's identical placebo capsules
        (5, "placebo"),
    ]
    assert kits_of(("placebo", "ldn")) == [
        (1, "placebo"),
        (2, "placebo"),  # the washout
        (3, "ldn"),
        (4, "ldn"),
        (5, "ldn"),
    ]
    assert kits_per_participant(LDN) == {"ldn": 3, "placebo": 2}
    due = {row.participant_code for row in dispensing_due(user=pharmacist, study=study)}
    assert not due & {p.code for p in people.values()}  # nothing more is due
    for participant in people.values():
        with pytest.raises(VisitInvalidError, match="kits at visits 1 to 5; visit 6"):
            kit_to_dispense(participant=participant, visit=6)


def test_a_kit_of_the_wrong_arm_for_the_visit_is_refused() -> None:
    study = make_study()
    make_kits(study=study, per_arm_and_level=2)
    ldn_first = _one_of_each_sequence(study)[("ldn", "placebo")]
    ldn_kit = Kit.objects.filter(arm="ldn", dose_level="standard").first()
    placebo_kit = Kit.objects.filter(arm="placebo", dose_level="standard").first()
    assert ldn_kit is not None
    assert placebo_kit is not None

    for visit, wrong in ((1, placebo_kit), (3, placebo_kit), (4, ldn_kit), (5, ldn_kit)):
        with pytest.raises(KitMismatchError, match=f"not a kit for .* at visit {visit} ") as caught:
            kit_dispense(participant=ldn_first, visit=visit, kit=wrong, actor=None)
        assert "ldn" not in caught.value.message
        assert "placebo" not in caught.value.message
    assert not Dispensing.objects.exists()


def test_a_participant_gets_one_kit_per_visit() -> None:
    study = make_study()
    make_kits(study=study, per_arm_and_level=3)
    participant = _randomized(study)
    first = make_dispensing(participant=participant, visit=1)
    again = kit_to_dispense(participant=participant, visit=1)

    with pytest.raises(VisitDispensedError, match=f"got kit {first.kit.code} at visit 1 already"):
        kit_dispense(participant=participant, visit=1, kit=again, actor=None)
    assert Dispensing.objects.count() == 1
    assert Kit.objects.get(pk=again.pk).status == KitStatus.AVAILABLE


def test_a_washout_without_capsules_has_no_kit_to_dispense() -> None:
    text = make_protocol_text().replace('washout = "placebo_capsules"', 'washout = "no_capsules"')
    text = text.replace("treatment_days = { ldn = 84, placebo = 28 }", "treatment_days = 28")
    study = make_study(text=text)
    make_kits(study=study, per_arm_and_level=2)
    pharmacist = make_member(study=study, role=Role.PHARMACIST).user
    participant = _randomized(study)
    make_dispensing(participant=participant, visit=1)
    kit = Kit.objects.filter(status=KitStatus.AVAILABLE).first()
    assert kit is not None

    with pytest.raises(VisitInvalidError, match=r"Visit 2 dispenses no kit .* no capsules"):
        kit_to_dispense(participant=participant, visit=2)
    with pytest.raises(VisitInvalidError, match="Visit 2 dispenses no kit"):
        kit_dispense(participant=participant, visit=2, kit=kit, actor=None)
    (row,) = dispensing_due(user=pharmacist, study=study)
    assert row.describe().startswith("Visit 3, treatment day 42 (")
    assert row.describe().endswith("): kit for days 43-70")


def test_dispensing_marks_the_kit_and_makes_the_participant_active() -> None:
    study = make_study()
    make_kits(study=study, per_arm_and_level=2)
    participant = _randomized(study)
    pharmacist = make_member(study=study, role=Role.PHARMACIST).user
    kit = kit_to_dispense(participant=participant, visit=1)
    mark = _last_event_id()

    dispensing = kit_dispense(participant=participant, visit=1, kit=kit, actor=pharmacist)

    assert (dispensing.kit, dispensing.participant, dispensing.visit) == (kit, participant, 1)
    assert kit.status == Kit.objects.get(pk=kit.pk).status == KitStatus.DISPENSED
    assert participant.status == Status.ACTIVE
    (summary,) = dispensing_list(participant=participant)
    assert str(summary) == f"kit {kit.code} dispensed"
    assert summary.visit_text.startswith("Visit 1, treatment day 0 (")
    assert summary.visit_text.endswith("): kit for days 1-28")
    events = _events_after(mark)
    assert [(e.action, e.object_type) for e in events] == [
        ("update", "randomization.kit"),
        ("create", "randomization.dispensing"),
        ("update", "participants.participant"),
    ]
    assert events[-1].reason == f"kit {kit.code} dispensed"
    assert {"field": "visit", "old": None, "new": 1} in events[1].changes
    assert "period" not in str(events[1].changes)
    for event in events:
        assert kit.arm not in str(event.changes)


def test_a_kit_is_dispensed_once() -> None:
    study = make_study()
    make_kits(study=study, per_arm_and_level=2)
    first = _randomized(study)
    kit = kit_to_dispense(participant=first, visit=1)
    kit_dispense(participant=first, visit=1, kit=kit, actor=None)

    with pytest.raises(KitNotAvailableError, match="dispensed already"):
        kit_dispense(participant=first, visit=1, kit=Kit.objects.get(pk=kit.pk), actor=None)
    assert Dispensing.objects.count() == 1


def test_a_kit_with_other_contents_is_refused_without_naming_them() -> None:
    study = make_study()
    make_kits(study=study, per_arm_and_level=2)
    participant = _randomized(study)
    arms = _arms_of(participant)
    wrong_arm = Kit.objects.filter(dose_level="standard").exclude(arm=arms[0]).first()
    wrong_level = Kit.objects.filter(arm=arms[0], dose_level="reduced").first()
    assert wrong_arm is not None
    assert wrong_level is not None

    for kit in (wrong_arm, wrong_level):
        with pytest.raises(KitMismatchError) as caught:
            kit_dispense(participant=participant, visit=1, kit=kit, actor=None)
        assert "ldn" not in caught.value.message
        assert "placebo" not in caught.value.message
    assert not Dispensing.objects.exists()
    assert Kit.objects.filter(status=KitStatus.AVAILABLE).count() == 8


def test_dispensing_needs_a_real_visit_and_a_randomized_participant() -> None:
    study = make_study()
    make_kits(study=study, per_arm_and_level=1)
    randomized = _randomized(study)
    enrolled = make_participant(study=study)
    kit = Kit.objects.first()
    assert kit is not None

    for visit in (0, 6, 7):
        with pytest.raises(VisitInvalidError, match=f"kits at visits 1 to 5; visit {visit} "):
            kit_to_dispense(participant=randomized, visit=visit)
    with pytest.raises(ParticipantStatusError, match="randomized and active participants only"):
        kit_dispense(participant=enrolled, visit=1, kit=kit, actor=None)


def test_no_kit_left_says_so() -> None:
    study = make_study()
    participant = _randomized(study)

    with pytest.raises(NoKitAvailableError, match="generate or import more kits"):
        kit_to_dispense(participant=participant, visit=1)


def test_a_destroyed_kit_is_not_dispensed() -> None:
    study = make_study()
    make_kits(study=study, per_arm_and_level=1)
    participant = _randomized(study)
    kit = kit_to_dispense(participant=participant, visit=1)
    mark = _last_event_id()

    kit_destroy(kit=kit, reason="capsules damaged", actor=None)

    assert kit.status == KitStatus.DESTROYED
    assert [(e.action, e.reason) for e in _events_after(mark)] == [("update", "capsules damaged")]
    with pytest.raises(NoKitAvailableError):
        kit_to_dispense(participant=participant, visit=1)
    with pytest.raises(KitNotAvailableError):
        kit_dispense(participant=participant, visit=1, kit=kit, actor=None)


def _dispense_then_fail(participant: Participant, kit: Kit) -> None:
    with transaction.atomic():
        kit_dispense(participant=participant, visit=1, kit=kit, actor=None)
        raise RuntimeError("boom")


def test_a_rolled_back_dispensing_leaves_neither_rows_nor_events() -> None:
    study = make_study()
    make_kits(study=study, per_arm_and_level=1)
    participant = _randomized(study)
    kit = kit_to_dispense(participant=participant, visit=1)
    mark = _last_event_id()

    with pytest.raises(RuntimeError, match="boom"):
        _dispense_then_fail(participant, kit)

    assert _events_after(mark) == []
    assert not Dispensing.objects.exists()
    assert Kit.objects.get(pk=kit.pk).status == KitStatus.AVAILABLE
    assert Participant.objects.get(pk=participant.pk).status == Status.RANDOMIZED
