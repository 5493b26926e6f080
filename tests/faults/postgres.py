"""PostgreSQL for the fault tests: the suite's own server, a database of each test's own (a
copy of a template), dumps and restores, and a private cluster a test may stop and start. The
machine's own PostgreSQL is never stopped or reconfigured.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection
from psycopg import sql
from psycopg.conninfo import make_conninfo

# --- PostgreSQL -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Postgres:
    """A PostgreSQL server the tests reach over TCP: the suite's own, or a private cluster."""

    host: str
    port: int
    user: str
    password: str = ""

    def url(self, database: str) -> str:
        """A ``DATABASE_URL`` for `database` on this server."""
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        return f"postgres://{quote(self.user, safe='')}{secret}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        return make_conninfo(
            host=self.host,
            port=str(self.port),
            user=self.user,
            password=self.password or None,
            dbname=database,
        )

    def database_create(self, name: str, *, template: str | None = None) -> None:
        """Create `name`, empty or a copy of `template`, dropping one left by an earlier run."""
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            create = sql.SQL("{} TEMPLATE {}").format(create, sql.Identifier(template))
        with psycopg.connect(self.conninfo(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            admin.execute(create)

    def database_drop(self, name: str) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def suite_postgres() -> Postgres:
    """The PostgreSQL server the suite runs on (its ``DATABASE_URL``)."""
    settings = connection.settings_dict
    return Postgres(
        host=str(settings.get("HOST") or "127.0.0.1"),
        port=int(settings.get("PORT") or 5432),
        user=str(settings.get("USER") or "postgres"),
        password=str(settings.get("PASSWORD") or ""),
    )


def database_name(purpose: str) -> str:
    """A database name of the test's own: the suite's database name and `purpose`."""
    base = str(connection.settings_dict["NAME"]).removeprefix("test_")
    return f"test_{base}_fault_{purpose}"[:63]


@contextlib.contextmanager
def fresh_database(server: Postgres, purpose: str, *, template: str | None = None) -> Iterator[str]:
    """A new database on `server` for the test, empty or a copy of `template` (a database of
    the same server nobody is connected to); dropped afterwards. Yields its name."""
    name = database_name(purpose)
    server.database_create(name, template=template)
    try:
        yield name
    finally:
        server.database_drop(name)


def client_program(name: str) -> str | None:
    """``pg_dump`` or ``pg_restore`` on PATH, or None."""
    return shutil.which(name)


def database_dump(server: Postgres, database: str, file: Path) -> None:
    """`database` into `file` in pg_dump's custom format."""
    _postgres_client(
        "pg_dump", "--format=custom", f"--file={file}", f"--dbname={server.conninfo(database)}"
    )


def database_restore(server: Postgres, database: str, file: Path) -> None:
    """A dump made by `database_dump` into the empty `database`."""
    _postgres_client(
        "pg_restore",
        "--exit-on-error",
        "--no-owner",
        f"--dbname={server.conninfo(database)}",
        str(file),
    )


def _postgres_client(program: str, *args: str) -> None:
    found = client_program(program)
    if found is None:
        raise AssertionError(f"{program} is not installed")
    result = subprocess.run([found, *args], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"{program} failed ({result.returncode}):\n{result.stderr}")


def server_programs() -> Path | None:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl), or None when not installed.

    Looked for on PATH, then where ``pg_config`` says, then in Debian's versioned folders.
    """
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    if shutil.which("pg_config"):
        reported = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        folder = Path(reported.stdout.strip())
        if (folder / "pg_ctl").exists():
            return folder
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version_key)
    return Path(debian[-1]).parent if debian else None


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parents[1].name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


@dataclass
class PrivateCluster:
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder, a free port),
    which the test may stop and start. The machine's own PostgreSQL is never touched."""

    programs: Path
    folder: Path
    port: int

    @property
    def server(self) -> Postgres:
        return Postgres(host="127.0.0.1", port=self.port, user="postgres")

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*_as_cluster_owner(), *args], capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}{tail}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.folder} -c fsync=off -c max_connections=60"
        )
        self._run(
            str(self.programs / "pg_ctl"),
            "start",
            "--wait",
            "--timeout=60",
            f"--pgdata={self.folder / 'data'}",
            f"--log={self.folder / 'server.log'}",
            f"--options={options}",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` ends every session and rolls back what is under way."""
        self._run(
            str(self.programs / "pg_ctl"),
            "stop",
            "--wait",
            "--timeout=60",
            f"--mode={mode}",
            f"--pgdata={self.folder / 'data'}",
        )

    def postmaster(self) -> int | None:
        """The server's process id while it runs (from its ``postmaster.pid``), else None."""
        pid_file = self.folder / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(pid_file.read_text().splitlines()[0])
        return None


def _as_cluster_owner() -> list[str]:
    # initdb and postgres refuse to run as root: then they run as the postgres user.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@contextlib.contextmanager
def private_cluster(programs: Path) -> Iterator[PrivateCluster]:
    """A new cluster, started; stopped and removed afterwards, whatever happened."""
    folder = Path(tempfile.mkdtemp(prefix="diarytrial-cluster-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, user="postgres", group="postgres")
        cluster = PrivateCluster(programs=programs, folder=folder, port=free_port())
        cluster._run(
            str(programs / "initdb"),
            f"--pgdata={folder / 'data'}",
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.postmaster() is not None:
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    cluster.stop("immediate")
            left = cluster.postmaster()
            if left is not None:  # pg_ctl could not stop it: the server this test started
                with contextlib.suppress(ProcessLookupError):
                    os.kill(left, signal.SIGKILL)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def private_cluster_missing() -> str | None:
    """Why this machine cannot run a private cluster and copy a database into it, or None."""
    if server_programs() is None or client_program("pg_dump") is None:
        return (
            "needs PostgreSQL's server programs (initdb, pg_ctl) and pg_dump to run a private "
            "cluster; on Debian: apt-get install postgresql"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "runs as root, and PostgreSQL's programs need a postgres user to run as"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_fault(*, ticking: bool = False) -> list[pytest.MarkDecorator]:
    """The marks of a fault test: ``postgres``, skipped on another database (and ``ticking``
    when real servers run beside it)."""
    marks = [
        pytest.mark.postgres,
        pytest.mark.skipif(
            connection.vendor != "postgresql",
            reason="needs PostgreSQL: faults are tested on the database production runs on",
        ),
    ]
    return [*marks, pytest.mark.ticking] if ticking else marks
