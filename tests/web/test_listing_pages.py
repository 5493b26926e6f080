"""The staff listings: participants, the study's adverse events, the side effects to confirm.

Each is searched and filtered through its query string, a page at a time, and downloaded as
CSV; each keeps to the reader's sites; a query it cannot read answers 400 with what is wrong;
its queries do not grow with its rows, nor do its CSV's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from tests.builders import (
    client_for,
    make_adverse_event,
    make_allocation,
    make_entry,
    make_member,
    make_participant,
    make_site,
    make_study,
)

from diarytrial.core.listing import PAGE_SIZE
from diarytrial.participants.models import Participant, ParticipantStatus
from diarytrial.studies.models import Role, Site, Study

pytestmark = pytest.mark.django_db

Status = ParticipantStatus


@pytest.fixture
def study() -> Study:
    return make_study()


@pytest.fixture
def stanford(study: Study) -> Site:
    return make_site(study=study, code="stanford", name="Stanford Pain Clinic")


@pytest.fixture
def boston(study: Study) -> Site:
    return make_site(study=study, code="boston", name="Boston Rheumatology")


def member(study: Study, role: Role, sites: list[Site] | None = None) -> Client:
    return client_for(make_member(study=study, role=role, sites=sites).user)


def study_url(study: Study, name: str) -> str:
    return reverse(name, kwargs={"study": study.slug})


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "the CSV starts with the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def codes_on(text: str) -> list[str]:
    """The participant codes of the table's rows, in order."""
    return re.findall(r"<tr>\s*<td><a [^>]*><code>(P-[A-Z0-9]+)</code>", text)


def started(study: Study, site: Site, days: int, **options: object) -> Participant:
    """A participant whose diary started `days` days before their today (in Los Angeles, the
    builder's time zone)."""
    today = timezone.now().astimezone(zoneinfo.ZoneInfo("America/Los_Angeles")).date()
    start = today - dt.timedelta(days=days)
    return make_participant(study=study, site=site, start_date=start, **options)  # type: ignore[arg-type]


def keep_diary(participant: Participant, nights: int) -> None:
    assert participant.start_date is not None
    for n in range(nights):
        make_entry(participant=participant, diary_date=participant.start_date + dt.timedelta(n))


def queries(client: Client, url: str, query: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query or {}).status_code == 200
    return len(captured)


# --- participants -------------------------------------------------------------------------------


def test_participants_are_searched_by_code_any_case(study: Study, stanford: Site) -> None:
    wanted, other = (make_participant(study=study, site=stanford) for _ in range(2))
    part = wanted.code[2:5].lower()
    if part in other.code.lower():  # codes are random: pick a part only the wanted one has
        part = wanted.code.lower()

    text = (
        member(study, Role.INVESTIGATOR)
        .get(study_url(study, "participants:list"), {"code": part})
        .text
    )

    assert codes_on(text) == [wanted.code]
    assert "1 participant matching the filter" in text


def test_participants_are_filtered_by_diary_kept_below_a_share(
    study: Study, stanford: Site
) -> None:
    faithful = started(study, stanford, 10)
    keep_diary(faithful, 10)
    forgetful = started(study, stanford, 10)
    keep_diary(forgetful, 1)
    make_participant(study=study, site=stanford, status=Status.SCREENED)  # no night due

    response = member(study, Role.COORDINATOR).get(
        study_url(study, "participants:list"), {"compliance_below": "80"}
    )

    assert codes_on(response.text) == [forgetful.code]


def test_participants_are_filtered_by_their_place_on_the_visit_calendar(
    study: Study, stanford: Site
) -> None:
    make_allocation(study=study)
    treated = started(study, stanford, 20, status=Status.RANDOMIZED)
    in_baseline = started(study, stanford, 2, status=Status.RANDOMIZED)
    not_randomized = started(study, stanford, 2)
    client = member(study, Role.INVESTIGATOR)
    list_url = study_url(study, "participants:list")

    assert codes_on(client.get(list_url, {"visit": "1"}).text) == [treated.code]
    assert codes_on(client.get(list_url, {"visit": "baseline"}).text) == [in_baseline.code]
    assert codes_on(client.get(list_url, {"visit": "outside"}).text) == [not_randomized.code]
    assert codes_on(client.get(list_url, {"visit": "2"}).text) == []
    page = client.get(list_url).text
    assert '<option value="5">Since visit 5</option>' in page  # the LDN calendar's visits
    assert "Since visit 6" not in page  # the last visit ends the treatment: nobody is "since"


