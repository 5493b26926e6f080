"""Benchmark: tonight's diary from thousands of phones at once, through the JSON API.

Target: at least 1,000 accepted submissions per second with a p99 latency
under 100 ms on a 2-core machine, and not one entry lost or counted twice.

What it does, in order:

1. Empties (or creates) the benchmark database on PostgreSQL and migrates it.
2. Creates a study from the LDN example protocol and enrols the participants through the
   services a coordinator's pages use (screening, enrolment, enrolment link, the phone
   redeeming it), in a few processes at once. Each participant lives in an ``Etc/GMT±N`` time
   zone whose clock reads between 19:00 and 01:59 right now, so tonight's diary window (18:00
   to 03:00) is open for them. Their device tokens go to a file in a temporary folder.
3. Starts the site under gunicorn on a free local port, as in production
   (``DIARYTRIAL_ENV=production``, persistent database connections) except that it is served
   over plain HTTP (``SECURE_SSL_REDIRECT=false``): TLS belongs to the proxy in front of it.
4. In a separate process, an asyncio HTTP client plays the phones: each posts tonight's diary
   (a new client id, every item answered) with its device cookie and a CSRF token, a few of
   them twice at the same moment; then a fraction of the uploads is sent again unchanged (the
   answer must be 200 with the same body) and some again with other content under the same id
   (the answer must be 409).
5. Prints accepted submissions per second and latencies, then counts the rows: one entry and
   one upload row per accepted submission, none lost, none duplicated; and verifies the audit
   trail. Exits with 1 if anything is lost, duplicated or answered wrongly.
6. Stops gunicorn and drops the database (unless ``--keep``).

Run ``python bench/diary_load.py --help`` for the options. Skipped, with a notice, when
PostgreSQL is not reachable.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dj_database_url
import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from diarytrial.protocol import Protocol, diary_date_at, load_example, zone_where_it_is
from diarytrial.web.pgcheck import postgres_reachable

EXAMPLE = "ldn-fibromyalgia"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/diarytrial_bench"
TARGET_PER_SECOND = 1_000
TARGET_P99_MS = 100.0
LOCAL_HOURS = (19, 20, 21, 22, 23, 0, 1)
"""Local hours at least an hour inside the 18:00-03:00 window, whatever the minute."""
ENTRIES_URL = "/api/diary/entries"
FORM_URL = "/api/diary/form"
USER_AGENT = "diary-load-benchmark"


# --- the database ---------------------------------------------------------------------------------


def _conninfo(url: str, dbname: str | None = None) -> str:
    config = dj_database_url.parse(url)
    options = {str(key): value for key, value in (config.get("OPTIONS") or {}).items()}
    return make_conninfo(
        host=str(config.get("HOST") or "") or None,
        port=str(config.get("PORT") or "") or None,
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        dbname=dbname or str(config.get("NAME") or ""),
        **options,
    )


def _database_name(url: str) -> str:
    name = str(dj_database_url.parse(url).get("NAME") or "")
    if not name:
        raise SystemExit(f"the database URL names no database: {url}")
    return name


def database_recreate(url: str) -> None:
    """Drop the benchmark database if it exists and create it empty."""
    name = sql.Identifier(_database_name(url))
    with psycopg.connect(_conninfo(url, "postgres"), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def database_drop(url: str) -> None:
    name = sql.Identifier(_database_name(url))
    with psycopg.connect(_conninfo(url, "postgres"), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def django_command(env: dict[str, str], *args: str) -> str:
    """Run ``diarytrial ARGS`` with `env`; its output, or exit with its error."""
    result = subprocess.run(
        [sys.executable, "-m", "diarytrial.cli", *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(result.stdout + result.stderr, file=sys.stderr)
        raise SystemExit(f"diarytrial {' '.join(args)} failed")
    return result.stdout.strip()


# --- participants, through the services -----------------------------------------------------------


@dataclass(frozen=True)
class Phone:
    """An enrolled participant's phone: its device token and tonight's diary date."""

    code: str
    token: str
    timezone: str
    diary_date: str


def diary_zones(protocol: Protocol, now: dt.datetime) -> list[str]:
    """``Etc/GMT±N`` zones whose local time now is in `LOCAL_HOURS` (inside the window)."""
    zones = {zone_where_it_is(hour, now) for hour in LOCAL_HOURS}
    return sorted(z for z in zones if diary_date_at(now, ZoneInfo(z), protocol.diary) is not None)


_django_ready = False


def _django_setup(env: dict[str, str]) -> None:
    """Configure Django in this (child) process for the benchmark database."""
    global _django_ready
    if not _django_ready:
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diarytrial.web.settings")
        import django

        django.setup()
        _django_ready = True


def seed_study(env: dict[str, str]) -> tuple[int, int, int]:
    """The study (from the LDN example), its site and a coordinator: their ids."""
    _django_setup(env)
    from django.contrib.auth.models import User

    from diarytrial.studies.models import Role
    from diarytrial.studies.services import (
        membership_grant,
        site_create,
        study_create_from_protocol,
    )

    admin = User.objects.create_superuser("admin", "admin@example.org")  # grants the roles
    coordinator = User.objects.create_user("coordinator", "coordinator@example.org")
    study = study_create_from_protocol(
        text=load_example(EXAMPLE).text, source=f"examples/{EXAMPLE}.toml", created_by=admin
    )
    site = site_create(study=study, code="bench", name="Benchmark clinic", actor=admin)
    membership_grant(study=study, user=coordinator, role=Role.COORDINATOR, actor=admin)
    return study.pk, site.pk, coordinator.pk


def seed_phones(
    env: dict[str, str], ids: tuple[int, int, int], zones: list[str], first: int, count: int
) -> list[Phone]:
    """Screen, enrol and bind a phone for `count` participants, as a coordinator would."""
    _django_setup(env)
    from django.contrib.auth.models import User
    from django.utils import timezone

    from diarytrial.devices.services import enrolment_link_issue, enrolment_link_redeem
    from diarytrial.participants.services import participant_enrol, participant_screen
    from diarytrial.studies.models import Site, Study

    study_id, site_id, coordinator_id = ids
    study, site = Study.objects.get(pk=study_id), Site.objects.get(pk=site_id)
    coordinator = User.objects.get(pk=coordinator_id)
    protocol = load_example(EXAMPLE).protocol
    eligible = {question.id: question.eligible_answer for question in protocol.eligibility}
    phones = []
    for k in range(first, first + count):
        zone = zones[k % len(zones)]
        participant = participant_screen(
            study=study,
            site=site,
            answers=eligible,
            timezone=zone,
            opioid_use=k % 5 == 0,
            age=25 + k % 50,
            actor=coordinator,
        )
        day = diary_date_at(timezone.now(), ZoneInfo(zone), protocol.diary)
        if day is None:
            raise SystemExit(f"the diary window of {zone} closed while seeding; run it again")
        participant_enrol(
            participant=participant,
            consent_form_version="1.0",
            consented_on=day,
            obtained_by=coordinator,
            start_date=day,
            actor=coordinator,
        )
        link = enrolment_link_issue(participant=participant, actor=coordinator)
        issued = enrolment_link_redeem(token=link.token, user_agent=USER_AGENT)
        phones.append(Phone(participant.code, issued.token, zone, day.isoformat()))
    return phones


def seed(
    env: dict[str, str], *, participants: int, processes: int, zones: list[str]
) -> list[Phone]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        ids = pool.submit(seed_study, env).result()
        size = -(-participants // processes)
        chunks = [
            pool.submit(seed_phones, env, ids, zones, first, min(size, participants - first))
            for first in range(0, participants, size)
        ]
        return [phone for chunk in chunks for phone in chunk.result()]


# --- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def gunicorn(
    env: dict[str, str], *, app: str, port: int, workers: int, threads: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """The site under gunicorn on 127.0.0.1:`port`, up once /healthz answers; stopped after."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--threads={threads}",
        "--backlog=4096",
        "--keep-alive=75",
        "--log-level=warning",
    ]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise SystemExit("gunicorn stopped:\n" + log.read_text()[-3000:])
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not answer /healthz:\n" + log.read_text()[-3000:])
            time.sleep(0.2)
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the phones -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    """What a diary upload must answer: item ranges and the side-effect checklist."""

    items: tuple[tuple[str, int, int], ...]
    side_effects: tuple[str, ...]

    @classmethod
    def of(cls, protocol: Protocol) -> Form:
        return cls(
            items=tuple((i.id, i.lowest, i.highest) for i in protocol.diary.items),
            side_effects=tuple(effect.id for effect in protocol.diary.side_effects),
        )


