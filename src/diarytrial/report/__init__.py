"""The results report: one self-contained HTML file (inline CSS and SVG figures), or a PDF.

``render_report(dataset, results, dataset_hash=...)`` returns the HTML; ``write_report`` writes
it; ``print_pdf`` prints a written report with headless Chromium. docs/report.md describes the
sections, the determinism rules and the palette.
"""

from diarytrial.report.document import render_report, write_report
from diarytrial.report.pdf import PdfError, print_pdf

__all__ = ["PdfError", "print_pdf", "render_report", "write_report"]
