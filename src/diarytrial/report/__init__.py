"""The results report: one self-contained HTML file (inline CSS and SVG figures), or a PDF.

``render_report(dataset, results, dataset_hash=...)`` returns the HTML; ``write_report`` writes
it; ``print_pdf`` prints a written report with headless Chromium. docs/report.md describes the
sections, the determinism rules and the palette.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from diarytrial.report.document import render_report, write_report
    from diarytrial.report.pdf import PdfError, print_pdf

__all__ = ["PdfError", "print_pdf", "render_report", "write_report"]

# Imported on first use, so that a command needing only diarytrial.report.format (analyze)
# does not load the whole report.
_MODULE_OF = {
    "render_report": "document",
    "write_report": "document",
    "PdfError": "pdf",
    "print_pdf": "pdf",
}


def __getattr__(name: str) -> object:
    if name in _MODULE_OF:
        return getattr(importlib.import_module(f"diarytrial.report.{_MODULE_OF[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
