"""Is PostgreSQL reachable? ``python -m diarytrial.web.pgcheck URL`` exits 0 if so, else 1.

The URL has the ``DATABASE_URL`` form, e.g. ``postgres://postgres@127.0.0.1:5432/diarytrial``.
The check connects to the server's ``postgres`` maintenance database, because the database
named in the URL may not exist yet (tests create their own). Silent on success; one line on
standard error otherwise, without the password. The Makefile uses it to decide whether to run
the suite on PostgreSQL.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import dj_database_url
import psycopg
from psycopg.conninfo import make_conninfo

CONNECT_TIMEOUT_SECONDS = 3
POSTGRES_ENGINES = {"django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"}
USAGE = "usage: python -m diarytrial.web.pgcheck postgres://USER[:PASSWORD]@HOST[:PORT]/NAME"


def postgres_reachable(url: str) -> str | None:
    """None when PostgreSQL at `url` accepts a connection, else why not, in one line."""
    try:
        config = dj_database_url.parse(url)
    except ValueError:
        return f"not a database URL; {USAGE}"
    if config.get("ENGINE") not in POSTGRES_ENGINES:
        return f"not a PostgreSQL URL (its engine is {config.get('ENGINE')}); {USAGE}"
    host = str(config.get("HOST") or "")
    port = str(config.get("PORT") or "")
    where = f"{host or 'the local socket'}{':' + port if port else ''}"
    options = {str(key): value for key, value in (config.get("OPTIONS") or {}).items()}
    conninfo = make_conninfo(
        host=host or None,
        port=port or None,
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        dbname="postgres",
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        **options,
    )
    try:
        with psycopg.connect(conninfo) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        return f"PostgreSQL at {where} is not reachable: {reason}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Exit code 0 when reachable, 1 otherwise (including a missing or malformed URL)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(USAGE, file=sys.stderr)
        return 1
    problem = postgres_reachable(args[0])
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
