"""The phones of the fault tests: each uploads tonight's diary through the API, some lose
their connection before the answer, and like a phone's outbox they send again, unchanged, what
was not acknowledged; then the count of what the database holds against what they were told.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
from django.utils import timezone
from tests.faults.postgres import Postgres
from tests.faults.served import seed

from diarytrial.protocol import load_example

# One line per request would bury what a failing test has to say.
logging.getLogger("httpx").setLevel(logging.WARNING)
ENTRIES_URL = "/api/diary/entries"
LDN = load_example("ldn-fibromyalgia").protocol
ACKNOWLEDGED = frozenset({200, 201})


# --- phones ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phone:
    """An enrolled participant's phone (tests/faults/seeding.py): its device token, and the
    time zone and date of tonight's diary."""

    token: str
    timezone: str
    diary_date: str


def phones_seeded(
    env: Mapping[str, str], count: int, *, now: dt.datetime | None = None
) -> list[Phone]:
    made = seed(env, "phones", str(count), now=now)
    return [Phone(row["token"], row["timezone"], row["diary_date"]) for row in made]


@dataclass(frozen=True)
class Upload:
    """Tonight's diary of one phone: one body, sent again unchanged until acknowledged.

    A phone whose `connection_drops` loses its connection, the first time, once the upload is
    sent and before the answer comes: the server records the entry, the phone never hears.
    """

    phone: Phone
    body: dict[str, Any]
    csrf: str = field(default_factory=lambda: secrets.token_hex(16))
    connection_drops: bool = False

    @property
    def client_id(self) -> str:
        return str(self.body["client_id"])

    @classmethod
    def tonight(cls, phone: Phone, number: int, *, connection_drops: bool = False) -> Upload:
        """Every item answered (values varied by `number`), completed now by the phone's clock."""
        answers = {
            item.id: item.lowest + (number * 7 + k * 13) % (item.highest - item.lowest + 1)
            for k, item in enumerate(LDN.diary.items)
        }
        completed = timezone.now().astimezone(ZoneInfo(phone.timezone)).replace(microsecond=0)
        return cls(
            phone,
            {
                "client_id": str(uuid.uuid4()),
                "form_date": phone.diary_date,
                "answers": answers,
                "side_effects": {"headache": "somewhat"} if number % 4 == 0 else {},
                "capsule_taken": number % 10 != 0,
                "completed_at_device": completed.isoformat(),
            },
            connection_drops=connection_drops,
        )


@dataclass(frozen=True)
class Answer:
    """What one request got: its status (0: no answer, the connection failed), its body, its
    content type and Retry-After header; `round` 0 is the first sending, then the resends."""

    client_id: str
    status: int
    body: Any
    round: int
    content_type: str = ""
    retry_after: str | None = None

    @property
    def code(self) -> str:
        return str(self.body.get("code", "")) if isinstance(self.body, dict) else ""


@dataclass(frozen=True)
class Fault:
    """Something done to the site or its database once `after` answers have come back, while
    the phones go on uploading (`action` runs in a thread)."""

    after: int
    action: Callable[[], None]


async def _send(client: httpx.AsyncClient, upload: Upload, round_: int) -> Answer:
    headers = {
        "Cookie": f"dt_device={upload.phone.token}; csrftoken={upload.csrf}",
        "X-CSRFToken": upload.csrf,
        "Content-Type": "application/json",
    }
    # A dropped connection: the phone stops waiting a moment after the upload has gone out.
    drops = upload.connection_drops and round_ == 0
    timeout = httpx.Timeout(60, read=0.001) if drops else httpx.USE_CLIENT_DEFAULT
    try:
        response = await client.post(
            ENTRIES_URL, content=json.dumps(upload.body), headers=headers, timeout=timeout
        )
    except httpx.HTTPError as error:
        return Answer(upload.client_id, 0, type(error).__name__, round_)
    try:
        body = response.json()
    except ValueError:
        body = response.text[:300]
    return Answer(
        upload.client_id,
        response.status_code,
        body,
        round_,
        content_type=response.headers.get("Content-Type", ""),
        retry_after=response.headers.get("Retry-After"),
    )


async def _round(
    base_url: str,
    uploads: Sequence[Upload],
    *,
    concurrency: int,
    round_: int,
    faults: Sequence[Fault] = (),
) -> list[Answer]:
    answers: list[Answer] = []
    queue = list(reversed(uploads))
    reached = {fault.after: asyncio.Event() for fault in faults}

    async def phone() -> None:
        while queue:
            answers.append(await _send(client, queue.pop(), round_))
            for after, event in reached.items():
                if len(answers) >= after:
                    event.set()

    async def inject(fault: Fault) -> None:
        await reached[fault.after].wait()
        await asyncio.to_thread(fault.action)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        injected = [asyncio.create_task(inject(fault)) for fault in faults]
        await asyncio.gather(*(phone() for _ in range(concurrency)))
        for event in reached.values():
            event.set()  # fewer answers than a fault waited for: it still happens, last
        await asyncio.gather(*injected)
    return answers


def send_all(
    base_url: str, uploads: Sequence[Upload], *, concurrency: int, faults: Sequence[Fault] = ()
) -> list[Answer]:
    """Send every upload once, `concurrency` at a time, `faults` happening meanwhile."""
    return asyncio.run(_round(base_url, uploads, concurrency=concurrency, round_=0, faults=faults))


