"""The cells of one row of the night grid, written at once: 28 cells times 100 rows are
too many for the template language's loop on a page that must answer quickly."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from diarytrial.monitoring.selectors import GridRow

register = template.Library()


@register.filter
def night_cells(row: GridRow) -> SafeString:
    """``<td>`` of each night: its letter, and its words for a screen reader."""
    return format_html_join(
        "",
        '<td class="night night-{}">{}<span class="visually-hidden"> {}</span></td>',
        ((letter, letter, words) for letter, words, _status in row.cells),
    )
