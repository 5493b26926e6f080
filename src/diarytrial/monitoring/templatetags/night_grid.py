"""The cells of one row of the night grid, written at once: 28 cells times 100 rows are
too many for the template language's loop on a page that must answer quickly."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from diarytrial.monitoring.selectors import NIGHT_LETTERS, GridRow

register = template.Library()

_CELLS = {
    status: format_html(
        '<td class="night night-{}">{}<span class="visually-hidden"> {}</span></td>',
        letter,
        letter,
        words,
    )
    for status, (letter, words) in NIGHT_LETTERS.items()
}
"""Each status's cell: its letter, and its words for a screen reader (escaped once)."""


@register.filter
def night_cells(row: GridRow) -> SafeString:
    """The row's ``<td>`` of each night."""
    return mark_safe("".join(_CELLS[status] for status in row.nights))  # each cell escaped above
