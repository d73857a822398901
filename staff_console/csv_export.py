"""The members CSV, streamed row by row, safe to open in a spreadsheet."""

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.utils.translation import gettext as _

from staff_console.selectors import ExportRow

# A cell a spreadsheet would evaluate as a formula (OWASP "CSV injection"):
# = + - @ start one; tab and carriage return let a formula hide behind them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """Text for one cell; a leading formula character gets a quote before it.

    Phones start with "+" too: they get the quote like any other cell (the
    spreadsheet shows +79991234567 as text), so no cell is ever evaluated.
    """
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file that hands back what is written to it, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def header() -> list[str]:
    return [
        _("phone"),
        _("invite code"),
        _("inviter's code"),
        _("joined"),
        _("activated"),
        _("direct referrals"),
        _("second-level referrals"),
        _("open flags"),
    ]


def csv_stream(
    titles: list[str], rows: Iterable[list[object]], *, rows_per_write: int = 500
) -> Iterator[str]:
    """CSV text in pieces of `rows_per_write` rows (one HTTP chunk per row would cost
    more in framing than in data), every cell formula-safe (numbers stay numbers)."""
    writer = csv.writer(_Echo())
    piece = [writer.writerow([cell(title) for title in titles])]
    for row in rows:
        piece.append(
            writer.writerow([value if isinstance(value, int) else cell(value) for value in row])
        )
        if len(piece) >= rows_per_write:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)


def csv_lines(rows: Iterable[ExportRow], *, rows_per_write: int = 500) -> Iterator[str]:
    """The members CSV."""
    return csv_stream(
        header(),
        (
            [
                row.phone,
                row.invite_code,
                row.inviter_code,
                row.joined,
                row.activated,
                row.direct,
                row.second_level,
                row.open_flags,
            ]
            for row in rows
        ),
        rows_per_write=rows_per_write,
    )