def test_participants_are_sorted_by_each_column_empty_values_last(
    study: Study, stanford: Site, boston: Site
) -> None:
    low = started(study, boston, 10)
    keep_diary(low, 2)
    high = started(study, stanford, 10)
    keep_diary(high, 9)
    none = make_participant(study=study, site=stanford, status=Status.SCREENED)
    client = member(study, Role.INVESTIGATOR)
    list_url = study_url(study, "participants:list")

    def order(sort: str) -> list[str]:
        return codes_on(client.get(list_url, {"sort": sort}).text)

    assert order("compliance") == [low.code, high.code, none.code]
    assert order("-compliance") == [high.code, low.code, none.code]
    assert order("-last_diary") == [high.code, low.code, none.code]
    assert order("last_diary") == [low.code, high.code, none.code]
    assert order("code") == sorted([low.code, high.code, none.code])
    assert order("-code") == sorted([low.code, high.code, none.code], reverse=True)
    assert order("site")[0] == low.code  # boston before stanford
    assert order("status")[0] == none.code  # screened comes first on the path
    assert order("-status")[-1] == none.code


def test_participants_come_a_page_at_a_time_keeping_the_filter(
    study: Study, stanford: Site
) -> None:
    everyone = sorted(
        make_participant(study=study, site=stanford, status=Status.SCREENED).code
        for _ in range(PAGE_SIZE + 2)
    )
    client = member(study, Role.INVESTIGATOR)
    list_url = study_url(study, "participants:list")

    first = client.get(list_url, {"status": "screened"}).text
    second = client.get(list_url, {"status": "screened", "page": "2"}).text
    past_the_end = client.get(list_url, {"status": "screened", "page": "99999"})

    assert codes_on(first) == everyone[:PAGE_SIZE]
    assert codes_on(second) == everyone[PAGE_SIZE:]
    assert "Page 1 of 2" in first
    assert 'href="?status=screened&amp;page=2"' in first
    assert past_the_end.status_code == 200
    assert codes_on(past_the_end.text) == everyone[PAGE_SIZE:]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"page": "abc"}, "Page (page): The page must be a whole number, 1 or more."),
        ({"page": "-1"}, "Page (page): Ensure this value is greater than or equal to 1."),
        ({"sort": "password"}, "Sort by (sort): Select a valid choice."),
        ({"visit": "99"}, "Today (visit): Select a valid choice."),
        ({"compliance_below": "abc"}, "Diary kept below (%) (compliance_below): Enter a whole"),
        ({"compliance_below": "1000"}, "Ensure this value is less than or equal to 100."),
        ({"code": "P" * 100_000}, "Code contains (code): Ensure this value has at most 20"),
    ],
)
def test_a_participant_query_that_cannot_be_read_is_400_with_what_is_wrong(
    study: Study, stanford: Site, query: dict[str, str], problem: str
) -> None:
    participant = make_participant(study=study, site=stanford)
    client = member(study, Role.INVESTIGATOR)

    page = client.get(study_url(study, "participants:list"), query)
    download = client.get(study_url(study, "participants:csv"), query)

    assert page.status_code == 400
    assert problem in page.text
    assert participant.code not in page.text
    assert download.status_code == 400
    assert problem in download.text
    assert download["Content-Type"].startswith("text/html")


