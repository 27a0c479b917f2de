"""Fast bulk writes for the import engine: ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere.

Django's ``bulk_create`` on PostgreSQL sends each column as an array literal for ``UNNEST``;
quoting those arrays costs more than the rows' own processing. ``COPY … FROM STDIN`` streams
the rows instead. New rows take their ids from the table's own sequence first (``nextval``), so
rows written by anyone else at the same time never collide with them. Updates are copied into
a temporary table and applied with one ``UPDATE … FROM``.

Values go through each field's ``get_db_prep_save()`` (phone numbers, countries, decimals…)
except plain values of plain fields, which the driver takes as they are. Model signals do not
fire: the caller writes the audit entries.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models.base import ModelState

M = TypeVar("M", bound=models.Model)

#: Rows per statement where ``COPY`` is not available.
CHUNK = 500

_PLAIN_FIELDS: tuple[type[Any], ...] = (
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.BooleanField,
    models.CharField,
    models.EmailField,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.TextField,
    models.URLField,
)
_PLAIN_VALUES = (str, int, bool, type(None))
_FACTORIES: dict[type[models.Model], Callable[..., Any]] = {}


def new(model: type[M], **values: Any) -> M:
    """An unsaved ``model`` instance with its defaults and ``values`` (by attname, e.g.
    ``owner_id``): what ``model(**values)`` gives, without ``Model.__init__``'s per-field work."""
    factory = _FACTORIES.get(model)
    if factory is None:
        factory = _FACTORIES[model] = _factory(model)
    instance: M = factory(values)
    return instance


def _factory(model: type[models.Model]) -> Callable[[dict[str, Any]], Any]:
    static: dict[str, Any] = {}
    dynamic: list[tuple[str, Callable[[], Any]]] = []
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            dynamic.append((field.attname, field.get_default))
        else:
            static[field.attname] = field.get_default()

    def make(values: dict[str, Any]) -> Any:
        instance = model.__new__(model)
        attributes = instance.__dict__
        attributes.update(static)
        for attname, default in dynamic:
            if attname not in values:
                attributes[attname] = default()
        attributes.update(values)
        attributes["_state"] = ModelState()
        return instance

    return make


class _Rows:
    """Turns instances into the value lists ``COPY`` writes for ``fields``.

    Most columns are taken from the instance as they are; only the few that need it go
    through their field: subclasses of text fields holding objects (phone numbers), date-times
    that are naive or filled by ``auto_now``, and JSON.
    """

    def __init__(self, fields: Sequence[models.Field[Any, Any]]) -> None:
        self.attnames = [field.attname for field in fields]
        self.maybe: list[tuple[int, models.Field[Any, Any]]] = []  # objects in text fields
        self.times: list[tuple[int, models.Field[Any, Any], bool]] = []
        self.json: list[int] = []
        self.other: list[tuple[int, models.Field[Any, Any]]] = []
        for index, field in enumerate(fields):
            plain_class = type(field) in _PLAIN_FIELDS or (
                isinstance(field, models.ForeignKey) and type(field.target_field) in _PLAIN_FIELDS
            )
            if plain_class or isinstance(field, models.DecimalField):
                continue  # the driver takes str, int, bool, None and Decimal as they are
            if isinstance(field, models.CharField | models.TextField):
                self.maybe.append((index, field))
            elif isinstance(field, models.DateTimeField):
                auto = bool(field.auto_now or field.auto_now_add)
                self.times.append((index, field, auto))
            elif isinstance(field, models.JSONField):
                self.json.append(index)
            else:
                self.other.append((index, field))

    def __call__(self, record: models.Model) -> list[Any]:
        state = record.__dict__
        row = [state.get(attname) for attname in self.attnames]
        for index, field in self.maybe:
            value = row[index]
            if type(value) not in _PLAIN_VALUES:
                prepared = getattr(value, "_cartera_db_value", None)  # imported phone numbers
                row[index] = (
                    prepared if prepared is not None else field.get_db_prep_save(value, connection)
                )
        for index, field, auto in self.times:
            value = row[index]
            if value is None:
                if auto:
                    row[index] = field.pre_save(record, add=True)
            elif not (isinstance(value, dt.datetime) and value.tzinfo is not None):
                row[index] = field.get_db_prep_save(value, connection)
        for index in self.json:
            value = row[index]
            if value is not None:
                row[index] = json.dumps(value, cls=DjangoJSONEncoder)
        for index, field in self.other:
            value = row[index]
            if value is not None:
                row[index] = field.get_db_prep_save(value, connection)
        return row


def insert(model: type[models.Model], records: Sequence[models.Model]) -> None:
    """INSERT ``records``; each gets its id. ``auto_now`` columns take the current time."""
    if not records:
        return
    if connection.vendor != "postgresql":
        for record in records:
            for field in model._meta.concrete_fields:
                if getattr(field, "auto_now", False):
                    setattr(record, field.attname, field.pre_save(record, add=True))
        model._default_manager.bulk_create(list(records), batch_size=CHUNK)
        return
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    missing = [record for record in records if record.pk is None]
    with connection.cursor() as cursor:
        if missing:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, pk.column, len(missing)],
            )
            for record, (value,) in zip(missing, cursor.fetchall(), strict=True):
                record.pk = value
        fields = [field for field in meta.concrete_fields if field.column]
        rows = _Rows(fields)
        columns = ", ".join(quote(field.column) for field in fields)
        sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for record in records:
                copy.write_row(rows(record))
    for record in records:
        record._state.adding = False
        record._state.db = connection.alias


def update(
    model: type[models.Model], records: Sequence[models.Model], names: Sequence[str]
) -> None:
    """UPDATE the columns of fields ``names`` of ``records`` (one statement per batch)."""
    if not records or not names:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    if connection.vendor != "postgresql":
        # One prepared statement run per row: ``bulk_update``'s CASE … WHEN per column grows
        # with the square of the batch.
        quote = connection.ops.quote_name
        concrete = [field for field in fields if isinstance(field, models.Field) and field.column]
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in concrete)
        assert meta.pk is not None
        sql = (
            f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 (quoted names)
            f"WHERE {quote(meta.pk.column)} = %s"
        )
        params = [
            [
                *(
                    field.get_db_prep_save(getattr(record, field.attname), connection)
                    for field in concrete
                ),
                record.pk,
            ]
            for record in records
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
        return
    pk = meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    temporary = quote(f"cartera_import_{meta.db_table}")
    concrete = [field for field in fields if isinstance(field, models.Field) and field.column]
    columns = [quote(pk.column)] + [quote(field.column) for field in concrete]
    rows = _Rows([pk, *concrete])
    assignments = ", ".join(
        f"{quote(field.column)} = source.{quote(field.column)}" for field in concrete
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temporary} ON COMMIT DROP AS "  # noqa: S608 (quoted names)
            f"SELECT {', '.join(columns)} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {temporary} ({', '.join(columns)}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(rows(record))
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM {temporary} AS source "  # noqa: S608
            f"WHERE {table}.{quote(pk.column)} = source.{quote(pk.column)}"
        )
        cursor.execute(f"DROP TABLE {temporary}")
