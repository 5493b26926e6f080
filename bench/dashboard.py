"""Benchmark: the study dashboard over 10,000 participants and 180 nights of diaries.

Target: the dashboard page answers in under 300 ms of server time, and its number of queries
is the same as for a study of three participants, give or take the two queries Django does not
send for an empty list (the phones when nobody missed two nights in a row; the older last
entries when everyone has an entry among the last 28 nights).

What it does, in order:

1. Empties (or creates) the benchmark database on PostgreSQL and migrates it.
2. Creates a study from the LDN example protocol, four sites, a coordinator and an
   investigator through the services; then writes the bulk rows directly (``bulk_create``):
   10,000 participants enrolled over the last 180 days (most randomized, with their four
   planned phases, and still in their diary; some withdrawn, some completed, a few not yet
   randomized), one diary entry for about 80% of each one's nights (a few of them late) with
   the week tallies the diary keeps beside them, the end-of-period answers (PGIC and blinding
   guess) of about nine visits in ten whose day has come, and a phone for most of them. These
   rows are only the dashboard's input: the benchmark measures reading them, not writing them.
3. In a new process that has loaded the application as a server process does
   (``diarytrial.web.wsgi``) and holds nothing of the seeding, opens the dashboard (and its
   JSON) with Django's test client as the investigator (every site) and as the coordinator of
   one site, a few times each, and prints the median server time and the number of queries;
   then the same for a study of three participants, whose query count must be the same.
4. Drops the database (unless ``--keep``).

Run ``python bench/dashboard.py --help`` for the options. Skipped, with a notice, when
PostgreSQL is not reachable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import dj_database_url
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from diarytrial.protocol import load_example
from diarytrial.web.pgcheck import postgres_reachable

EXAMPLE = "ldn-fibromyalgia"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/diarytrial_bench_dash"
TARGET_MS = 300.0
ZONES = ("America/Los_Angeles", "America/New_York", "Europe/London", "Asia/Tokyo")
SITES = ("stanford", "boston", "london", "tokyo")
BATCH = 5_000
PHASES = (
    ("baseline", 0, 0, 13),
    ("treatment", 1, 14, 97),
    ("washout", None, 98, 111),
    ("treatment", 2, 112, 223),
)
"""The benchmark's phases (kind, period, first and last day from the start): 224 nights."""


# --- the database ---------------------------------------------------------------------------------


def _conninfo(url: str, dbname: str | None = None) -> str:
    config = dj_database_url.parse(url)
    return make_conninfo(
        host=str(config.get("HOST") or "") or None,
        port=str(config.get("PORT") or "") or None,
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        dbname=dbname or str(config.get("NAME") or ""),
    )


def _database(url: str) -> sql.Identifier:
    name = str(dj_database_url.parse(url).get("NAME") or "")
    if not name:
        raise SystemExit(f"the database URL names no database: {url}")
    return sql.Identifier(name)


def database_recreate(url: str) -> None:
    """Drop the benchmark database if it exists and create it empty."""
    with psycopg.connect(_conninfo(url, "postgres"), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_database(url))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(_database(url)))


def database_drop(url: str) -> None:
    with psycopg.connect(_conninfo(url, "postgres"), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(_database(url))
        )


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "diarytrial.cli", "migrate", "--verbosity=0"],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(result.stdout + result.stderr, file=sys.stderr)
        raise SystemExit("diarytrial migrate failed")


# --- the study ------------------------------------------------------------------------------------