@dataclass(frozen=True)
class Job:
    """One request: `kind` is first, race (the same upload at the same moment), repeat or
    conflict (the same client id, other content)."""

    kind: str
    phone: Phone
    csrf: str
    body: dict[str, Any]


@dataclass
class Outcome:
    kind: str
    client_id: str
    status: int
    seconds: float
    body: Any


@dataclass
class Phase:
    """What the phones saw in one phase: each answer, the wall time and the client's CPU."""

    outcomes: list[Outcome]
    seconds: float
    client_cpu: float


def _upload(phone: Phone, form: Form, rng: random.Random) -> dict[str, Any]:
    zone = ZoneInfo(phone.timezone)
    ticked = rng.sample(form.side_effects, k=min(len(form.side_effects), rng.randint(0, 2)))
    return {
        "client_id": str(uuid.uuid4()),
        "form_date": phone.diary_date,
        "answers": {item: rng.randint(low, high) for item, low, high in form.items},
        # Never "very": that e-mails the coordinators, which is not what is measured here.
        "side_effects": {effect: rng.choice(("not_at_all", "somewhat")) for effect in ticked},
        "capsule_taken": rng.random() < 0.9,
        "completed_at_device": dt.datetime.now(zone).replace(microsecond=0).isoformat(),
    }


