"""HTML tables: the cell type, the table builder every table of the report goes through.

Text from data is escaped by :func:`html_table`; a :class:`Cell` with ``html=True`` carries
markup built by the caller.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from diarytrial.protocol.schema import Protocol
from diarytrial.report.daily import CONDITION_ORDER
from diarytrial.report.labels import condition_label


@dataclass(frozen=True)
class Cell:
    """A table cell: text (escaped on output unless `html`), its span and CSS class."""

    text: str
    html: bool = False
    colspan: int = 1
    css: str = ""


CellLike = Cell | str


def _cell(value: CellLike, tag: str, *, numeric: bool, scope: str | None = None) -> str:
    cell = value if isinstance(value, Cell) else Cell(value)
    if tag == "th" and not cell.text.strip():
        tag, scope = "td", None  # a header cell with no text heads nothing (WCAG, axe-core)
    content = cell.text if cell.html else html.escape(cell.text)
    classes = " ".join(c for c in (cell.css, "num" if numeric else "") if c)
    attributes = f' class="{classes}"' if classes else ""
    if cell.colspan > 1:
        attributes += f' colspan="{cell.colspan}"'
    if scope is not None:
        attributes += f' scope="{scope}"'
    return f"<{tag}{attributes}>{content}</{tag}>"


def _span(cell: CellLike) -> int:
    return cell.colspan if isinstance(cell, Cell) else 1


def html_table(
    caption: str,
    head: Sequence[Sequence[CellLike]],
    body: Sequence[Sequence[CellLike]],
    *,
    notes: Sequence[str] = (),
    css_class: str = "",
    text_columns: Collection[int] = (0,),
) -> str:
    """A ``<table>`` with a caption, header rows, body rows and plain-text footnotes.

    The first cell of a body row is its row header. Columns are numeric (right-aligned, not
    wrapped) except those in `text_columns`. Text is escaped unless a :class:`Cell` says it is
    markup already.
    """
    head_rows = []
    for row in head:
        cells, column = [], 0
        for cell in row:
            numeric = column not in text_columns and _span(cell) == 1
            cells.append(_cell(cell, "th", numeric=numeric, scope="col"))
            column += _span(cell)
        head_rows.append("<tr>" + "".join(cells) + "</tr>")
    body_rows = []
    for row in body:
        cells = [_cell(row[0], "th", numeric=False, scope="row")]
        cells.extend(
            _cell(c, "td", numeric=k not in text_columns) for k, c in enumerate(row[1:], start=1)
        )
        body_rows.append("<tr>" + "".join(cells) + "</tr>")
    foot = ""
    if notes:
        width = max((sum(_span(c) for c in r) for r in [*head, *body]), default=1)
        foot = (
            f'<tfoot><tr><td colspan="{width}">'
            + "<br>".join(html.escape(n) for n in notes)
            + "</td></tr></tfoot>"
        )
    classes = f' class="{html.escape(css_class)}"' if css_class else ""
    return (
        f"<table{classes}><caption>{html.escape(caption)}</caption>"
        f"<thead>{''.join(head_rows)}</thead><tbody>{''.join(body_rows)}</tbody>{foot}</table>"
    )


def condition_names(protocol: Protocol) -> dict[str, str]:
    """Every condition's label in this protocol, by condition code."""
    return {c: condition_label(protocol, c) for c in CONDITION_ORDER}
