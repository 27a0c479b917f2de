"""Keyset (cursor) pagination shared by every list page and API list.

A page is found by the sort-key values of the row next to it, never by ``OFFSET``, so the
thousandth page costs what the first does, and no list runs ``COUNT(*)``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from .errors import InvalidInput

T = TypeVar("T")
M = TypeVar("M", bound=models.Model)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows with opaque cursors to its neighbours (``None`` at either end)."""

    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None
    limit: int


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(values: list[Any], *, backward: bool) -> str:
    """Opaque, URL-safe cursor for the position after (or before) a row."""
    payload = json.dumps({"v": [_encode_value(v) for v in values], "b": backward})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> tuple[list[Any], bool]:
    """Values and direction of a cursor; a malformed one is a field error, never a 500."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        values, backward = data["v"], bool(data["b"])
        if not isinstance(values, list) or len(values) != size:
            raise ValueError
        if not all(isinstance(v, str | int | float) for v in values):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(field_errors={"cursor": [_("This page link is not valid.")]}) from exc
    return values, backward


def _keyset_filter(ordering: tuple[str, ...], values: list[Any], *, forward: bool) -> Q:
    """Rows strictly after ``values`` in ``ordering`` (or before, when not ``forward``).

    Written as ``a >= x AND (a > x OR (a = x AND b > y))`` so the database can range-scan the
    index on the first column.
    """
    names = [f.lstrip("-") for f in ordering]

    def after(index: int) -> str:
        descending = ordering[index].startswith("-")
        return "lt" if descending == forward else "gt"

    expression = Q()
    for index in range(len(ordering)):
        term = Q(**{f"{names[index]}__{after(index)}": values[index]})
        for prior in range(index):
            term &= Q(**{names[prior]: values[prior]})
        expression |= term
    first_bound = "lte" if after(0) == "lt" else "gte"
    return Q(**{f"{names[0]}__{first_bound}": values[0]}) & expression


def _flip(ordering: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f[1:] if f.startswith("-") else f"-{f}" for f in ordering)


def _row_values(row: Any, ordering: tuple[str, ...]) -> list[Any]:
    if isinstance(row, dict):  # a ``values()`` row
        return [row[f.lstrip("-")] for f in ordering]
    return [getattr(row, f.lstrip("-")) for f in ordering]


def clamp_limit(limit: int | None) -> int:
    """Page size within 1…MAX_LIMIT."""
    if not limit:
        return DEFAULT_LIMIT
    return max(1, min(int(limit), MAX_LIMIT))


def keyset_page(
    queryset: models.QuerySet[M, T],
    *,
    ordering: tuple[str, ...],
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[T]:
    """The page of ``queryset`` at ``cursor`` in ``ordering`` (whose last field must be unique).

    Ordering fields must be non-null columns of the model itself. A ``values()`` queryset
    works too (its rows are dicts), as long as it selects the ordering's fields by those names.
    """
    size = clamp_limit(limit)
    backward = False
    qs = queryset
    if cursor:
        values, backward = decode_cursor(cursor, len(ordering))
        qs = qs.filter(_keyset_filter(ordering, values, forward=not backward))
    qs = qs.order_by(*(_flip(ordering) if backward else ordering))
    rows = list(qs[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
    if not rows:
        return Page(items=[], next_cursor=None, previous_cursor=None, limit=size)
    first, last = _row_values(rows[0], ordering), _row_values(rows[-1], ordering)
    next_cursor: str | None
    previous_cursor: str | None
    if backward:
        next_cursor = encode_cursor(last, backward=False)
        previous_cursor = encode_cursor(first, backward=True) if has_more else None
    else:
        next_cursor = encode_cursor(last, backward=False) if has_more else None
        previous_cursor = encode_cursor(first, backward=True) if cursor else None
    return Page(items=rows, next_cursor=next_cursor, previous_cursor=previous_cursor, limit=size)