def _changed(body: dict[str, Any], form: Form) -> dict[str, Any]:
    item, low, high = form.items[0]
    value = body["answers"][item]
    return {**body, "answers": {**body["answers"], item: low if value != low else high}}


async def _send(client: httpx.AsyncClient, job: Job) -> Outcome:
    headers = {
        "Cookie": f"dt_device={job.phone.token}; csrftoken={job.csrf}",
        "X-CSRFToken": job.csrf,
        "Content-Type": "application/json",
    }
    content = json.dumps(job.body).encode()
    began = time.perf_counter()
    try:
        response = await client.post(ENTRIES_URL, content=content, headers=headers)
    except httpx.HTTPError as error:
        return Outcome(job.kind, job.body["client_id"], 0, 0.0, type(error).__name__)
    seconds = time.perf_counter() - began
    try:
        body = response.json()
    except ValueError:
        body = response.text[:200]
    return Outcome(job.kind, job.body["client_id"], response.status_code, seconds, body)


async def _run_jobs(client: httpx.AsyncClient, jobs: list[Job], concurrency: int) -> list[Outcome]:
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    out: list[Outcome] = []

    async def worker() -> None:
        while not queue.empty():
            out.append(await _send(client, queue.get_nowait()))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return out


def _code(body: Any) -> str:
    return str(body.get("code", "")) if isinstance(body, dict) else ""


async def _phase(base_url: str, jobs: list[Job], concurrency: int, *, probe: bool) -> Phase:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        outcomes = []
        if probe:  # writes need the CSRF token: without it, nothing may be recorded
            outcomes.append(await _send(client, Job("probe", jobs[0].phone, "", jobs[0].body)))
        # Open the connections before the clock starts.
        await asyncio.gather(*(client.get("/healthz") for _ in range(concurrency)))
        cpu, began = time.process_time(), time.perf_counter()
        outcomes += await _run_jobs(client, jobs, concurrency)
        return Phase(outcomes, time.perf_counter() - began, time.process_time() - cpu)


async def _warm_up(base_url: str, phones: list[Phone]) -> None:
    """Every server thread answers a read through the whole stack (imports, protocol, ...)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        await asyncio.gather(
            *(client.get(FORM_URL, headers={"Cookie": f"dt_device={p.token}"}) for p in phones)
        )


def warm_up(base_url: str, phones: list[Phone]) -> None:
    asyncio.run(_warm_up(base_url, phones))


def run_phase(base_url: str, jobs: list[Job], concurrency: int, probe: bool) -> Phase:
    """The client process: send `jobs`, `concurrency` at a time."""
    return asyncio.run(_phase(base_url, jobs, concurrency, probe=probe))


def first_jobs(phones: list[Phone], form: Form, *, race: float, rng: random.Random) -> list[Job]:
    """Tonight's upload of every phone; a `race` share sent twice at once (a quick retry)."""
    jobs = []
    for phone in phones:
        job = Job("first", phone, secrets.token_hex(16), _upload(phone, form, rng))
        jobs.append(job)
        if rng.random() < race:
            jobs.append(Job("race", phone, job.csrf, job.body))
    return jobs