def study_seed(slug: str, *, participants: int, nights: int, seed: int) -> dict[str, Any]:
    """The study, its sites and staff through the services; its participants, entries and
    phones in bulk. Returns the study and the two staff users."""
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.utils import timezone

    from diarytrial.devices.models import Device
    from diarytrial.diary.models import DiaryEntry, DiaryWeekTally
    from diarytrial.participants.models import (
        Participant,
        ParticipantPhase,
        ParticipantStatus,
    )
    from diarytrial.studies.models import Role
    from diarytrial.studies.selectors import study_current_protocol
    from diarytrial.studies.services import (
        membership_grant,
        site_create,
        study_create_from_protocol,
    )

    rng = random.Random(seed)
    text = load_example(EXAMPLE).text.replace('id = "ldn_fibromyalgia"', f'id = "{slug}"', 1)
    admin = User.objects.create_superuser(f"{slug}-admin")  # the installation's administrator
    study = study_create_from_protocol(text=text, source=f"{EXAMPLE}.toml", created_by=admin)
    sites = [site_create(study=study, code=code, name=code.title(), actor=admin) for code in SITES]
    coordinator = User.objects.create_user(f"{slug}-coordinator")
    membership_grant(
        study=study, user=coordinator, role=Role.COORDINATOR, sites=[sites[0]], actor=admin
    )
    investigator = User.objects.create_user(f"{slug}-investigator")
    membership_grant(study=study, user=investigator, role=Role.INVESTIGATOR, actor=admin)
    version = study_current_protocol(study)
    now = timezone.now()
    today = now.astimezone(dt.UTC).date()
    with transaction.atomic():
        people = []
        for k in range(participants):
            start = today - dt.timedelta(days=nights - 1 - rng.randrange(0, max(1, nights // 6)))
            status = ParticipantStatus.ACTIVE
            withdrawn_on = completed_on = None
            roll = rng.random()
            if roll > 0.95:
                status = ParticipantStatus.ENROLLED  # not randomized yet: no phases
            elif roll < 0.05:
                status, withdrawn_on = (
                    ParticipantStatus.WITHDRAWN,
                    today - dt.timedelta(days=rng.randrange(1, nights // 2)),
                )
            elif roll < 0.10:
                status, completed_on = (
                    ParticipantStatus.COMPLETED,
                    today - dt.timedelta(days=rng.randrange(1, 30)),
                )
            people.append(
                Participant(
                    study=study,
                    site=sites[k % len(sites)],
                    code=f"P-{k:05d}",
                    protocol_version=version,
                    timezone=ZONES[k % len(ZONES)],
                    opioid_use=False,
                    status=status,
                    eligible=True,
                    start_date=start,
                    start_dose_level="standard",
                    dose_level="standard",
                    enrolled_at=now - dt.timedelta(days=nights),
                    withdrawn_on=withdrawn_on,
                    withdrawal_reason="Moved away" if withdrawn_on else "",
                    completed_on=completed_on,
                )
            )
        Participant.objects.bulk_create(people, batch_size=BATCH)
        people = list(Participant.objects.filter(study=study).order_by("code"))
        # The planned phases of the randomized (without arms, as the participants app keeps
        # them): baseline, a treatment period, a washout and a second period that runs past
        # today, so that most diaries are still open.
        ParticipantPhase.objects.bulk_create(
            (
                ParticipantPhase(
                    participant=person,
                    index=index,
                    kind=kind,
                    period=period,
                    start=person.start_date + dt.timedelta(days=first),
                    end=person.start_date + dt.timedelta(days=last),
                )
                for person in people
                if person.start_date is not None and person.status != ParticipantStatus.ENROLLED
                for index, (kind, period, first, last) in enumerate(PHASES)
            ),
            batch_size=BATCH,
        )
        entries: list[DiaryEntry] = []
        tallies: dict[tuple[int, dt.date], tuple[int, int, dt.date, int, int]] = {}
        sites_of = {person.pk: person.site_id for person in people}
        written = 0
        for person in people:
            assert person.start_date is not None
            keeps = rng.uniform(0.6, 1.0)
            last = min(
                today - dt.timedelta(days=1),
                person.withdrawn_on - dt.timedelta(days=1) if person.withdrawn_on else today,
                person.completed_on or today,
            )
            day = person.start_date
            while day <= last:
                if rng.random() < keeps:
                    received = dt.datetime.combine(day, dt.time(22), tzinfo=dt.UTC)
                    late = rng.random() < 0.03
                    entries.append(
                        DiaryEntry(
                            participant=person,
                            diary_date=day,
                            client_id=uuid.uuid4(),
                            timezone=person.timezone,
                            received_at=received + dt.timedelta(hours=8 if late else 0),
                            completed_at_device=received,
                            late=late,
                        )
                    )
                    week = (person.pk, day - dt.timedelta(days=day.weekday()))
                    n, lates, _, nights_kept, late_nights = tallies.get(week, (0, 0, day, 0, 0))
                    bit = 1 << day.weekday()
                    tallies[week] = (
                        n + 1,
                        lates + late,
                        day,
                        nights_kept | bit,
                        late_nights | (bit if late else 0),
                    )
                day += dt.timedelta(days=1)
            if len(entries) >= 50_000:
                DiaryEntry.objects.bulk_create(entries, batch_size=BATCH)
                written += len(entries)
                entries = []
        DiaryEntry.objects.bulk_create(entries, batch_size=BATCH)
        written += len(entries)
        # The week tallies the diary's service keeps with each entry it records.
        DiaryWeekTally.objects.bulk_create(
            (
                DiaryWeekTally(
                    participant_id=participant_id,
                    site_id=sites_of[participant_id],
                    week=week,
                    entries=n,
                    late=lates,
                    last_entry=day,
                    nights=nights_kept,
                    late_nights=late_nights,
                )
                for (participant_id, week), (n, lates, day, nights_kept, late_nights) in (
                    tallies.items()
                )
            ),
            batch_size=BATCH,
        )
        phones = [
            Device(
                participant=person,
                token_hash=hashlib.sha256(f"{slug}-{person.pk}".encode()).hexdigest(),
                label="benchmark phone",
                last_seen_at=now - dt.timedelta(days=rng.randrange(0, 20)),
                revoked_at=now if rng.random() < 0.05 else None,
                revoked_reason="Lost",
            )
            for person in people
            if rng.random() < 0.9
        ]
        Device.objects.bulk_create(phones, batch_size=BATCH)
        answers = answers_seed(people, rng=rng, today=today)
    return {
        "study": study,
        "coordinator": coordinator,
        "investigator": investigator,
        "entries": written,
        "phones": len(phones),
        "answers": answers,
    }


def answers_seed(people: Sequence[Any], *, rng: random.Random, today: dt.date) -> int:
    """The end-of-period answers (PGIC and blinding guess) of about nine visits in ten whose
    day has come within the participant's diary, as the phone records them. Returns how many."""
    from diarytrial.diary.models import BlindingGuess, GuessChoice, PgicAnswer
    from diarytrial.protocol.visits import pgic_visits, visit_calendar

    protocol = load_example(EXAMPLE).protocol
    calendar = visit_calendar(protocol)
    asked = set(pgic_visits(protocol, calendar))
    pgic, guesses = [], []
    for person in people:
        if person.start_date is None or person.status == "enrolled":
            continue
        last = min(
            today - dt.timedelta(days=1),
            person.start_date + dt.timedelta(days=PHASES[-1][3]),
            person.withdrawn_on - dt.timedelta(days=1) if person.withdrawn_on else today,
            person.completed_on or today,
        )
        for visit in calendar.answer_visits:
            day = calendar.date_of(visit.treatment_day, person.start_date)
            if day > last:
                break
            if visit.number in asked and rng.random() < 0.9:
                pgic.append(
                    PgicAnswer(
                        participant=person,
                        visit=visit.number,
                        score=rng.randint(1, 7),
                        answered_on=day,
                    )
                )
            if rng.random() < 0.9:
                guesses.append(
                    BlindingGuess(
                        participant=person,
                        visit=visit.number,
                        guess=rng.choice(GuessChoice.values),
                        answered_on=day,
                    )
                )
    PgicAnswer.objects.bulk_create(pgic, batch_size=BATCH)
    BlindingGuess.objects.bulk_create(guesses, batch_size=BATCH)
    return len(pgic) + len(guesses)


# --- timing ---------------------------------------------------------------------------------------


def timed(request: Callable[[], Any], repeat: int) -> tuple[float, int]:
    """The median milliseconds of `repeat` requests (after one to warm up) and their queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    request()
    times = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = request()
            times.append(1000 * (time.perf_counter() - began))
        if response.status_code != 200:
            raise SystemExit(f"the dashboard answered {response.status_code}")
        queries = len(captured.captured_queries)
    return statistics.median(times), queries


def measure(world: dict[str, Any], repeat: int) -> dict[str, tuple[float, int]]:
    from django.test import Client

    slug = world["study"].slug
    investigator, coordinator = Client(), Client()
    investigator.force_login(world["investigator"])
    coordinator.force_login(world["coordinator"])
    page, data = f"/studies/{slug}/dashboard/", f"/api/studies/{slug}/dashboard"
    return {
        "page, investigator (all sites)": timed(lambda: investigator.get(page), repeat),
        "page, sorted by missed nights": timed(
            lambda: investigator.get(page, {"sort": "-missed", "page": "3"}), repeat
        ),
        "page, coordinator (one site)": timed(lambda: coordinator.get(page), repeat),
        "JSON, investigator": timed(lambda: investigator.get(data), repeat),
    }


# --- main -----------------------------------------------------------------------------------------


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--nights", type=int, default=180)
    parser.add_argument("--repeat", type=int, default=7, help="requests timed per case")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--measure",
        action="store_true",
        help="only time the dashboard over a database kept by an earlier run (--keep)",
    )
    return parser.parse_args(argv)


def report(repeat: int) -> int:
    """Time the dashboard over the studies already seeded; print the figures. Run in a process
    of its own (``--measure``), which, like a server process, has loaded the application and
    nothing else: not the million rows the seeding made."""
    import django

    django.setup()
    # As a server process does when it loads the application (diarytrial.web.wsgi): what is
    # loaded by then is kept out of the garbage collector's full passes.
    import diarytrial.web.wsgi  # noqa: F401

    results = measure(world_load("bench_dashboard"), repeat)
    baseline = measure(world_load("bench_small"), repeat)
    width = max(len(name) for name in results)
    print(f"median server time of {repeat} requests (Django test client):")
    for name, (ms, queries) in results.items():
        small_ms, small_queries = baseline[name]
        print(
            f"  {name:<{width}}  {ms:7.1f} ms  {queries:3d} queries"
            f"  (3 participants: {small_ms:6.1f} ms, {small_queries} queries)"
        )
    worst = max(ms for ms, _ in results.values())
    # Django sends no query for an empty list: the phones of nobody flagged, or the last
    # entry of nobody without an entry in the last 28 nights, are not asked.
    same = all(results[name][1] - baseline[name][1] in (0, 1, 2) for name in results)
    print(
        f"slowest case {worst:.1f} ms against a target of {TARGET_MS:.0f} ms: "
        f"{'met' if worst < TARGET_MS else 'NOT met'}; query count "
        f"{'does not grow from' if same else 'GROWS from'} a study of 3 participants"
    )
    return 0 if same else 1


def world_load(slug: str) -> dict[str, Any]:
    """The seeded study `slug` and its two staff users."""
    from django.contrib.auth.models import User

    from diarytrial.studies.models import Study

    return {
        "study": Study.objects.get(slug=slug),
        "coordinator": User.objects.get(username=f"{slug}-coordinator"),
        "investigator": User.objects.get(username=f"{slug}-investigator"),
    }


def main(argv: Sequence[str]) -> int:
    args = arguments(argv)
    problem = postgres_reachable(args.database_url)
    if problem:
        print(f"skipped: {problem}")
        return 0
    env = {
        "DATABASE_URL": args.database_url,
        "DIARYTRIAL_ENV": "test",
        "ALLOWED_HOSTS": "testserver,localhost",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "0",
        "DJANGO_SETTINGS_MODULE": "diarytrial.web.settings",
    }
    os.environ.update(env)
    if args.measure:
        return report(args.repeat)
    began = time.perf_counter()
    database_recreate(args.database_url)
    try:
        migrate(dict(os.environ))
        import django

        django.setup()
        from django.db import connection, connections

        print(f"database created and migrated in {time.perf_counter() - began:.1f} s")
        began = time.perf_counter()
        big = study_seed(
            "bench_dashboard", participants=args.participants, nights=args.nights, seed=args.seed
        )
        study_seed("bench_small", participants=3, nights=args.nights, seed=args.seed)
        with connection.cursor() as cursor:
            # As autovacuum would have done by morning: statistics, and the visibility map
            # that lets the counts read the index of entries by date alone.
            cursor.execute("VACUUM ANALYZE")
            # And the seeding's writes on disk, so that the server does not write them out
            # while the requests are timed.
            cursor.execute("CHECKPOINT")
        print(
            f"seeded {args.participants:,} participants over {args.nights} nights: "
            f"{big['entries']:,} diary entries, {big['answers']:,} end-of-period answers, "
            f"{big['phones']:,} phones, in "
            f"{time.perf_counter() - began:.1f} s"
        )
        connections.close_all()
        measured = subprocess.run(
            [sys.executable, __file__, "--measure", f"--repeat={args.repeat}"], check=False
        )
        return measured.returncode
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(args.database_url)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
