"""The deal totals table (``OpportunityRollup``): kept exact by every write, read by the board
and the forecast instead of scanning the deals.

Every write of a deal's key fields or measures goes through :func:`tracking`: it reads the
touched deals' buckets before the write (locking the rows on PostgreSQL), again after it, and
adds the difference to the table with one upsert (``INSERT … ON CONFLICT DO UPDATE SET deals =
deals + excluded.deals …``) in the same transaction. Two transactions adding to the same bucket
serialise on its row; rows are upserted in key order, so two moves in opposite directions cannot
deadlock. The bulk paths (the demo) call :func:`rebuild`, which recomputes the table from the
deals with one ``INSERT … SELECT … GROUP BY``. The raw SQL lives in this module only.

Amounts are integer cents (``ROUND(amount x 100)``, the same expression the raw aggregates
use), so sums are exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.db.models import BigIntegerField, Case, Count, DateField, F, Q, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Round, TruncMonth

from .models import NO_MONTH, Opportunity, OpportunityRollup, StageKind

#: Integer cents of a deal's amount, as every sum of amounts computes them.
CENTS = Cast(Round(F("amount") * 100), BigIntegerField())

#: The bucket's columns (``month`` is computed from the deal's dates).
KEY_FIELDS: tuple[str, ...] = (
    "pipeline_id",
    "stage_id",
    "owner_id",
    "type",
    "currency",
    "status",
    "forecast_category",
    "month",
)
MEASURES: tuple[str, ...] = ("deals", "amount_cents", "weighted")

Key = tuple[Any, ...]

#: Deals read per query when measuring many (bulk paths).
CHUNK = 500


@dataclass
class Measures:
    """What a bucket adds up: deals, Σ cents, Σ cents x probability."""

    deals: int = 0
    amount_cents: int = 0
    weighted: int = 0

    def __bool__(self) -> bool:
        return bool(self.deals or self.amount_cents or self.weighted)

    def add(self, deals: int, amount_cents: int, weighted: int) -> None:
        """Add one deal (or a group of them)."""
        self.deals += deals
        self.amount_cents += amount_cents
        self.weighted += weighted


def month_of(status: str, expected_close_date: Any, closed_on: Any) -> dt.date:
    """The bucket month of a deal: its close day's month when closed, its expected one else."""
    day = expected_close_date if status == StageKind.OPEN else closed_on
    if day is None:
        return NO_MONTH
    if isinstance(day, str):  # a value SQLite handed back without conversion
        day = dt.date.fromisoformat(day[:10])
    return day.replace(day=1)


def month_expression() -> Any:
    """``month_of`` in SQL."""
    day = Case(
        When(status=StageKind.OPEN, then=F("expected_close_date")),
        default=F("closed_on"),
        output_field=DateField(),
    )
    return Coalesce(
        TruncMonth(day, output_field=DateField()),
        Value(NO_MONTH, output_field=DateField()),
        output_field=DateField(),
    )


def month_bounds(first: dt.date | None, last: dt.date | None) -> Q | None:
    """``[first, last]`` on the forecast day as a condition on ``month``, if it is whole months.

    ``None`` when a bound cuts a month (the caller then sums the deals themselves). Deals without
    a forecast day never match a bounded period, as ``closed_on >= first`` never matches NULL.
    """
    if first is not None and first.day != 1:
        return None
    if last is not None and (last + dt.timedelta(days=1)).day != 1:
        return None
    condition = Q(month__gt=NO_MONTH)
    if first is not None:
        condition &= Q(month__gte=first)
    if last is not None:
        condition &= Q(month__lte=last.replace(day=1))
    return condition


# --------------------------------------------------------------------------------------------
# Measuring deals


def measure(ids: Iterable[int], *, lock: bool = False) -> dict[Key, Measures]:
    """The buckets of the live deals ``ids`` with what they add (``lock``: FOR UPDATE)."""
    wanted = sorted({pk for pk in ids if pk})
    found: dict[Key, Measures] = {}
    for start in range(0, len(wanted), CHUNK):
        queryset = Opportunity.objects.filter(pk__in=wanted[start : start + CHUNK]).order_by("pk")
        if lock and connection.features.has_select_for_update:
            queryset = queryset.select_for_update(of=("self",))
        rows = queryset.annotate(cents=CENTS).values_list(
            "deleted_at",
            *KEY_FIELDS[:-1],
            "expected_close_date",
            "closed_on",
            "cents",
            "probability",
        )
        for row in rows:
            if row[0] is not None:  # in the trash: counts nowhere
                continue
            fields = row[1:8]
            expected, closed_on, cents, probability = row[8:]
            key = (*fields, month_of(fields[5], expected, closed_on))
            cents = int(cents or 0)
            found.setdefault(key, Measures()).add(1, cents, cents * int(probability))
    return found