def again_jobs(
    first: list[Job],
    created: dict[str, Any],
    form: Form,
    *,
    repeat: float,
    conflict: float,
    rng: random.Random,
) -> list[Job]:
    """Accepted uploads sent again: unchanged (`repeat`), or other answers, same id."""
    jobs = []
    for job in first:
        if job.kind != "first" or job.body["client_id"] not in created:
            continue
        draw = rng.random()
        if draw < repeat:
            jobs.append(Job("repeat", job.phone, job.csrf, job.body))
        elif draw < repeat + conflict:
            jobs.append(Job("conflict", job.phone, job.csrf, _changed(job.body, form)))
    return jobs


def answers_check(outcomes: list[Outcome], created: dict[str, Any]) -> list[str]:
    """What was answered wrongly: a second 201, a repeat not given the same entry, ..."""
    problems = []
    for o in outcomes:
        if o.kind == "probe":
            if o.status != 403:
                problems.append(f"an upload without a CSRF token answered {o.status}, not 403")
        elif o.kind in {"race", "repeat"} or (o.kind == "first" and o.status == 200):
            if o.status not in {200, 201} or o.body != created.get(o.client_id):
                problems.append(f"{o.kind} {o.client_id}: {o.status}, not the same entry")
        elif o.kind == "conflict" and (
            o.status != 409 or _code(o.body) != "diary_client_id_conflict"
        ):
            problems.append(f"conflict {o.client_id}: {o.status} {_code(o.body)}, not 409")
    created_twice = Counter(o.client_id for o in outcomes if o.status == 201)
    twice = [cid for cid, n in created_twice.items() if n > 1]
    if twice:
        problems.insert(0, f"{len(twice)} uploads were created twice (201 to both copies)")
    return problems


# --- CPU ------------------------------------------------------------------------------------------


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(server: int, url: str) -> dict[str, list[int]]:
    """The gunicorn workers and the PostgreSQL backends serving the benchmark database."""
    try:
        children = Path(f"/proc/{server}/task/{server}/children").read_text().split()
    except OSError:
        children = []
    with psycopg.connect(_conninfo(url, "postgres"), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (_database_name(url),)
        ).fetchall()
    return {"gunicorn": [int(pid) for pid in children], "postgres": [int(r[0]) for r in rows]}


