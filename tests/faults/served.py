"""Programs the fault tests start, all on the test's clock (tests/clock.py): the seeding
(tests/faults/seeding.py), ``diarytrial`` commands, and the site served by gunicorn as in
production. Each is stopped when the test ends, failed or not; traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from django.utils import timezone
from tests.clock import clocked_command
from tests.faults.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
COMMAND_SECONDS = 180
"""The longest a seeding or ``diarytrial`` command may take before the test fails."""


# --- commands on the test's clock -----------------------------------------------------------------


def study_environment(url: str, folder: Path) -> dict[str, str]:
    """The environment of the seeding and of ``diarytrial`` commands on the database `url`."""
    return {
        **os.environ,
        "DIARYTRIAL_ENV": "test",
        "DATABASE_URL": url,
        "CONN_MAX_AGE": "0",
        "DIARYTRIAL_VAR_DIR": str(folder / "var"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
    }


def run_clocked(env: Mapping[str, str], *args: str, now: dt.datetime | None = None) -> str:
    """Run ``python ARGS`` on the test's clock (or from `now`); its standard output, or
    AssertionError."""
    result = subprocess.run(
        clocked_command(now or timezone.now(), *args),
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def diarytrial(env: Mapping[str, str], *args: str, now: dt.datetime | None = None) -> str:
    """``diarytrial ARGS`` on the test's clock: its output (AssertionError when it fails)."""
    return run_clocked(env, "-m", "diarytrial.cli", *args, now=now)


def seed(env: Mapping[str, str], *args: str, now: dt.datetime | None = None) -> Any:
    """What tests/faults/seeding.py made (``phones N`` or ``trial``), from its JSON."""
    output = run_clocked(env, "-m", "tests.faults.seeding", *args, now=now)
    return json.loads(output.strip().splitlines()[-1])


def audit_verified(env: Mapping[str, str]) -> str:
    """``diarytrial audit verify``'s report; AssertionError when the trail is broken."""
    return diarytrial(env, "audit", "verify").strip()


# --- the site under gunicorn ----------------------------------------------------------------------


@dataclass
class Site:
    """The site served by gunicorn on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def workers(self) -> list[int]:
        """The process ids of gunicorn's workers now (children of its master)."""
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return [int(pid) for pid in children]

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@contextlib.contextmanager
def site_served(
    env: Mapping[str, str], folder: Path, *, workers: int = 2, threads: int = 4
) -> Iterator[Site]:
    """The site under gunicorn as in production (persistent connections with health checks,
    DEBUG off), over plain HTTP on a free port; up once /healthz answers, stopped afterwards."""
    port = free_port()
    server_env = {
        **env,
        "DIARYTRIAL_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "CONN_MAX_AGE": "60",
    }
    command = clocked_command(
        timezone.now(),
        "-m",
        "gunicorn",
        "diarytrial.web.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--threads={threads}",
        "--preload",  # the application is loaded once, then forked into the workers
        "--timeout=30",
        "--graceful-timeout=5",
        "--log-level=warning",
    )
    log = folder / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env=server_env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    site = Site(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_up(site)
        yield site
    finally:
        _stop(process)


def _wait_until_up(site: Site) -> None:
    deadline = time.monotonic() + 60
    while True:
        if site.process.poll() is not None:
            raise AssertionError(f"gunicorn stopped:\n{site.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{site.base_url}/healthz", timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"gunicorn did not answer /healthz:\n{site.log_tail()}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn and its workers (its own process group, made at its start)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
