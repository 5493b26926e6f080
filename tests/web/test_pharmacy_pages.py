"""The pharmacist's pages: kits due and dispensing, the kit inventory, the allocation lists, and
enrolment by sequence (also the statistician's once the study is unblinded)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tests.builders import (
    LEFT_OPEN,
    client_for,
    make_allocation,
    make_dispensing,
    make_kits,
    make_member,
    make_participant,
    make_site,
    make_study,
)

from diarytrial.audit.models import AuditAction, AuditEvent
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.protocol import load_example
from diarytrial.randomization.models import AllocationList, AllocationSlot, Dispensing, Kit
from diarytrial.randomization.selectors import dispensing_due, kit_to_dispense
from diarytrial.studies.models import Role, Site, Study

pytestmark = pytest.mark.django_db

Status = ParticipantStatus
LDN = load_example("ldn-fibromyalgia").protocol


@pytest.fixture
def study() -> Study:
    return make_study()


@pytest.fixture
def site(study: Study) -> Site:
    return make_site(study=study, code="stanford")


@pytest.fixture
def pharmacist(study: Study) -> Client:
    return client_for(make_member(study=study, role=Role.PHARMACIST).user)


def page(study: Study, path: str = "") -> str:
    return f"/studies/{study.slug}/pharmacy/{path}"


def arms_of(participant: Participant) -> tuple[str, ...]:
    """A participant's arms, read as a test may (pages read them through selectors)."""
    return LDN.sequence_from_code(AllocationSlot.objects.get(used_by=participant).sequence_code)


def randomized(
    study: Study, site: Site, n: int = 1, start_date: dt.date | None = None
) -> list[Participant]:
    if not AllocationList.objects.filter(study=study).exists():
        make_allocation(study=study, size=40)
    return [
        make_participant(study=study, site=site, status=Status.RANDOMIZED, start_date=start_date)
        for _ in range(n)
    ]


def read_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.READ))


# --- kits due and dispensing ------------------------------------------------------------------


def test_the_due_list_names_the_kit_kit_to_dispense_names_without_its_contents(
    study: Study, site: Site, pharmacist: Client
) -> None:
    make_kits(study=study)
    (participant,) = randomized(study, site)

    text = pharmacist.get(page(study)).text

    expected = kit_to_dispense(participant=participant, visit=1)
    assert "Visit 1, treatment day 0 (" in text
    assert "): kit for days 1-28" in text
    assert participant.code in text
    assert f"<code>{expected.code}</code>" in text
    main = text.split("<main")[1]
    assert "naltrexone" not in main.lower()
    assert "placebo" not in main.lower()
    assert not read_events()  # the due list reads no contents


def test_two_participants_needing_the_same_kind_get_different_kits(
    study: Study, site: Site
) -> None:
    make_kits(study=study, per_arm_and_level=3)
    participants = randomized(study, site, n=6)
    user = make_member(study=study, role=Role.PHARMACIST).user

    rows = dispensing_due(user=user, study=study)

    codes = [row.kit_code for row in rows]
    assert len(rows) == 6
    assert None not in codes
    assert len(set(codes)) == 6
    kits = {k.code: k for k in Kit.objects.filter(code__in=codes)}
    for row in rows:
        participant = next(p for p in participants if p.code == row.participant_code)
        assert kits[str(row.kit_code)].arm == arms_of(participant)[0]
        assert kits[str(row.kit_code)].dose_level == participant.dose_level


def test_dispensing_a_kit_makes_the_participant_active_and_the_next_visit_due(
    study: Study, site: Site, pharmacist: Client
) -> None:
    make_kits(study=study)
    (participant,) = randomized(study, site)
    kit = kit_to_dispense(participant=participant, visit=1)

    response = pharmacist.post(
        page(study, "dispense/"), {"participant": participant.code, "visit": 1, "kit": kit.code}
    )
    after = pharmacist.get(response["Location"]).text

    assert response.status_code == 302
    assert response["Location"] == page(study)
    assert Dispensing.objects.get().kit == kit
    participant.refresh_from_db()
    assert participant.status == Status.ACTIVE
    assert f"Kit {kit.code} dispensed to {participant.code}: Visit 1, treatment day 0 (" in after
    rows = after.split("<tbody>")[1]
    assert "Visit 2, treatment day 28 (" in rows
    assert "Visit 1," not in rows
    assert "period" not in rows.lower()


