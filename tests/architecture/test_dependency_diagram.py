"""docs/dependencies.md is the diagram of the code as it is (``make docs`` redraws it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

DOCS = Path(__file__).parents[2] / "docs"


def _diagram() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "dependency_diagram", DOCS / "dependency_diagram.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_diagram_matches_the_code() -> None:
    diagram = _diagram()
    drawn = diagram.page(diagram.package_imports(diagram.grimp.build_graph("diarytrial")))

    assert (DOCS / "dependencies.md").read_text(encoding="utf-8") == drawn, (
        "docs/dependencies.md is out of date: run `make docs` and commit it"
    )


def test_loops_are_found_and_a_one_way_graph_has_none() -> None:
    diagram = _diagram()

    assert diagram.loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert diagram.loops({"a": {"b"}, "b": {"c"}, "c": set()}) == []