def test_an_htmx_request_that_cannot_be_read_loads_the_whole_page(
    study: Study, stanford: Site
) -> None:
    list_url = study_url(study, "participants:list")

    response = member(study, Role.INVESTIGATOR).get(list_url, {"sort": "x"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    assert response["HX-Redirect"] == f"{list_url}?sort=x"


def test_the_participants_csv_holds_every_matching_row_and_the_list_columns(
    study: Study, stanford: Site, boston: Site
) -> None:
    make_allocation(study=study)
    treated = started(study, stanford, 20, status=Status.RANDOMIZED)
    keep_diary(treated, 3)
    make_participant(study=study, site=boston)
    for _ in range(PAGE_SIZE):
        make_participant(study=study, site=stanford, status=Status.SCREENED)

    response = member(study, Role.COORDINATOR, sites=[stanford]).get(
        study_url(study, "participants:csv"), {"page": "1", "sort": "-status"}
    )

    assert response.status_code == 200
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="{study.slug}-participants-{today}.csv"'
    )
    rows = csv_rows(response.content)
    assert rows[0] == [
        "participant_id",
        "site",
        "status",
        "baseline_day",
        "treatment_day",
        "since_visit",
        "dose_level",
        "start_date",
        "last_diary",
        "nights_kept",
        "nights_due",
        "late_nights",
        "diary_kept_percent",
    ]
    assert len(rows) == 1 + PAGE_SIZE + 1  # every page; not the other site's participant
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["participant_id"] == treated.code
    assert first["status"] == "randomized"
    assert first["since_visit"] == "1"
    assert first["baseline_day"] == ""
    assert first["nights_kept"] == "3"
    assert first["start_date"] == str(treated.start_date)


def test_participant_list_and_csv_queries_do_not_grow_with_rows(
    study: Study, stanford: Site
) -> None:
    make_allocation(study=study, size=40)
    client = member(study, Role.COORDINATOR, sites=[stanford])
    keep_diary(started(study, stanford, 5, status=Status.RANDOMIZED), 2)
    query = {"sort": "-compliance", "visit": "1", "compliance_below": "90", "code": "P"}
    list_url, csv_url = study_url(study, "participants:list"), study_url(study, "participants:csv")
    one = queries(client, list_url, query), queries(client, csv_url, query)

    for n in range(2 * PAGE_SIZE // 3):
        status = (Status.RANDOMIZED, Status.ENROLLED, Status.SCREENED)[n % 3]
        participant = started(study, stanford, 20 + n % 5, status=status)
        if status != Status.SCREENED:
            keep_diary(participant, 2)

    assert (queries(client, list_url, query), queries(client, csv_url, query)) == one


# --- adverse events -----------------------------------------------------------------------------


def test_adverse_events_of_every_participant_are_listed_with_links(
    study: Study, stanford: Site
) -> None:
    first, second = started(study, stanford, 10), started(study, stanford, 10)
    event = make_adverse_event(participant=first, term="Headache")
    make_adverse_event(participant=second, term="Nausea", side_effect="nausea")

    investigator = member(study, Role.INVESTIGATOR).get(study_url(study, "adverse_events:list"))
    statistician = member(study, Role.STATISTICIAN).get(study_url(study, "adverse_events:list"))

    assert investigator.status_code == 200
    assert "Headache" in investigator.text
    assert "Nausea" in investigator.text
    change = reverse(
        "safety:adverse_event_change",
        kwargs={"study": study.slug, "participant": first.code, "event": event.pk},
    )
    assert f'href="{change}"' in investigator.text
    detail = reverse("participants:detail", kwargs={"study": study.slug, "participant": first.code})
    assert f'href="{detail}#adverse-events"' in statistician.text
    assert change not in statistician.text  # only coordinators and investigators change events


def test_adverse_events_are_filtered_serious_unresolved_term_site_and_onset(
    study: Study, stanford: Site, boston: Site
) -> None:
    here, there = started(study, stanford, 30), started(study, boston, 30)
    assert here.start_date is not None
    day = here.start_date
    ongoing = make_adverse_event(participant=here, term="Headache A", onset_date=day)
    recovered = make_adverse_event(
        participant=here,
        term="Nausea B",
        side_effect="nausea",
        outcome="recovered",
        onset_date=day + dt.timedelta(2),
        end_date=day + dt.timedelta(3),
    )
    ended_unknown = make_adverse_event(
        participant=here,
        term="Dizziness C",
        side_effect="",
        outcome="unknown",
        onset_date=day + dt.timedelta(5),
        end_date=day + dt.timedelta(6),
    )
    recovered_no_end = make_adverse_event(
        participant=there,
        term="Headache D",
        outcome="recovered",
        serious=True,
        onset_date=day + dt.timedelta(10),
    )
    client = member(study, Role.INVESTIGATOR)

    def terms(query: dict[str, str]) -> set[str]:
        response = client.get(study_url(study, "adverse_events:list"), query)
        assert response.status_code == 200
        return set(re.findall(r"(\w+ [ABCD])<", response.text))

    everything = {e.term for e in (ongoing, recovered, ended_unknown, recovered_no_end)}
    assert terms({}) == everything
    assert terms({"unresolved": "on"}) == everything - {recovered.term}
    assert terms({"serious": "on"}) == {recovered_no_end.term}
    assert terms({"term": "headACHE"}) == {ongoing.term, recovered_no_end.term}
    assert terms({"site": "boston"}) == {recovered_no_end.term}
    onset = {"onset_from": str(day + dt.timedelta(2)), "onset_to": str(day + dt.timedelta(5))}
    assert terms(onset) == {recovered.term, ended_unknown.term}
    assert terms({"onset_from": str(day + dt.timedelta(11))}) == set()


def test_a_coordinator_lists_the_adverse_events_of_their_sites_only(
    study: Study, stanford: Site, boston: Site
) -> None:
    make_adverse_event(participant=started(study, stanford, 5), term="Mine")
    make_adverse_event(participant=started(study, boston, 5), term="Theirs")
    client = member(study, Role.COORDINATOR, sites=[stanford])

    page = client.get(study_url(study, "adverse_events:list"))
    other_site = client.get(study_url(study, "adverse_events:list"), {"site": "boston"})
    download = client.get(study_url(study, "adverse_events:csv"))

    assert "Mine" in page.text
    assert "Theirs" not in page.text
    assert other_site.status_code == 400
    assert "Site (site): Select a valid choice. boston is not one" in other_site.text
    assert [row[3] for row in csv_rows(download.content)[1:]] == ["Mine"]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"onset_from": "2026-13-45"}, "Onset from (onset_from): Enter a valid date."),
        ({"onset_to": "99999-01-01"}, "Onset up to (onset_to): Enter a valid date."),
        (
            {"onset_from": "2026-05-02", "onset_to": "2026-05-01"},
            "The last onset date (2026-05-01) is before the first (2026-05-02).",
        ),
        ({"term": "x" * 5000}, "Term contains (term): Ensure this value has at most 100"),
        ({"page": "abc"}, "Page (page): The page must be a whole number, 1 or more."),
        ({"site": "<script>"}, "Site (site): Select a valid choice. &lt;script&gt; is not"),
    ],
)
def test_an_adverse_event_query_that_cannot_be_read_is_400_with_what_is_wrong(
    study: Study, stanford: Site, query: dict[str, str], problem: str
) -> None:
    make_adverse_event(participant=started(study, stanford, 5), term="Headache")
    client = member(study, Role.INVESTIGATOR)

    page = client.get(study_url(study, "adverse_events:list"), query)
    download = client.get(study_url(study, "adverse_events:csv"), query)

    assert page.status_code == download.status_code == 400
    assert problem in page.text
    assert problem in download.text
    assert "Headache" not in page.text


