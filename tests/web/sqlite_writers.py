"""Writers of tests/web/test_sqlite_concurrency.py, each run in a process of its own.

``python -m tests.web.sqlite_writers setup|write|count FOLDER --now ISO [...]`` against the
SQLite database that ``DATABASE_URL`` names (as the demo names its own): ``setup`` migrates it
and enrols one participant per writing thread; ``write`` runs threads that submit diary entries,
screen new people and open a staff page (which saves the session), all released together
across processes; ``count`` checks that every write is there with its audit event. Each prints
one JSON line. The clock of each process stands at ``--now`` (the test's frozen instant).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django
import time_machine

GO_FILE = "go"
START_DAYS_AGO = 40  # the diary started this many days before --now: every round's date is past


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["setup", "write", "count"])
    parser.add_argument("folder", type=Path, help="where the processes meet (ready and go files)")
    parser.add_argument("--now", required=True, type=dt.datetime.fromisoformat)
    parser.add_argument("--writers", type=int, default=1, help="setup: participants to enrol")
    parser.add_argument("--process", type=int, default=0, help="write: this process's number")
    parser.add_argument("--threads", type=int, default=1, help="write: threads in this process")
    parser.add_argument("--rounds", type=int, default=1, help="write: writes of each kind")
    parser.add_argument("--written", type=Path, help="count: the JSON the writers printed")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diarytrial.web.settings")
    with time_machine.travel(args.now, tick=False):
        django.setup()
        if args.step == "setup":
            result = setup(writers=args.writers)
        elif args.step == "write":
            result = write(
                args.folder, process=args.process, threads=args.threads, rounds=args.rounds
            )
        else:
            result = count(json.loads(args.written.read_text()))
    print(json.dumps(result))


def setup(*, writers: int) -> dict[str, Any]:
    """Migrate; a study, a coordinator and `writers` participants whose diary started."""
    from django.core.management import call_command
    from django.utils import timezone
    from tests.builders import make_member, make_participant, make_site, make_study

    from diarytrial.studies.models import Role

    call_command("migrate", verbosity=0)
    study = make_study()
    site = make_site(study=study)
    make_member(study=study, role=Role.COORDINATOR, username="coordinator")
    start = timezone.now().date() - dt.timedelta(days=START_DAYS_AGO)
    codes = [
        make_participant(study=study, site=site, start_date=start).code for _ in range(writers)
    ]
    return {"participants": codes}


def write(folder: Path, *, process: int, threads: int, rounds: int) -> dict[str, Any]:
    """`threads` threads, each `rounds` times: a diary entry, a screening, a staff page."""
    from django.contrib.auth.models import User
    from django.db import connections
    from django.test import Client
    from django.urls import reverse

    from diarytrial.participants.models import Participant
    from diarytrial.participants.services import participant_screen
    from diarytrial.studies.models import Site

    participants = list(Participant.objects.order_by("pk"))[process * threads :][:threads]
    site = Site.objects.select_related("study").get()
    coordinator = User.objects.get(username="coordinator")
    answers = _eligible_answers(site.study)
    barrier = threading.Barrier(threads)
    outcome: dict[str, list[Any]] = {"entries": [], "screened": [], "pages": [], "errors": []}
    lock = threading.Lock()

    def record(kind: str, call: Callable[[], Any]) -> None:
        try:
            value = call()
        except Exception as error:  # every failure is counted; none stops the other writes
            with lock:
                outcome["errors"].append(f"{kind}: {error!r}")
        else:
            with lock:
                outcome[kind].append(value)

    def screen() -> str:
        return participant_screen(
            study=site.study,
            site=site,
            answers=answers,
            timezone="Europe/London",
            opioid_use=False,
            actor=coordinator,
        ).code

    def run(participant: Participant) -> None:
        try:
            client = Client()
            client.force_login(coordinator)
            start = participant.start_date
            if start is None:
                raise RuntimeError(f"{participant.code} is not enrolled")
            barrier.wait(timeout=120)
            _wait_for_go(folder)
            for round_ in range(rounds):
                day = start + dt.timedelta(days=round_)
                record("entries", functools.partial(_entry_pk, participant, day))
                record("screened", screen)
                record("pages", lambda: client.get(reverse("studies:list")).status_code)
        except Exception:
            with lock:
                outcome["errors"].append(traceback.format_exc())
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(p,)) for p in participants]
    (folder / f"ready-{process}").touch()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=600)
    if any(worker.is_alive() for worker in workers):
        outcome["errors"].append("a writing thread did not finish within 600 s")
    return outcome


def _entry_pk(participant: Any, day: dt.date) -> int:
    from tests.builders import make_entry

    return make_entry(participant=participant, diary_date=day).pk


def _eligible_answers(study: Any) -> dict[str, bool]:
    from diarytrial.studies.selectors import protocol_version_load, study_current_protocol

    protocol = protocol_version_load(study_current_protocol(study)).protocol
    return {question.id: question.eligible_answer for question in protocol.eligibility}


def _wait_for_go(folder: Path) -> None:
    deadline = time.monotonic() + 120
    while not (folder / GO_FILE).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the other writing processes never got ready")
        time.sleep(0.005)


def count(written: dict[str, list[Any]]) -> dict[str, Any]:
    """Which of the `written` entries and participants are missing, or lack their audit event."""
    from diarytrial.audit.models import AuditEvent
    from diarytrial.audit.selectors import audit_verify
    from diarytrial.diary.models import DiaryEntry
    from diarytrial.participants.models import Participant

    entries = set(DiaryEntry.objects.values_list("pk", flat=True))
    codes = dict(Participant.objects.values_list("code", "pk"))
    audited = set(AuditEvent.objects.values_list("object_type", "object_id"))
    missing_entries = [pk for pk in written["entries"] if pk not in entries]
    missing_people = [code for code in written["screened"] if code not in codes]
    unaudited = [pk for pk in written["entries"] if ("diary.diaryentry", str(pk)) not in audited]
    unaudited += [
        code
        for code in written["screened"]
        if code in codes and ("participants.participant", str(codes[code])) not in audited
    ]
    chain = audit_verify()
    return {
        "missing_entries": missing_entries,
        "missing_participants": missing_people,
        "unaudited": unaudited,
        "audit_chain_broken_at": chain.broken_at,
        "audit_events": chain.checked,
    }


if __name__ == "__main__":
    main()