def test_a_kit_taken_meanwhile_is_refused_with_a_message(
    study: Study, site: Site, pharmacist: Client
) -> None:
    make_kits(study=study)
    first, second = randomized(study, site, n=2)
    taken = make_dispensing(participant=first).kit

    response = pharmacist.post(
        page(study, "dispense/"), {"participant": second.code, "visit": 1, "kit": taken.code}
    )

    assert response.status_code == 302
    text = pharmacist.get(response["Location"]).text
    assert f"Kit {taken.code} is dispensed already" in text
    assert Dispensing.objects.filter(participant=second).count() == 0


def test_a_wrong_kit_or_a_tampered_form_dispenses_nothing(
    study: Study, site: Site, pharmacist: Client
) -> None:
    make_kits(study=study)
    (participant,) = randomized(study, site)
    wrong = Kit.objects.exclude(arm=arms_of(participant)[0]).first()
    assert wrong is not None

    mismatch = pharmacist.post(
        page(study, "dispense/"), {"participant": participant.code, "visit": 1, "kit": wrong.code}
    )
    unknown = pharmacist.post(
        page(study, "dispense/"), {"participant": participant.code, "visit": 1, "kit": "K-NONE"}
    )
    garbled = pharmacist.post(page(study, "dispense/"), {"participant": participant.code})

    assert not Dispensing.objects.exists()
    messages = pharmacist.get(page(study)).text
    assert f"Kit {wrong.code} is not a kit for participant {participant.code}" in messages
    assert "has no kit &#x27;K-NONE&#x27;" in messages
    assert "was not understood" in messages
    assert {mismatch.status_code, unknown.status_code, garbled.status_code} == {302}


def test_the_due_list_says_when_no_kit_is_left(
    study: Study, site: Site, pharmacist: Client
) -> None:
    randomized(study, site)

    text = pharmacist.get(page(study)).text

    assert "No kit left" in text
    assert "Dispense</button>" not in text


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_due_list_queries_do_not_grow_with_participants(
    study: Study, site: Site, pharmacist: Client
) -> None:
    make_kits(study=study, per_arm_and_level=20)
    randomized(study, site)
    one = _queries(pharmacist, page(study))

    randomized(study, site, n=29)
    for participant in Participant.objects.filter(status=Status.RANDOMIZED)[:10]:
        make_dispensing(participant=participant)

    assert _queries(pharmacist, page(study)) == one


# --- inventory ------------------------------------------------------------------------------------


def test_the_inventory_shows_contents_and_records_the_read(
    study: Study, site: Site, pharmacist: Client
) -> None:
    make_kits(study=study, per_arm_and_level=2)

    text = pharmacist.get(page(study, "kits/")).text

    assert "Low-dose naltrexone" in text
    assert "4.5 mg" in text
    assert text.count("<code>K-") == 8
    needed = " ".join(text.split('id="kits-needed">')[1].split("</p>")[0].split())
    assert "at most 3 of Low-dose naltrexone and 2 of Placebo" in needed
    assert "serve N&#8239;/&#8239;3 participants" in needed
    events = read_events()
    assert [e.reason for e in events] == ["kit contents read"]
    assert events[0].object_type == "randomization.kitbatch"


def test_inventory_queries_do_not_grow_with_kits(study: Study, pharmacist: Client) -> None:
    make_kits(study=study, per_arm_and_level=1, seed=1)
    few = _queries(pharmacist, page(study, "kits/"))
    make_kits(study=study, per_arm_and_level=30, seed=2)
    many = _queries(pharmacist, page(study, "kits/"))

    # One audit READ event per kit batch (and its chain lock): a second batch adds those only.
    assert many - few <= 3


def test_making_kits_from_the_page(study: Study, pharmacist: Client) -> None:
    refused = pharmacist.post(page(study, "kits/generate/"), {"per_arm_and_level": "0"})
    made = pharmacist.post(page(study, "kits/generate/"), {"per_arm_and_level": "2"})

    assert refused.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in refused.text
    assert made.status_code == 302
    assert Kit.objects.filter(study=study).count() == 8
    assert "8 kits made" in pharmacist.get(made["Location"]).text


def test_importing_a_kit_list_lists_every_problem_or_imports_all(
    study: Study, pharmacist: Client
) -> None:
    bad = SimpleUploadedFile(
        "kits.csv", b"code,arm,dose_level\nK-AAAA,ldn,standard\nK-BBBB,aspirin,standard\n"
    )
    good = SimpleUploadedFile(
        "supplier.csv", b"code,arm,dose_level\nK-CCCC,ldn,standard\nK-DDDD,placebo,reduced\n"
    )

    refused = pharmacist.post(page(study, "kits/import/"), {"file": bad})
    imported = pharmacist.post(page(study, "kits/import/"), {"file": good})

    assert refused.status_code == 200
    assert "nothing was imported" in refused.text
    assert "aspirin" in refused.text
    assert imported.status_code == 302
    assert set(Kit.objects.values_list("code", flat=True)) == {"K-CCCC", "K-DDDD"}
    assert "2 kits imported from supplier.csv" in pharmacist.get(imported["Location"]).text