def test_the_adverse_events_csv_is_safe_for_spreadsheets(study: Study, stanford: Site) -> None:
    participant = started(study, stanford, 5)
    event = make_adverse_event(
        participant=participant, term='=HYPERLINK("http://x","y")', side_effect="", serious=True
    )

    response = member(study, Role.STATISTICIAN).get(study_url(study, "adverse_events:csv"))

    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="{study.slug}-adverse-events-{today}.csv"'
    )
    header, row = csv_rows(response.content)
    assert dict(zip(header, row, strict=True)) == {
        "ae_id": f"AE-{event.pk}",
        "participant_id": participant.code,
        "site": "stanford",
        "term": '\'=HYPERLINK("http://x","y")',
        "side_effect": "",
        "onset": str(participant.start_date),
        "end": "",
        "severity": "mild",
        "serious": "yes",
        "related": "possible",
        "action": "none",
        "outcome": "recovering",
        "unresolved": "yes",
    }


def test_adverse_event_list_and_csv_queries_do_not_grow_with_rows(
    study: Study, stanford: Site
) -> None:
    client = member(study, Role.COORDINATOR, sites=[stanford])
    make_adverse_event(participant=started(study, stanford, 5))
    query = {"unresolved": "on", "term": "head"}
    list_url = study_url(study, "adverse_events:list")
    csv_url = study_url(study, "adverse_events:csv")
    one = queries(client, list_url, query), queries(client, csv_url, query)

    for _ in range(12):
        participant = started(study, stanford, 5)
        make_adverse_event(participant=participant)
        make_adverse_event(participant=participant, term="Headache again")

    assert (queries(client, list_url, query), queries(client, csv_url, query)) == one


# --- side effects to confirm --------------------------------------------------------------------


def reported(study: Study, site: Site, *nights: dict[str, str]) -> Participant:
    """A participant whose diary started a week ago, with `nights` reported from the first."""
    participant = started(study, site, 7)
    assert participant.start_date is not None
    for n, side_effects in enumerate(nights):
        make_entry(
            participant=participant,
            diary_date=participant.start_date + dt.timedelta(n),
            side_effects=side_effects,
        )
    return participant