class Tracker:
    """The deals a write touches; see :func:`tracking`."""

    def __init__(self, ids: Iterable[int]) -> None:
        self.ids = {pk for pk in ids if pk}
        self.before = measure(self.ids, lock=True)

    def add(self, *ids: int | None) -> None:
        """Deals created in the block (they had no bucket before)."""
        self.ids.update(pk for pk in ids if pk)

    def finish(self) -> None:
        """Add (after - before) to the table."""
        after = measure(self.ids)
        deltas: dict[Key, Measures] = {}
        for key, value in after.items():
            deltas.setdefault(key, Measures()).add(value.deals, value.amount_cents, value.weighted)
        for key, value in self.before.items():
            deltas.setdefault(key, Measures()).add(
                -value.deals, -value.amount_cents, -value.weighted
            )
        apply_deltas(deltas)


@contextmanager
def tracking(*ids: int | None) -> Iterator[Tracker]:
    """Keep the totals exact across a write of the deals ``ids`` (and those ``add``-ed).

    Use inside the write's transaction, around the ``save()`` / bulk ``UPDATE``. Nothing is
    applied if the block raises (the transaction rolls back anyway).
    """
    tracker = Tracker(pk for pk in ids if pk)
    yield tracker
    tracker.finish()


def apply_deltas(deltas: dict[Key, Measures]) -> None:
    """Add ``deltas`` to their buckets with one upsert, in key order (no deadlocks)."""
    rows = sorted((key, value) for key, value in deltas.items() if value)
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(OpportunityRollup._meta.db_table)
    columns = [_column(name) for name in (*KEY_FIELDS, *MEASURES)]
    keys = ", ".join(quote(column) for column in columns[: len(KEY_FIELDS)])
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(
        f"{quote(name)} = {table}.{quote(name)} + excluded.{quote(name)}" for name in MEASURES
    )
    adapt = connection.ops.adapt_datefield_value
    params: list[Any] = []
    for key, value in rows:
        params += [*key[:-1], adapt(key[-1]), value.deals, value.amount_cents, value.weighted]
    names = ", ".join(quote(column) for column in columns)
    values = ", ".join([placeholders] * len(rows))
    # Names quoted; every value is a parameter.
    sql = f"INSERT INTO {table} ({names}) VALUES {values} ON CONFLICT ({keys}) DO UPDATE SET {updates}"  # noqa: E501, S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _column(name: str, model: Any = OpportunityRollup) -> str:
    field = model._meta.get_field(name.removesuffix("_id"))
    return str(field.column)


# --------------------------------------------------------------------------------------------
# Recomputing


def grouped(deals: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """``deals`` summed per bucket: the columns of the table, in its order."""
    return (
        deals.annotate(month=month_expression())
        .values(*KEY_FIELDS)
        .annotate(
            n=Count("pk"),
            cents=Sum(CENTS),
            cent_percent=Sum(CENTS * F("probability")),
        )
        .order_by()
    )


def rebuild(pipeline: Any = None) -> int:
    """Recompute the table (or ``pipeline``'s rows) from the live deals; returns its rows.

    On PostgreSQL the table is locked (``EXCLUSIVE``: reads go on, writes wait) so no
    concurrent write's delta is lost between the delete and the insert; SQLite serialises
    writes anyway.
    """
    return fill(Opportunity, OpportunityRollup, pipeline=pipeline)


@transaction.atomic
def fill(deal_model: Any, rollup_model: Any, *, pipeline: Any = None) -> int:
    """``rebuild`` with the given model classes (the migration passes its historical ones)."""
    quote = connection.ops.quote_name
    table = quote(rollup_model._meta.db_table)
    rollups = rollup_model.objects.all()
    deals = deal_model.objects.filter(deleted_at=None)
    if pipeline is not None:
        pipeline_id = getattr(pipeline, "pk", pipeline)
        rollups = rollups.filter(pipeline_id=pipeline_id)
        deals = deals.filter(pipeline_id=pipeline_id)
    names = ", ".join(quote(_column(name, rollup_model)) for name in (*KEY_FIELDS, *MEASURES))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        rollups.delete()
        select, params = grouped(deals).query.sql_with_params()
        cursor.execute(f"INSERT INTO {table} ({names}) {select}", params)
    return int(rollups.count())


def discrepancies(pipeline: Any = None) -> dict[Key, tuple[Measures, Measures]]:
    """Buckets where the table and a fresh ``GROUP BY`` of the deals differ: (stored, actual)."""
    rollups = OpportunityRollup.objects.all()
    deals = Opportunity.objects.filter(deleted_at=None)
    if pipeline is not None:
        pipeline_id = getattr(pipeline, "pk", pipeline)
        rollups = rollups.filter(pipeline_id=pipeline_id)
        deals = deals.filter(pipeline_id=pipeline_id)
    stored = {
        tuple(_normal(row[name]) for name in KEY_FIELDS): Measures(
            int(row["deals"]), int(row["amount_cents"]), int(row["weighted"])
        )
        for row in rollups.values(*KEY_FIELDS, *MEASURES)
    }
    actual = {
        tuple(_normal(row[name]) for name in KEY_FIELDS): Measures(
            int(row["n"]), int(row["cents"] or 0), int(row["cent_percent"] or 0)
        )
        for row in grouped(deals)
    }
    found = {}
    for key in stored.keys() | actual.keys():
        had, has = stored.get(key, Measures()), actual.get(key, Measures())
        if had != has:
            found[key] = (had, has)
    return found


def _normal(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value
