"""Print the HTML report to PDF with headless Chromium (the browser's own print engine)."""

from __future__ import annotations

import subprocess
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_SECONDS = 180


class PdfError(RuntimeError):
    """The PDF could not be made; the message says why and what to do."""


def print_pdf(html_path: Path, pdf_path: Path, *, chromium: str | None = None) -> Path:
    """Print `html_path` to `pdf_path` on A4 (the page size comes from the report's CSS).

    `chromium` is the browser's executable; default :data:`CHROMIUM`.

    Raises PdfError when Chromium is missing, fails, or writes no file. The PDF carries
    Chromium's creation date, so unlike the HTML it is not byte-identical between runs.
    """
    chromium = chromium or CHROMIUM
    if not Path(chromium).is_file():
        raise PdfError(
            f"cannot make the PDF: Chromium is not installed at {chromium}; install it "
            "(apt-get install chromium) or open the HTML report in a browser and print it"
        )
    pdf_path.unlink(missing_ok=True)
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf_path.resolve()}",
        html_path.resolve().as_uri(),
    ]
    try:
        finished = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise PdfError(
            f"cannot make the PDF: Chromium did not finish within {TIMEOUT_SECONDS} s"
        ) from None
    if finished.returncode != 0 or not pdf_path.is_file():
        detail = (finished.stderr or finished.stdout).strip().splitlines()
        last = detail[-1] if detail else f"exit code {finished.returncode}"
        raise PdfError(f"cannot make the PDF: Chromium failed ({last})")
    return pdf_path
