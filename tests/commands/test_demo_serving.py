"""The demo's server, as `diarytrial demo` starts it: DEBUG off whatever the environment's
default, the app's own 404 and 500 pages with no settings, paths or code in them, and /static/
still served.

The server runs in a process of its own, on the tests' clock, with the demo's variables
(``demo_environment``) and ``DIARYTRIAL_ENV`` unset, as ``make demo`` runs it; its database
file is left unmigrated, so that a page reading a table fails as an unexpected error would (500).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.clock import clocked_command, test_instant
from tests.python_process import run_python

import diarytrial
from diarytrial.commands.demo_commands import demo_environment
from diarytrial.devices.auth import DEVICE_COOKIE

SERVE = (
    "import sys\n"
    "import django\n"
    "django.setup()\n"
    "from diarytrial.commands.demo_commands import serve\n"
    "serve(sys.argv[1])\n"
)

pytestmark = pytest.mark.ticking  # a live server in another process


def free_address() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def demo_server_environment(out: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DIARYTRIAL_ENV"}
    env.pop("DEBUG", None)
    env.pop("DATABASE_URL", None)
    return {**env, "DJANGO_SETTINGS_MODULE": "diarytrial.web.settings", **demo_environment(out)}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The demo's server at a free address, and its output folder."""
    out = tmp_path_factory.mktemp("demo")
    address = free_address()
    host, port = address.rsplit(":", 1)
    server = subprocess.Popen(
        clocked_command(test_instant(), "-c", SERVE, address),
        cwd=out,
        env=demo_server_environment(out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"the demo server stopped: {server.communicate()[1]}"
            try:
                with socket.create_connection((host, int(port)), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the demo server did not start in 60 s"
                time.sleep(0.1)
        yield f"http://{address}", out
    finally:
        server.terminate()
        server.wait(timeout=30)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def assert_reveals_nothing(body: str, out: Path) -> None:
    """No debug page, setting, path or code in `body`."""
    for secret in (
        "Traceback",
        "DEBUG = True",
        "SECRET_KEY",
        "DATABASES",
        "INSTALLED_APPS",
        "settings.py",
        "sqlite3",
        str(out),
        str(Path(diarytrial.__file__).parent),
        sys.prefix,
    ):
        assert secret not in body


def test_the_demo_environment_switches_debug_off(tmp_path: Path) -> None:
    script = (
        "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    )
    shown = run_python(["-c", script], cwd=tmp_path, env=demo_server_environment(tmp_path))

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "False"


def test_an_unknown_address_gets_the_apps_404_page(demo_server: tuple[str, Path]) -> None:
    url, out = demo_server

    status, body = fetch(f"{url}/no-such-page/")

    assert status == 404
    assert "<h1>Not found</h1>" in body
    assert "Go to the start page" in body
    assert_reveals_nothing(body, out)


def test_an_unexpected_error_gets_the_apps_500_page(demo_server: tuple[str, Path]) -> None:
    url, out = demo_server

    # A phone's page looks its device up in a table the unmigrated database lacks.
    status, body = fetch(f"{url}/d/", headers={"Cookie": f"{DEVICE_COOKIE}={'t' * 40}"})

    assert status == 500
    assert "<h1>Something went wrong</h1>" in body
    assert "no such table" not in body
    assert_reveals_nothing(body, out)


def test_static_files_are_still_served(demo_server: tuple[str, Path]) -> None:
    url, _ = demo_server

    status, body = fetch(f"{url}/static/diarytrial.css")

    assert status == 200
    assert "{" in body
