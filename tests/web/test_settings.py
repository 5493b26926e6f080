"""Settings: the environment variables, production's refusals and its deploy checks.

Each case imports the settings in a fresh Python process with a clean environment, so the
settings of the process running the tests stay as they are.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

SHOW_SETTINGS = """
import json
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST"),
    "port": db.get("PORT"), "debug": s.DEBUG, "secret_key": s.SECRET_KEY,
    "allowed_hosts": s.ALLOWED_HOSTS, "csrf_trusted_origins": s.CSRF_TRUSTED_ORIGINS,
}))
"""


def run_python(args: list[str], cwd: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "diarytrial.web.settings",
        "DIARYTRIAL_VAR_DIR": str(cwd / "var"),
        **environ,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def settings_in(cwd: Path, **environ: str) -> dict[str, object]:
    result = run_python(["-c", SHOW_SETTINGS], cwd, **environ)
    assert result.returncode == 0, result.stderr
    shown: dict[str, object] = json.loads(result.stdout)
    return shown


def strong_secret_key() -> str:
    return secrets.token_urlsafe(64)


def test_production_refuses_to_start_without_secret_key(tmp_path: Path) -> None:
    result = run_python(
        ["-m", "django", "check"],
        tmp_path,
        DIARYTRIAL_ENV="production",
        ALLOWED_HOSTS="trial.example.org",
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr
    assert "set SECRET_KEY to it" in result.stderr


@pytest.mark.parametrize("empty", ["", "   "])
def test_production_counts_an_empty_secret_key_as_missing(tmp_path: Path, empty: str) -> None:
    result = run_python(
        ["-m", "django", "check"],
        tmp_path,
        DIARYTRIAL_ENV="production",
        SECRET_KEY=empty,
        ALLOWED_HOSTS="trial.example.org",
    )

    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("hosts", [None, "", " , "])
def test_production_refuses_to_start_without_allowed_hosts(
    tmp_path: Path, hosts: str | None
) -> None:
    environ = {"DIARYTRIAL_ENV": "production", "SECRET_KEY": strong_secret_key()}
    if hosts is not None:
        environ["ALLOWED_HOSTS"] = hosts

    result = run_python(["-m", "django", "check"], tmp_path, **environ)

    assert result.returncode != 0
    assert "ImproperlyConfigured: ALLOWED_HOSTS is not set" in result.stderr
    assert "e.g. ALLOWED_HOSTS=trial.example.org" in result.stderr


def test_production_passes_the_deploy_checks(tmp_path: Path) -> None:
    result = run_python(
        ["-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        DIARYTRIAL_ENV="production",
        SECRET_KEY=strong_secret_key(),
        ALLOWED_HOSTS="trial.example.org",
        CSRF_TRUSTED_ORIGINS="https://trial.example.org",
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_deploy_checks_catch_a_weak_secret_key(tmp_path: Path) -> None:
    # Shows that the passing case above is a real check: a short key fails it.
    result = run_python(
        ["-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        DIARYTRIAL_ENV="production",
        SECRET_KEY="short",
        ALLOWED_HOSTS="trial.example.org",
    )

    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_production_reads_hosts_and_trusted_origins(tmp_path: Path) -> None:
    key = strong_secret_key()

    shown = settings_in(
        tmp_path,
        DIARYTRIAL_ENV="production",
        SECRET_KEY=key,
        ALLOWED_HOSTS="trial.example.org, www.trial.example.org",
        CSRF_TRUSTED_ORIGINS="https://trial.example.org",
    )

    assert shown["debug"] is False
    assert shown["secret_key"] == key
    assert shown["allowed_hosts"] == ["trial.example.org", "www.trial.example.org"]
    assert shown["csrf_trusted_origins"] == ["https://trial.example.org"]


def test_the_default_is_sqlite_in_var_of_the_working_folder(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS],
        cwd=tmp_path,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "diarytrial.web.settings",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["engine"] == "django.db.backends.sqlite3"
    assert Path(shown["name"]) == tmp_path.resolve() / "var" / "diarytrial.sqlite3"
    assert (tmp_path / "var").is_dir()


def test_diarytrial_var_dir_moves_the_sqlite_database(tmp_path: Path) -> None:
    shown = settings_in(tmp_path, DIARYTRIAL_VAR_DIR=str(tmp_path / "elsewhere" / "data"))

    assert (
        Path(str(shown["name"])) == tmp_path.resolve() / "elsewhere" / "data" / "diarytrial.sqlite3"
    )
    assert (tmp_path / "elsewhere" / "data").is_dir()


def test_database_url_switches_to_postgresql(tmp_path: Path) -> None:
    shown = settings_in(
        tmp_path, DATABASE_URL="postgres://trial:secret@db.example.org:5433/diarytrial"
    )

    assert shown["engine"] == "django.db.backends.postgresql"
    assert (shown["name"], shown["host"], shown["port"]) == ("diarytrial", "db.example.org", 5433)


def test_development_is_the_default_with_its_own_secret_key(tmp_path: Path) -> None:
    shown = settings_in(tmp_path)

    assert shown["debug"] is True
    assert "development-only" in str(shown["secret_key"])


def test_an_unknown_environment_is_refused(tmp_path: Path) -> None:
    result = run_python(["-c", SHOW_SETTINGS], tmp_path, DIARYTRIAL_ENV="staging")

    assert result.returncode != 0
    assert "DIARYTRIAL_ENV='staging' is not known" in result.stderr


PROBE_HTTP = """
import json
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="trial.example.org")
health = client.get("/healthz")
admin = client.get("/admin/")
secure = client.get("/healthz", secure=True)
print(json.dumps({
    "health": health.status_code,
    "admin": [admin.status_code, admin.get("Location")],
    "hsts": secure.get("Strict-Transport-Security"),
    "frame": secure.get("X-Frame-Options"),
    "nosniff": secure.get("X-Content-Type-Options"),
}))
"""


def test_production_redirects_to_https_except_the_health_check(tmp_path: Path) -> None:
    result = run_python(
        ["-c", PROBE_HTTP],
        tmp_path,
        DIARYTRIAL_ENV="production",
        SECRET_KEY=strong_secret_key(),
        ALLOWED_HOSTS="trial.example.org",
    )

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["health"] == 200
    assert shown["admin"] == [301, "https://trial.example.org/admin/"]
    assert shown["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert (shown["frame"], shown["nosniff"]) == ("DENY", "nosniff")