def cpu_snapshot(pids: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    return {name: {pid: _cpu_of(pid) for pid in group} for name, group in pids.items()}


def cpu_spent(before: dict[str, dict[int, float]], server: int, url: str) -> dict[str, float]:
    """CPU seconds each group spent since `before` (processes started since count whole)."""
    after = cpu_snapshot(server_pids(server, url))
    return {
        name: sum(cpu - before.get(name, {}).get(pid, 0.0) for pid, cpu in group.items())
        for name, group in after.items()
    }


# --- the count ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowCount:
    entries: int
    submissions: int
    answers: int
    audit_events: int
    lost: int
    unacknowledged: int
    duplicated_entries: int
    duplicated_submissions: int


def rows_count(url: str, accepted: Sequence[str]) -> RowCount:
    with psycopg.connect(_conninfo(url)) as connection:

        def one(query: str) -> int:
            row = connection.execute(query).fetchone()
            return int(row[0]) if row else 0

        entries = {str(r[0]) for r in connection.execute("SELECT client_id FROM diary_diaryentry")}
        submissions = {
            str(r[0]) for r in connection.execute("SELECT client_id FROM diary_diarysubmission")
        }
        return RowCount(
            entries=one("SELECT count(*) FROM diary_diaryentry"),
            submissions=one("SELECT count(*) FROM diary_diarysubmission"),
            answers=one("SELECT count(*) FROM diary_diaryanswer"),
            audit_events=one(
                "SELECT count(*) FROM audit_auditevent WHERE object_type = 'diary.diaryentry'"
            ),
            lost=sum(1 for cid in accepted if cid not in entries or cid not in submissions),
            unacknowledged=len(entries - set(accepted)),
            duplicated_entries=one(
                "SELECT count(*) FROM (SELECT 1 FROM diary_diaryentry "
                "GROUP BY participant_id, diary_date HAVING count(*) > 1) AS d"
            ),
            duplicated_submissions=one(
                "SELECT count(*) FROM (SELECT 1 FROM diary_diarysubmission "
                "GROUP BY client_id HAVING count(*) > 1) AS d"
            ),
        )


# --- report ---------------------------------------------------------------------------------------


def _ms(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _latency_line(name: str, values: Sequence[float]) -> str:
    return (
        f"  {name:<9} n={len(values):>6,}  p50 {_ms(values, 0.5):6.1f} ms  "
        f"p95 {_ms(values, 0.95):6.1f}  p99 {_ms(values, 0.99):6.1f}  "
        f"max {_ms(values, 1.0):7.1f}"
    )


def _statuses(outcomes: list[Outcome]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    for o in outcomes:
        label = f"{o.status}" + (f" {_code(o.body)}" if _code(o.body) else "")
        out.setdefault(o.kind, Counter())[label] += 1
    return out


def report(
    first: Phase, again: Phase, cpu: dict[str, float], rows: RowCount, accepted: int, items: int
) -> None:
    rate = accepted / first.seconds if first.seconds else 0.0
    uploads = [o.seconds for o in first.outcomes if o.kind in {"first", "race"}]
    print(
        f"accepted {accepted:,} submissions in {first.seconds:.2f} s: {rate:,.0f}/s "
        f"(target >= {TARGET_PER_SECOND:,}); p50 {_ms(uploads, 0.5):.1f} ms, "
        f"p99 {_ms(uploads, 0.99):.1f} ms (target < {TARGET_P99_MS:.0f} ms)"
    )
    print("latency by kind of upload:")
    for kind in ("first", "race", "repeat", "conflict"):
        values = [o.seconds for o in first.outcomes + again.outcomes if o.kind == kind]
        if values:
            print(_latency_line(kind, values))
    if again.seconds:
        print(f"  repeats and conflicts answered at {len(again.outcomes) / again.seconds:,.0f}/s")
    print("answers by kind and status:")
    for kind, counts in _statuses(first.outcomes + again.outcomes).items():
        print(f"  {kind:<9} " + ", ".join(f"{s}: {n:,}" for s, n in sorted(counts.items())))
    sent = sum(1 for o in first.outcomes if o.kind in {"first", "race"})
    spent = {**cpu, "client": first.client_cpu}
    print(
        f"CPU per upload while uploading: {1000 * sum(spent.values()) / max(sent, 1):.1f} ms ("
        + ", ".join(f"{name} {1000 * s / max(sent, 1):.1f}" for name, s in spent.items())
        + f"); {os.cpu_count()} CPUs, load average now {os.getloadavg()[0]:.1f}"
    )
    print("rows:")
    print(f"  entries {rows.entries:,}, uploads {rows.submissions:,} (expected {accepted:,})")
    print(f"  answers {rows.answers:,} (expected {accepted * items:,})")
    print(f"  audit events of entries {rows.audit_events:,} (expected {accepted:,})")
    print(f"  lost {rows.lost}, stored without a 201 seen {rows.unacknowledged}")
    print(f"  duplicated: entries {rows.duplicated_entries}, uploads {rows.duplicated_submissions}")


def rows_ok(rows: RowCount, accepted: int, items: int) -> bool:
    return (
        rows.lost == 0
        and rows.duplicated_entries == 0
        and rows.duplicated_submissions == 0
        and rows.entries == rows.submissions == rows.audit_events == accepted
        and rows.answers == accepted * items
    )


# --- main -----------------------------------------------------------------------------------------


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32, help="uploads in flight")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument(
        "--repeat-fraction",
        type=float,
        default=0.25,
        help="share of accepted uploads sent again unchanged (must answer 200, same body)",
    )
    parser.add_argument(
        "--conflict-fraction",
        type=float,
        default=0.05,
        help="share sent again under the same client id with other answers (must answer 409)",
    )
    parser.add_argument(
        "--race-fraction",
        type=float,
        default=0.02,
        help="share of first uploads sent twice at the same moment (one 201, one 200)",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--seed-processes", type=int, default=2)
    parser.add_argument("--app", default="diarytrial.web.wsgi:application", help="WSGI app")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the answers")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    args = arguments(argv)
    problem = postgres_reachable(args.database_url)
    if problem:
        print(f"skipped: {problem}")
        return 0
    protocol = load_example(EXAMPLE).protocol
    zones = diary_zones(protocol, dt.datetime.now(dt.UTC))
    base_env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    seed_env = {**base_env, "DIARYTRIAL_ENV": "test", "CONN_MAX_AGE": "0"}
    print(
        f"{args.participants:,} participants in {len(zones)} time zones "
        f"({', '.join(zones)}); gunicorn {args.workers} workers x {args.threads} threads; "
        f"client concurrency {args.concurrency}"
    )
    began = time.perf_counter()
    database_recreate(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="diary-load-") as tmp:
            folder = Path(tmp)
            django_command(seed_env, "migrate", "--verbosity=0")
            print(f"database created and migrated in {time.perf_counter() - began:.1f} s")
            began = time.perf_counter()
            phones = seed(
                seed_env,
                participants=args.participants,
                processes=args.seed_processes,
                zones=zones,
            )
            phones_file = folder / "phones.json"
            phones_file.write_text(json.dumps([phone.__dict__ for phone in phones]))
            print(
                f"seeded {len(phones):,} enrolled participants with a phone each through the "
                f"services in {time.perf_counter() - began:.1f} s"
            )
            port = free_port()
            server_env = {
                **base_env,
                "DIARYTRIAL_ENV": "production",
                "SECRET_KEY": secrets.token_urlsafe(64),
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SECURE_SSL_REDIRECT": "false",
                "CONN_MAX_AGE": "600",
                "DIARYTRIAL_VAR_DIR": str(folder / "var"),
            }
            form = Form.of(protocol)
            rng = random.Random(args.seed)
            phones = [Phone(**row) for row in json.loads(phones_file.read_text())]
            first_batch = first_jobs(phones, form, race=args.race_fraction, rng=rng)
            base_url = f"http://127.0.0.1:{port}"
            with (
                gunicorn(
                    server_env,
                    app=args.app,
                    port=port,
                    workers=args.workers,
                    threads=args.threads,
                    log=folder / "gunicorn.log",
                ) as server,
                ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool,
            ):
                warmers = phones[: 2 * args.workers * args.threads]
                pool.submit(warm_up, base_url, warmers).result()
                before = cpu_snapshot(server_pids(server.pid, args.database_url))
                first = pool.submit(run_phase, base_url, first_batch, args.concurrency, True)
                first_phase = first.result()
                cpu = cpu_spent(before, server.pid, args.database_url)
                created = {o.client_id: o.body for o in first_phase.outcomes if o.status == 201}
                again_batch = again_jobs(
                    first_batch,
                    created,
                    form,
                    repeat=args.repeat_fraction,
                    conflict=args.conflict_fraction,
                    rng=rng,
                )
                again_phase = (
                    pool.submit(run_phase, base_url, again_batch, args.concurrency, False).result()
                    if again_batch
                    else Phase([], 0.0, 0.0)
                )
            outcomes = first_phase.outcomes + again_phase.outcomes
            if any(o.status == 0 or o.status >= 500 for o in outcomes):
                print("server errors; the end of gunicorn's log:")
                print((folder / "gunicorn.log").read_text()[-3000:])
            problems = answers_check(outcomes, created)
            items = len(protocol.diary.items)
            rows = rows_count(args.database_url, list(created))
            report(first_phase, again_phase, cpu, rows, len(created), items)
            print("audit: " + django_command(seed_env, "audit", "verify"))
            for problem in problems[:10]:
                print(f"  PROBLEM {problem}")
            if len(problems) > 10:
                print(f"  ... and {len(problems) - 10} more problems")
            ok = not problems and rows_ok(rows, len(created), items)
    finally:
        if not args.keep:
            database_drop(args.database_url)
    if not ok:
        print("FAILED: rows lost, duplicated, or uploads answered wrongly")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
