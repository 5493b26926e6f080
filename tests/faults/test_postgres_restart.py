"""PostgreSQL restarted under load: every upload answered 200 or 201 is in the database with its
audit event, the phones' resends make each entry exactly once, and the site reconnects by
itself; while the database is away, uploads get a 503 problem document (``database_unavailable``,
with ``Retry-After``), never a 500.

The restart is of a private cluster (initdb in a temporary folder, on a free port), holding a
copy of the evening's database: the machine's own PostgreSQL is never stopped. It is stopped
in ``fast`` mode (every session ended, what was under way rolled back) once a third of the
uploads are answered, and started again a second later, while the phones keep 8 uploads in
flight; gunicorn (2 workers x 4 threads, persistent connections with health checks) runs on.
One phone in ten loses its connection once its upload is sent, so some entries are recorded
before the restart without the phone hearing of it.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from tests.faults.conftest import Evening
from tests.faults.phones import (
    Fault,
    Upload,
    each_upload_stored_once,
    resend_unacknowledged,
    send_all,
    tally,
)
from tests.faults.postgres import (
    database_dump,
    database_restore,
    postgres_fault,
    private_cluster,
    private_cluster_missing,
    server_programs,
    suite_postgres,
)
from tests.faults.served import audit_verified, site_served, study_environment

pytestmark = postgres_fault(ticking=True)

IN_FLIGHT = 8
OUTAGE_SECONDS = 1.0
DATABASE = "diarytrial"


def test_postgres_restarted_under_load_loses_nothing_and_the_site_reconnects_by_itself(
    tmp_path: Path, evening: Evening
) -> None:
    missing = private_cluster_missing()
    programs = server_programs()
    if missing or programs is None:
        pytest.skip(missing or "no PostgreSQL server programs")
    uploads = [
        Upload.tonight(phone, k, connection_drops=k % 10 == 5)
        for k, phone in enumerate(evening.phones)
    ]
    dump = tmp_path / "evening.dump"
    database_dump(suite_postgres(), evening.template, dump)
    with private_cluster(programs) as cluster:
        server = cluster.server
        server.database_create(DATABASE)
        database_restore(server, DATABASE, dump)
        env = study_environment(server.url(DATABASE), tmp_path)
        with site_served(env, tmp_path) as site:
            workers_before = sorted(site.workers())
            health_during: list[int] = []

            def restart() -> None:
                cluster.stop("fast")
                health_during.append(httpx.get(f"{site.base_url}/healthz", timeout=10).status_code)
                time.sleep(OUTAGE_SECONDS)
                cluster.start()

            first = send_all(
                site.base_url,
                uploads,
                concurrency=IN_FLIGHT,
                faults=[Fault(len(uploads) // 3, restart)],
            )
            during = tally(server, DATABASE, uploads, first)
            resent = resend_unacknowledged(site.base_url, uploads, first, concurrency=IN_FLIGHT)
            health_after = httpx.get(f"{site.base_url}/healthz", timeout=10).status_code
            workers_after = sorted(site.workers())
            log = site.log_tail()
        after = tally(server, DATABASE, uploads, [*first, *resent])
        audit = audit_verified(env)
    print(during.line("PostgreSQL restarted, before the resends"))
    print(after.line("PostgreSQL restarted, after the resends"))

    # While it was away: 503 problem documents, never a 500 or a dropped connection.
    unavailable = [a for a in first if a.status == 503]
    assert unavailable, f"no upload met the outage: {during.statuses}"
    assert {a.code for a in unavailable} == {"database_unavailable"}
    assert {a.content_type for a in unavailable} == {"application/problem+json"}
    assert {a.retry_after for a in unavailable} == {"5"}
    assert set(during.statuses) <= {"201", "503 database_unavailable", "0 ReadTimeout"}, log
    assert health_during == [503]
    # The site reconnected by itself: the same workers answer, the database is healthy.
    assert (health_after, workers_after) == (200, workers_before), log
    each_upload_stored_once(during, after, resent)
    assert after.uploads == len(evening.phones)
    assert audit.startswith("The audit trail is intact")
