"""Every part of diarytrial has its place in the import contracts that `lint-imports` checks.

import-linter constrains only the modules a contract names: a new app left out of the layers
could import anything. This test fails until each top-level part is in exactly one of the two
layer contracts (the pure packages, the live system), and the pure packages are forbidden to
import every part of the live system.
"""

from __future__ import annotations

import pathlib
import tomllib
from typing import Any

import diarytrial

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = pathlib.Path(diarytrial.__file__).parent


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def _layer_parts(contract: dict[str, Any]) -> list[str]:
    parts = []
    for layer in contract["layers"]:
        for name in layer.split("|"):
            parts.append(name.strip().removeprefix("diarytrial."))
    return parts


def _top_level_parts() -> set[str]:
    parts = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    parts |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return parts


def test_every_part_is_in_exactly_one_layers_contract() -> None:
    contracts = _contracts()
    pure = _layer_parts(contracts["pure-layers"])
    live = _layer_parts(contracts["app-layers"])
    placed = pure + live
    assert sorted(placed) == sorted(set(placed)), "a part is named twice"
    assert set(placed) == _top_level_parts()


def test_the_pure_packages_may_import_no_part_of_the_live_system() -> None:
    contracts = _contracts()
    forbidden = contracts["pure-without-web"]
    assert {m.removeprefix("diarytrial.") for m in forbidden["source_modules"]} == set(
        _layer_parts(contracts["pure-layers"])
    )
    live = {f"diarytrial.{part}" for part in _layer_parts(contracts["app-layers"])}
    assert live <= set(forbidden["forbidden_modules"])
    assert {"django", "ninja"} <= set(forbidden["forbidden_modules"])


def test_the_web_stack_sits_on_top_and_core_at_the_bottom() -> None:
    layers = _contracts()["app-layers"]["layers"]
    assert layers[-1] == "core"
    assert layers.index("web") < layers.index("staff | phone | exports")
    assert layers.index("studies") > layers.index("participants")
