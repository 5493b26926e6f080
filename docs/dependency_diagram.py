"""Write docs/dependencies.md: which part of diarytrial imports which, drawn from the code.

``make docs`` runs it; tests/architecture/test_dependency_diagram.py fails when the committed
page no longer matches the code. The graph is grimp's (the library import-linter uses), one node
per top-level package or module of ``diarytrial``, an arrow A --> B when some module of A imports
some module of B. Groups of packages that import each other in a loop are listed under the
diagram: the layers of docs/architecture.md want none.
"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp

PAGE = Path(__file__).with_name("dependencies.md")
PURE = ("protocol", "dataset", "simulate", "analysis", "report", "textfile")


def package_imports(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """For each top-level part of diarytrial, the other parts it imports."""
    parts = sorted({module.split(".")[1] for module in graph.modules if "." in module})
    return {
        importer: {
            imported
            for imported in parts
            if imported != importer
            and graph.direct_import_exists(
                importer=f"diarytrial.{importer}",
                imported=f"diarytrial.{imported}",
                as_packages=True,
            )
        }
        for importer in parts
    }


def loops(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of parts that import each other in a loop (strongly connected, Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for following in sorted(edges[node]):
            if following not in index:
                visit(following)
                low[node] = min(low[node], low[following])
            elif following in stack:
                low[node] = min(low[node], index[following])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def page(edges: dict[str, set[str]]) -> str:
    """The Markdown page with the Mermaid diagram and the loops."""
    lines = [
        "# Dependencies between the parts of diarytrial",
        "",
        "Generated from the code by `make docs` (docs/dependency_diagram.py); do not edit by hand.",
        "An arrow A --> B: some module of A imports some module of B.",
        "",
        "```mermaid",
        "graph BT",
        "  subgraph pure [pure packages: no Django]",
        *(f"    {name}" for name in PURE if name in edges),
        "  end",
        "  subgraph live [the live system]",
        *(f"    {name}" for name in sorted(edges) if name not in PURE),
        "  end",
        *(
            f"  {importer} --> {imported}"
            for importer in sorted(edges)
            for imported in sorted(edges[importer])
        ),
        "```",
        "",
    ]
    cycles = loops(edges)
    if cycles:
        lines += [f"Parts that import each other in a loop ({len(cycles)}):", ""]
        lines += [f"- {', '.join(group)}" for group in cycles]
    else:
        lines.append("No parts import each other in a loop.")
    return "\n".join(lines) + "\n"


def main() -> int:
    PAGE.write_text(page(package_imports(grimp.build_graph("diarytrial"))), encoding="utf-8")
    print(f"wrote {PAGE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