def test_an_import_without_a_file_says_so(study: Study, pharmacist: Client) -> None:
    response = pharmacist.post(page(study, "kits/import/"), {})

    assert response.status_code == 200
    assert 'id="id_file_error"' in response.text
    assert "This field is required." in response.text


# --- allocation lists ---------------------------------------------------------------------------


def test_the_allocation_page_shows_use_not_contents_and_offers_missing_strata(
    study: Study, site: Site, pharmacist: Client
) -> None:
    randomized(study, site, n=3)

    text = pharmacist.get(page(study, "allocation/")).text

    assert "opioid_use=false" in text
    assert re.search(r"<td>\d+</td>\s*<td>3</td>", text)  # slots, used
    assert not re.search(r"\b(AB|BA)\b", text)
    assert '<option value="opioid_use=true">' in text  # the stratum without a list
    assert not read_events()


def test_generating_a_list_from_the_page(study: Study, site: Site, pharmacist: Client) -> None:
    refused = pharmacist.post(
        page(study, "allocation/generate/"), {"stratum": "opioid_use=maybe", "size": "10"}
    )
    made = pharmacist.post(
        page(study, "allocation/generate/"), {"stratum": "opioid_use=true", "size": "10"}
    )

    assert refused.status_code == 200
    assert "Select a valid choice" in refused.text
    assert made.status_code == 302
    generated = AllocationList.objects.get(study=study)
    assert generated.stratum == "opioid_use=true"
    assert generated.size >= 10
    assert (
        "Allocation list of stratum opioid_use=true generated"
        in pharmacist.get(made["Location"]).text
    )


def test_reading_a_list_shows_its_slots_and_is_recorded(
    study: Study, site: Site, pharmacist: Client
) -> None:
    (participant,) = randomized(study, site)
    listed = AllocationList.objects.get(study=study)

    text = pharmacist.get(page(study, "allocation/list/"), {"stratum": "opioid_use=false"}).text

    assert f"<code>{participant.code}</code>" in text
    assert len(re.findall(r"<strong>(AB|BA)</strong>", text)) == listed.size
    assert str(listed.seed) not in text
    (event,) = read_events()
    assert event.object_type == "randomization.allocationlist"
    assert event.reason == "allocation list read"


def test_an_unknown_stratum_is_not_found(study: Study, pharmacist: Client) -> None:
    response = pharmacist.get(page(study, "allocation/list/"), {"stratum": "opioid_use=true"})
    missing = pharmacist.get(page(study, "allocation/list/"))

    assert response.status_code == 404
    assert missing.status_code == 404
    assert not read_events()


# --- enrolment by sequence ----------------------------------------------------------------------


def test_enrolment_by_sequence_counts_by_sequence_and_status_and_is_recorded(
    study: Study, site: Site, pharmacist: Client
) -> None:
    make_kits(study=study)
    participants = randomized(study, site, n=4)
    make_dispensing(participant=participants[0])
    by_sequence: dict[str, int] = {}
    for participant in participants:
        code = LDN.sequence_code(arms_of(participant))
        by_sequence[code] = by_sequence.get(code, 0) + 1

    text = pharmacist.get(f"/studies/{study.slug}/enrolment-by-sequence/").text

    for code, count in by_sequence.items():
        row = re.search(rf"<strong>{code}</strong>.*?</tr>", text, re.S)
        assert row is not None
        assert re.findall(r"<td>(\d+)</td>", row.group(0))[-1] == str(count)
    assert "Low-dose naltrexone, then Placebo" in text
    assert [e.reason for e in read_events()] == ["enrolment by sequence read"]


def test_the_home_page_offers_enrolment_by_sequence_to_the_unblinded_only(
    study: Study, site: Site, pharmacist: Client
) -> None:
    investigator = client_for(make_member(study=study, role=Role.INVESTIGATOR).user)
    home = f"/studies/{study.slug}/"

    assert "Enrolment by sequence" in pharmacist.get(home).text
    assert "Enrolment by sequence" not in investigator.get(home).text
    assert not read_events()  # offering it is not reading it


