"""Run this test run's Python in a process of its own: for settings read at start-up, servers,
and writers that must not share the test's database connection."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_python(
    args: list[str], *, cwd: Path, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` in `cwd` under exactly `env`; its output as text, never raising."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