def resend_unacknowledged(
    base_url: str,
    uploads: Sequence[Upload],
    answers: Sequence[Answer],
    *,
    concurrency: int,
    rounds: int = 6,
    pause: float = 1.0,
) -> list[Answer]:
    """Like a phone's outbox: send again, unchanged, each upload that got no 200 or 201 yet,
    up to `rounds` times, `pause` seconds apart. The answers of the resends."""
    resent: list[Answer] = []
    for round_ in range(1, rounds + 1):
        acknowledged = {a.client_id for a in [*answers, *resent] if a.status in ACKNOWLEDGED}
        waiting = [u for u in uploads if u.client_id not in acknowledged]
        if not waiting:
            break
        time.sleep(pause)
        resent += asyncio.run(_round(base_url, waiting, concurrency=concurrency, round_=round_))
    return resent


# --- the count ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """What the phones sent and were told, against what the database holds."""

    uploads: int
    """Distinct uploads (client ids) the phones sent."""
    requests: int
    """Requests made, the phones' resends included."""
    acknowledged: int
    """Uploads answered 200 or 201 at least once."""
    stored: int
    """Uploads whose entry, upload record and one creation event are in the database."""
    lost: int
    """Acknowledged uploads missing from the database (entry, record or event)."""
    duplicated: int
    """Rows beyond one: entries per participant and date, records per client id, creation
    events per entry."""
    created_twice: int
    """Uploads answered 201 more than once."""
    statuses: dict[str, int]
    """Requests by status and code (``0 ReadError``: no answer; ``503 database_unavailable``)."""
    stored_ids: frozenset[str] = field(repr=False)
    acknowledged_ids: frozenset[str] = field(repr=False)

    def line(self, fault: str) -> str:
        return (
            f"{fault}: {self.uploads} uploads, {self.requests} requests, "
            f"{self.acknowledged} acknowledged, {self.stored} stored, {self.lost} lost, "
            f"{self.duplicated} duplicated, {self.created_twice} created twice; statuses "
            + ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))
        )


def _label(answer: Answer) -> str:
    if answer.status == 0:
        return f"0 {answer.body}"
    return f"{answer.status} {answer.code}".strip()


def tally(
    server: Postgres, database: str, uploads: Sequence[Upload], answers: Sequence[Answer]
) -> Tally:
    """Count what `database` holds of `uploads`, against the `answers` the phones got."""
    sent = {u.client_id for u in uploads}
    acknowledged = {a.client_id for a in answers if a.status in ACKNOWLEDGED}
    with psycopg.connect(server.conninfo(database)) as db:
        entries = {
            str(client): (pk, participant, day)
            for client, pk, participant, day in db.execute(
                "SELECT client_id, id, participant_id, diary_date FROM diary_diaryentry"
            )
        }
        records = Counter(
            str(client) for (client,) in db.execute("SELECT client_id FROM diary_diarysubmission")
        )
        created = Counter(
            int(obj)
            for (obj,) in db.execute(
                "SELECT object_id FROM audit_auditevent "
                "WHERE object_type = 'diary.diaryentry' AND action = 'create'"
            )
        )
    stored = {
        cid
        for cid in sent
        if cid in entries and records[cid] == 1 and created[entries[cid][0]] == 1
    }
    per_date = Counter((participant, day) for _, participant, day in entries.values())
    duplicated = (
        sum(n - 1 for n in per_date.values())
        + sum(n - 1 for n in records.values())
        + sum(n - 1 for n in created.values())
    )
    twice = Counter(a.client_id for a in answers if a.status == 201)
    return Tally(
        uploads=len(sent),
        requests=len(answers),
        acknowledged=len(acknowledged),
        stored=len(stored),
        lost=len(acknowledged - stored),
        duplicated=duplicated,
        created_twice=sum(1 for n in twice.values() if n > 1),
        statuses=dict(Counter(_label(a) for a in answers)),
        stored_ids=frozenset(stored),
        acknowledged_ids=frozenset(acknowledged),
    )


def each_upload_stored_once(during: Tally, after: Tally, resent: Sequence[Answer]) -> None:
    """What must hold after a fault: every upload acknowledged while it happened (`during`) is
    stored with its event; one recorded without the phone hearing of it was answered 200 when
    sent again; after the resends (`after`) every upload is acknowledged and stored, none lost,
    none stored twice, none answered 201 twice, each answer naming its own upload."""
    assert during.lost == 0, during.line("acknowledged but not stored")
    unheard = during.stored_ids - during.acknowledged_ids
    assert unheard, "no upload was recorded without its answer: the resends test nothing"
    heard_again = {a.status for a in resent if a.client_id in unheard}
    assert heard_again == {200}, f"resends of uploads already recorded got {heard_again}"
    assert {a.status for a in resent} <= ACKNOWLEDGED, [a for a in resent if a.status != 200]
    everything = after.uploads
    assert (after.acknowledged, after.stored) == (everything, everything), after.line("after")
    assert (after.lost, after.duplicated, after.created_twice) == (0, 0, 0), after.line("after")
    assert all(a.body["client_id"] == a.client_id for a in resent if a.status in ACKNOWLEDGED)
