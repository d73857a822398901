"""Pages whose total is already known (a stored count, a window count): no COUNT query."""

from collections.abc import Sequence

from django.core.paginator import Page, Paginator


class CountedPaginator(Paginator):
    """A paginator told its count, so that it runs no COUNT query of its own."""

    def __init__(self, per_page: int, count: int) -> None:
        super().__init__([], per_page)
        self.__dict__["count"] = count  # `count` is a cached_property


def page_index(number: int | str | None, *, last: int) -> int:
    """The page asked for, as Paginator.get_page reads it: not a number is the
    first page, past `last` the last one."""
    try:
        return min(max(1, int(number or 1)), last)
    except (TypeError, ValueError):
        return 1


def counted_page(rows: Sequence, *, index: int, per_page: int, count: int) -> Page:
    """Page `index` holding `rows`, out of `count` in all."""
    return Page(rows, index, CountedPaginator(per_page, count))
