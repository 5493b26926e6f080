"""The pure packages never import Django, so statistics run anywhere without a web stack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PURE_PACKAGES = ("protocol", "dataset", "simulate", "analysis", "report")


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_package_imports_without_django(package: str) -> None:
    # A fresh interpreter in which importing Django fails outright, so a lazy or indirect import
    # of Django anywhere in the package (and its submodules) shows up.
    code = f"""
import importlib, json, pkgutil, sys

class RefuseDjango:
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith("django."):
            raise ImportError("the pure package imported " + name)
        return None

sys.meta_path.insert(0, RefuseDjango())
package = importlib.import_module("diarytrial.{package}")
names = [m.name for m in pkgutil.walk_packages(package.__path__, "diarytrial.{package}.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({{"modules": [package.__name__, *names],
                   "django": sorted(m for m in sys.modules if m.split(".")[0] == "django")}}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["django"] == []
    assert report["modules"]