def test_the_statistician_sees_enrolment_by_sequence_once_the_study_is_unblinded(
    study: Study, site: Site
) -> None:
    from diarytrial.exports.services import study_unblind
    from diarytrial.studies.services import study_lock

    randomized(study, site, n=2)
    statistician = make_member(study=study, role=Role.STATISTICIAN).user
    administrator = make_member(study=study, role=Role.ADMINISTRATOR).user
    client = client_for(statistician)
    url = f"/studies/{study.slug}/enrolment-by-sequence/"
    before = client.get(url)

    study_lock(
        study=study,
        reason="last participant completed",
        actor=administrator,
        override_reason=LEFT_OPEN,
    )
    study_unblind(study=study, reason="final analysis", actor=statistician)
    after = client.get(url)

    assert before.status_code == 403
    assert after.status_code == 200
    assert "Low-dose naltrexone, then Placebo" in after.text
    assert "Enrolment by sequence" in client.get(f"/studies/{study.slug}/").text


def test_the_pages_tell_the_pharmacist_nothing_can_be_dispensed_once_locked(
    study: Study, site: Site, pharmacist: Client
) -> None:
    from diarytrial.studies.services import study_lock

    make_kits(study=study)
    (participant,) = randomized(study, site)
    kit = kit_to_dispense(participant=participant, visit=1)
    administrator = make_member(study=study, role=Role.ADMINISTRATOR).user
    study_lock(study=study, reason="analysis", actor=administrator, override_reason=LEFT_OPEN)

    text = pharmacist.get(page(study)).text
    response = pharmacist.post(
        page(study, "dispense/"), {"participant": participant.code, "visit": 1, "kit": kit.code}
    )

    assert "locked for analysis" in text
    assert "Dispense</button>" not in text
    assert not Dispensing.objects.exists()
    assert "locked for analysis" in pharmacist.get(response["Location"]).text


def test_dates_on_the_due_list_are_the_visit_days(
    study: Study, site: Site, pharmacist: Client
) -> None:
    make_kits(study=study)
    start = dt.date(2026, 1, 5)
    randomized(study, site, start_date=start)

    text = pharmacist.get(page(study)).text

    # Baseline is 14 days: visit 1 is its last day, day 14, whatever the arm.
    assert "Visit 1, treatment day 0 (2026-01-18): kit for days 1-28" in text
    assert "due now" in text


def _row_of(text: str, code: str) -> list[str]:
    """The site, visit and dose level cells of participant `code`'s row of the due list."""
    found = re.search(rf"<tr>\s*<td><a [^>]*><code>{code}</code>.*?</tr>", text, re.S)
    assert found is not None, code
    return re.findall(r"<td>(.*?)</td>", found.group(0), re.S)[1:4]


def _kits_section(client: Client, study: Study, participant: Participant) -> str:
    """The kits dispensed as a participant's page shows them, without the kit codes."""
    text = client.get(f"/studies/{study.slug}/participants/{participant.code}/").text
    section = text.split('id="kits"')[1].split("<h2")[0]
    return re.sub(r"K-[0-9A-Z]+", "…", section)


def test_two_participants_who_started_the_same_day_have_the_same_visits_whatever_the_sequence(
    study: Study, site: Site, pharmacist: Client
) -> None:
    make_kits(study=study, per_arm_and_level=20)
    start = dt.date(2026, 10, 5)
    people: dict[tuple[str, ...], Participant] = {}
    while len(people) < 2 and len(AllocationSlot.objects.filter(used_by__isnull=False)) < 20:
        (participant,) = randomized(study, site, start_date=start)
        people.setdefault(arms_of(participant), participant)
    pair = (people[("ldn", "placebo")], people[("placebo", "ldn")])
    user = make_member(study=study, role=Role.PHARMACIST, username="second_pharmacist").user
    blinded = [
        client_for(make_member(study=study, role=role).user)
        for role in (Role.COORDINATOR, Role.INVESTIGATOR, Role.STATISTICIAN)
    ]

    days = ["0 (2026-10-18): kit for days 1-28", "28 (2026-11-15): kit for days 29-42"]
    days += ["42 (2026-11-29): kit for days 43-84", "84 (2027-01-10): kit for days 85-98"]
    days += ["98 (2027-01-24): kit for days 99-126"]
    for visit, told in enumerate(days, start=1):
        rows = {r.participant_code: r for r in dispensing_due(user=user, study=study)}
        expected = f"Visit {visit}, treatment day {told}"
        assert [rows[p.code].describe() for p in pair] == [expected, expected]
        text = pharmacist.get(page(study)).text
        assert _row_of(text, pair[0].code) == _row_of(text, pair[1].code)
        assert expected in _row_of(text, pair[0].code)[1]
        for participant in pair:
            make_dispensing(participant=participant, visit=visit)
        for client in blinded:
            first, second = (_kits_section(client, study, p) for p in pair)
            assert first == second
            assert expected in first
            assert "period" not in first.lower()
    due = {r.participant_code for r in dispensing_due(user=user, study=study)}
    assert not due & {p.code for p in pair}  # five kits each, and nothing more
