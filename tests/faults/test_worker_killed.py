"""A gunicorn worker killed with SIGKILL in the middle of the evening's uploads, twice: every
upload answered 200 or 201 is in the database with its audit event, and the phones, sending
again what was not acknowledged, make each entry exactly once.

The site runs under gunicorn as in production (2 workers x 4 threads, persistent connections)
on a copy of the evening's database; the phones keep 12 uploads in flight, so each kill cuts
requests short. One phone in ten also loses its connection after sending, before the answer:
its entry is recorded unseen, as when a kill falls between the commit and the answer, and its
resend must be answered 200 with the same entry, not make a second one.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.faults.conftest import Evening
from tests.faults.phones import (
    Fault,
    Upload,
    each_upload_stored_once,
    resend_unacknowledged,
    send_all,
    tally,
)
from tests.faults.postgres import fresh_database, postgres_fault, suite_postgres
from tests.faults.served import audit_verified, site_served, study_environment

pytestmark = postgres_fault(ticking=True)

IN_FLIGHT = 12


def test_a_worker_killed_mid_upload_loses_nothing_and_counts_nothing_twice(
    tmp_path: Path, evening: Evening
) -> None:
    server = suite_postgres()
    uploads = [
        Upload.tonight(phone, k, connection_drops=k % 10 == 5)
        for k, phone in enumerate(evening.phones)
    ]
    sent = len(uploads)
    with fresh_database(server, "killed", template=evening.template) as database:
        env = study_environment(server.url(database), tmp_path)
        killed: list[int] = []
        with site_served(env, tmp_path) as site:

            def kill_a_worker() -> None:
                worker = site.workers()[0]
                os.kill(worker, signal.SIGKILL)
                killed.append(worker)

            first = send_all(
                site.base_url,
                uploads,
                concurrency=IN_FLIGHT,
                faults=[Fault(sent // 3, kill_a_worker), Fault(2 * sent // 3, kill_a_worker)],
            )
            during = tally(server, database, uploads, first)
            resent = resend_unacknowledged(site.base_url, uploads, first, concurrency=IN_FLIGHT)
            workers_after = site.workers()
            log = site.log_tail()
        after = tally(server, database, uploads, [*first, *resent])
        audit = audit_verified(env)
    print(during.line("worker killed, before the resends"))
    print(after.line("worker killed, after the resends"))

    assert len(killed) == 2, log
    assert not set(killed) & set(workers_after), "a killed worker still runs"
    cut_short = sum(
        n
        for status, n in during.statuses.items()
        if status.startswith("0 ") and "Timeout" not in status
    )
    assert cut_short > 0, f"no request was cut short by a kill: {during.statuses}"
    assert not {s for s in during.statuses if not s.startswith(("201", "0 "))}, log
    assert all(a.body["client_id"] == a.client_id for a in first if a.status == 201)
    each_upload_stored_once(during, after, resent)
    assert after.uploads == len(evening.phones)
    assert audit.startswith("The audit trail is intact")