def test_side_effects_to_confirm_are_filtered_by_site_side_effect_and_very(
    study: Study, stanford: Site, boston: Site
) -> None:
    here = reported(study, stanford, {"headache": "somewhat", "nausea": "very"})
    there = reported(study, boston, {"headache": "very"})
    client = member(study, Role.INVESTIGATOR)
    list_url = study_url(study, "side_effects:list")

    def lines(query: dict[str, str]) -> list[tuple[str, str]]:
        response = client.get(list_url, query)
        assert response.status_code == 200
        return re.findall(
            r"<code>(P-[A-Z0-9]+)</code></a></td>\s*<td>\w+</td>\s*<td>(\w+)", response.text
        )

    assert sorted(lines({})) == sorted(
        [(here.code, "Headache"), (here.code, "Nausea"), (there.code, "Headache")]
    )
    assert lines({"site": "boston"}) == [(there.code, "Headache")]
    assert sorted(lines({"side_effect": "headache"})) == sorted(
        [(here.code, "Headache"), (there.code, "Headache")]
    )
    assert sorted(lines({"very": "on"})) == sorted(
        [(here.code, "Nausea"), (there.code, "Headache")]
    )
    page = client.get(list_url).text
    confirm = reverse(
        "side_effects:confirm",
        kwargs={
            "study": study.slug,
            "participant": there.code,
            "side_effect": "headache",
            "first": str(there.start_date),
        },
    )
    assert f'href="{confirm}"' in page


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"side_effect": "hair_loss_x"}, "Side effect (side_effect): Select a valid choice."),
        ({"site": "nowhere"}, "Site (site): Select a valid choice."),
        ({"page": "1.5"}, "Page (page): The page must be a whole number, 1 or more."),
    ],
)
def test_a_side_effect_query_that_cannot_be_read_is_400_with_what_is_wrong(
    study: Study, stanford: Site, query: dict[str, str], problem: str
) -> None:
    reported(study, stanford, {"headache": "very"})
    client = member(study, Role.COORDINATOR, sites=[stanford])

    page = client.get(study_url(study, "side_effects:list"), query)
    download = client.get(study_url(study, "side_effects:csv"), query)

    assert page.status_code == download.status_code == 400
    assert problem in page.text
    assert problem in download.text


def test_the_side_effects_csv_has_one_row_per_episode(study: Study, stanford: Site) -> None:
    participant = reported(
        study, stanford, {"headache": "somewhat"}, {"headache": "very"}, {"nausea": "somewhat"}
    )

    response = member(study, Role.COORDINATOR, sites=[stanford]).get(
        study_url(study, "side_effects:csv"), {"side_effect": "headache"}
    )

    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="{study.slug}-side-effects-to-confirm-{today}.csv"'
    )
    header, *rows = csv_rows(response.content)
    assert header == [
        "participant_id",
        "site",
        "side_effect",
        "label",
        "first_night",
        "last_night",
        "nights",
        "worst",
        "very_unpleasant",
    ]
    assert participant.start_date is not None
    assert rows == [
        [
            participant.code,
            "stanford",
            "headache",
            "Headache",
            str(participant.start_date),
            str(participant.start_date + dt.timedelta(1)),
            "2",
            "very",
            "yes",
        ]
    ]


def test_side_effect_list_and_csv_queries_do_not_grow_with_rows(
    study: Study, stanford: Site
) -> None:
    client = member(study, Role.INVESTIGATOR)
    reported(study, stanford, {"headache": "very"})
    query = {"very": "on", "side_effect": "headache"}
    list_url = study_url(study, "side_effects:list")
    csv_url = study_url(study, "side_effects:csv")
    one = queries(client, list_url, query), queries(client, csv_url, query)

    for _ in range(8):
        reported(study, stanford, {"headache": "very", "nausea": "somewhat"}, {"headache": "very"})

    assert (queries(client, list_url, query), queries(client, csv_url, query)) == one


def test_the_listings_are_linked_from_the_navigation_for_who_may_open_them(
    study: Study, stanford: Site
) -> None:
    home = study_url(study, "studies:home")
    side_effects = study_url(study, "side_effects:list")
    events = study_url(study, "adverse_events:list")

    for role in Role:
        text = member(study, role).get(home).text
        assert f'href="{events}"' in text
        assert (f'href="{side_effects}"' in text) == (role in (Role.COORDINATOR, Role.INVESTIGATOR))
