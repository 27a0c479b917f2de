"""Fast bulk writes: ``COPY … FROM STDIN`` on PostgreSQL, batched statements elsewhere.

One module for every bulk writer (the big demos and the import engine), two ways in:

- :class:`BulkInserter` loads many brand-new rows with ids assigned here (one more than the
  highest in the table): the medium and large demos, into tables nobody else writes meanwhile.
  Explicit ``auto_now`` timestamps are kept (``bulk_create`` would overwrite them with the
  current time). After writing rows with explicit ids, call :func:`reset_sequences` so the next
  ordinary insert gets a fresh id.
- :func:`insert` and :func:`update` write a batch of live records (the import engine): new rows
  take their ids from the table's own sequence (``nextval``), so rows written by anyone else at
  the same time never collide with them; updates are copied into a temporary table and applied
  with one ``UPDATE … FROM``. :func:`new` builds the unsaved instances fast.

The columns come from the model's ``_meta.concrete_fields``, so fields added to a model later are
written too, with their defaults when the caller does not set them; values go through each
field's own ``get_db_prep_save()`` (phone numbers, countries, decimals…), except plain values of
plain fields, which the database driver takes as they are. Rows are written as given: derived
columns must already be computed (call the model's ``refresh_search_fields()``). Model signals do
not fire, so nothing is audited here: the caller writes the audit entries (the import engine
does; the demo's generated history is not an edit).
"""

from __future__ import annotations

import datetime
import logging
import operator
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from types import TracebackType
from typing import Any, Generic, TypeVar

from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, connections, models, transaction
from django.db.models import Max
from django.db.models.base import ModelState
from django.utils import timezone

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=models.Model)

#: Fields whose ``get_db_prep_save()`` returns plain ``str``/``int``/``bool``/``None`` values
#: unchanged: their values are written as they are on the instance, so they must be plain values
#: (only these exact classes: subclasses may convert, so they take the full path).
_PLAIN_FIELDS: tuple[type[models.Field[Any, Any]], ...] = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.BigIntegerField,
    models.BooleanField,
    models.CharField,
    models.EmailField,
    models.IntegerField,
    models.PositiveBigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SlugField,
    models.SmallIntegerField,
    models.TextField,
    models.URLField,
)

SQLITE_BATCH_SIZE = 1000
#: Rows per ``bulk_create`` statement of :func:`insert` where ``COPY`` is not available.
CHUNK = 500


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def copy_text(values: list[Any]) -> str:
    """One row in PostgreSQL's COPY text format: tab-separated, ``\\N`` for NULL, escaped.

    For the prepared values of ``BulkInserter``: text, numbers, booleans, dates and NULL.
    """
    cells = []
    for value in values:
        kind = value.__class__
        if kind is str or (kind is not bool and isinstance(value, str)):
            # Translating is slow; most text has nothing to escape.
            if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
                value = str.translate(value, _COPY_ESCAPES)
            cells.append(value)
        elif value is None:
            cells.append("\\N")
        elif kind is bool:
            cells.append("t" if value else "f")
        elif kind is int or isinstance(value, int | Decimal | float):
            cells.append(str(value))
        elif isinstance(value, datetime.date | datetime.time):
            cells.append(value.isoformat())
        else:
            raise TypeError(f"cannot write a {kind.__name__} as COPY text")
    return "\t".join(cells) + "\n"


def insertable_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The model's own columns, in table order, without database-generated ones."""
    return [
        field
        for field in model._meta.concrete_fields
        if not getattr(field, "generated", False) and field.column
    ]


def instance_factory(model: type[M]) -> Callable[..., M]:
    """A fast constructor of unsaved ``model`` instances: defaults, then the given attnames.

    The same instance ``model(**values)`` gives (values by ``attname``, e.g. ``owner_id``), built
    without ``Model.__init__``'s per-field work and signals: at millions of rows that work is
    most of the time. Every concrete field gets a value (its default when not given), so nothing
    is left deferred.
    """
    static: dict[str, Any] = {}
    dynamic: list[tuple[str, Callable[[], Any]]] = []
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            dynamic.append((field.attname, field.get_default))
        else:
            static[field.attname] = field.get_default()
    known = {field.attname for field in model._meta.concrete_fields}

    def make(**values: Any) -> M:
        if not known.issuperset(values):
            unknown = sorted(values.keys() - known)[0]
            raise TypeError(f"{model.__name__} has no field {unknown!r}")
        obj = model.__new__(model)
        attributes = obj.__dict__
        attributes.update(static)
        for attname, default in dynamic:
            if attname not in values:
                attributes[attname] = default()
        attributes.update(values)
        attributes["_state"] = ModelState()
        return obj

    return make


def next_free_id(model: type[models.Model], *, using: str = "default") -> int:
    """One more than the highest primary key in ``model``'s table (1 when empty)."""
    highest = model._default_manager.using(using).aggregate(highest=Max("pk"))["highest"]
    return int(highest or 0) + 1


def reset_sequences(*model_list: type[models.Model], using: str = "default") -> None:
    """Move the id sequences past the rows written with explicit ids (no-op on SQLite)."""
    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class BulkInserter(Generic[M]):
    """Append rows of one model; use as a context manager (the rows are complete on exit).

    ``add()`` assigns the next free id to an instance without a primary key and returns the
    id. Run inside a transaction to make the whole load atomic.
    """

    def __init__(self, model: type[M], *, using: str = "default") -> None:
        self.model = model
        self.using = using
        self.connection = connections[using]
        self.fields = insertable_fields(model)
        self.count = 0
        self._next_id = 0
        self._pk_attname = model._meta.pk.attname if model._meta.pk else "id"
        self._positions = {field.attname: index for index, field in enumerate(self.fields)}
        # Plain columns (text, numbers, booleans, plain foreign keys) go to the driver as they
        # are; aware date-times go to COPY as ISO text; the others through their field's
        # conversion (phones, countries, decimals…), or its pre_save().
        self._read = operator.attrgetter(*self._positions)
        self._pre_saved: list[tuple[int, models.Field[Any, Any]]] = []
        self._converted: list[tuple[int, Callable[[Any], Any]]] = []
        self._datetimes: list[tuple[int, Callable[[Any], Any]]] = []
        for index, field in enumerate(self.fields):
            if self._has_own_pre_save(field):
                self._pre_saved.append((index, field))
            elif self._is_aware_datetime(field):
                self._datetimes.append((index, self._converter(field)))
            elif not self._is_plain(field):
                self._converted.append((index, self._converter(field)))
        self._defaults: list[Any] = []
        self._callable_defaults: list[tuple[int, str, Callable[[], Any]]] = []
        for index, field in enumerate(self.fields):
            if field.has_default() and callable(field.default):
                self._defaults.append(None)
                self._callable_defaults.append((index, field.attname, field.get_default))
            else:
                self._defaults.append(field.get_default())
        self._batch: list[list[Any]] = []
        self._copy: Any = None
        self._copy_context: Any = None
        self._cursor: Any = None

    @property
    def next_id(self) -> int:
        """The id ``add()`` gives the next row without one."""
        return self._next_id

    # --- values ---------------------------------------------------------------------------

    def _is_plain(self, field: models.Field[Any, Any]) -> bool:
        """Whether ``field``'s value goes to the driver as it is on the instance."""
        if isinstance(field, models.ForeignKey):
            return type(field.target_field) in _PLAIN_FIELDS
        return type(field) in _PLAIN_FIELDS

    def _is_aware_datetime(self, field: models.Field[Any, Any]) -> bool:
        """Whether ``field`` is a date-time column COPY takes aware values of as ISO text."""
        return type(field) is models.DateTimeField and self.connection.vendor == "postgresql"

    def _has_own_pre_save(self, field: models.Field[Any, Any]) -> bool:
        """Whether ``field`` computes its value when saved (date fields only do auto_now)."""
        return type(field).pre_save not in {
            models.Field.pre_save,
            models.DateField.pre_save,
            models.DateTimeField.pre_save,
        }

    def _converter(self, field: models.Field[Any, Any]) -> Callable[[Any], Any]:
        """How to turn a value of ``field`` into what the driver is given."""
        connection = self.connection
        auto_time = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        now: Callable[[], Any] = (
            timezone.now if isinstance(field, models.DateTimeField) else datetime.date.today
        )

        def convert(value: Any) -> Any:
            if value is None and auto_time:
                value = now()  # as the field's pre_save() would: only when not given
            return field.get_db_prep_save(value, connection)

        return convert

    def _finish(self, values: list[Any]) -> list[Any]:
        """Convert the columns that need it, in place."""
        for index, convert in self._converted:
            values[index] = convert(values[index])
        last: Any = None
        text = ""
        for index, convert in self._datetimes:
            value = values[index]
            if value is None or value.tzinfo is None:
                values[index] = convert(value)
            else:
                # ISO text is what the driver would send, made several times faster (and once
                # for the same moment in several columns, as created, updated, occurred).
                if value is not last:
                    last, text = value, value.isoformat()
                values[index] = text
        return values

    def row(self, obj: M) -> list[Any]:
        """The values written for ``obj``, in column order."""
        values = list(self._read(obj)) if len(self.fields) > 1 else [self._read(obj)]
        for index, field in self._pre_saved:
            values[index] = field.get_db_prep_save(field.pre_save(obj, add=True), self.connection)
        return self._finish(values)

    def values_row(self, values: dict[str, Any]) -> list[Any]:
        """The row written for ``values`` (by attname; defaults for the rest), in column order."""
        if self._pre_saved:
            raise TypeError(f"{self.model.__name__} rows need instances: use add()")
        row = self._defaults.copy()
        for index, attname, default in self._callable_defaults:
            if attname not in values:
                row[index] = default()
        positions = self._positions
        try:
            for attname, value in values.items():
                row[positions[attname]] = value
        except KeyError as exc:
            raise TypeError(f"{self.model.__name__} has no field {exc.args[0]!r}") from None
        return self._finish(row)

    # --- writing --------------------------------------------------------------------------

    def __enter__(self) -> BulkInserter[M]:
        self._next_id = next_free_id(self.model, using=self.using)
        if self.connection.vendor == "postgresql":
            quote = self.connection.ops.quote_name
            columns = ", ".join(quote(field.column) for field in self.fields)
            sql = f"COPY {quote(self.model._meta.db_table)} ({columns}) FROM STDIN"
            self._cursor = self.connection.cursor()
            # The psycopg cursor under Django's wrapper; COPY streams rows as they come.
            self._copy_context = self._cursor.cursor.copy(sql)
            self._copy = self._copy_context.__enter__()
        return self

    def add(self, obj: M) -> int:
        """Queue ``obj`` for writing (giving it an id when it has none); return its id."""
        pk = getattr(obj, self._pk_attname)
        if pk is None:
            pk = self._next_id
            setattr(obj, self._pk_attname, pk)
        self._next_id = max(self._next_id, int(pk) + 1)
        self._write(self.row(obj))
        return int(pk)

    def add_values(self, **values: Any) -> int:
        """Queue a row given by attname (``account_id=…``), without building an instance.

        For models that derive nothing from their fields (no ``refresh_search_fields()``) and
        have no field computing its value on save: at millions of rows the instance is most of
        the cost. Returns the row's id.
        """
        pk = values.get(self._pk_attname)
        if pk is None:
            pk = values[self._pk_attname] = self._next_id
        self._next_id = max(self._next_id, int(pk) + 1)
        self._write(self.values_row(values))
        return int(pk)

    def encode(self, rows: list[list[Any]]) -> Any:
        """Prepared rows (``row()``, ``values_row()``) as ``write_encoded()`` takes them.

        Needs no database access, so other processes can prepare rows in parallel: COPY text on
        PostgreSQL, the rows themselves elsewhere.
        """
        if self.connection.vendor == "postgresql":
            return "".join(map(copy_text, rows))
        return rows

    def write_encoded(self, encoded: Any, *, count: int, last_id: int) -> None:
        """Write ``count`` rows that ``encode()`` prepared, with ids up to ``last_id``."""
        if self._copy is not None:
            self._copy.write(encoded)
        else:
            self._batch.extend(encoded)
            if len(self._batch) >= SQLITE_BATCH_SIZE:
                self._flush()
        self.count += count
        self._next_id = max(self._next_id, last_id + 1)

    def _write(self, values: list[Any]) -> None:
        if self._copy is not None:
            self._copy.write_row(values)
        else:
            self._batch.append(values)
            if len(self._batch) >= SQLITE_BATCH_SIZE:
                self._flush()
        self.count += 1

    def _flush(self) -> None:
        if not self._batch:
            return
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        table = quote(self.model._meta.db_table)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (names quoted)
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, self._batch)
        self._batch = []

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._copy_context is not None:
                self._copy_context.__exit__(exc_type, exc, traceback)
            elif exc_type is None:
                self._flush()
        finally:
            if self._cursor is not None:
                self._cursor.close()
            self._copy = self._copy_context = self._cursor = None


def settle_search_indexes(*model_list: type[models.Model], using: str = "default") -> None:
    """After a bulk load, fold the tables' GIN pending lists into their indexes (PostgreSQL).

    GIN indexes (full-text, trigram) take new entries into a pending list (``fastupdate``) that
    every search reads in full until a vacuum merges it: after importing 100,000 accounts, a
    rare-term search spent 12 ms in that list instead of 0.1 ms in the index, until autovacuum
    came by. ``gin_clean_pending_list`` merges it now, in seconds. A no-op elsewhere.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in model_list]
    try:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(
                "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
                " JOIN pg_class t ON t.oid = i.indrelid"
                " WHERE am.amname = 'gin' AND t.relname = ANY(%s)",
                [tables],
            )
    except DatabaseError as error:
        # Only the indexes' owner (or a superuser) may merge: a role that uses the tables
        # without owning them leaves it to autovacuum; the import itself is done.
        logger.warning("search index pending lists not merged: %s", error)


@contextmanager
def indexes_built_after(
    *model_list: type[models.Model],
    using: str = "default",
    progress: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Load big tables without indexes: PostgreSQL builds them once, after the rows are in.

    On PostgreSQL, drops the tables' secondary indexes (not primary keys nor unique ones) and
    their foreign keys, and on exit creates them again from their saved definitions: sorting
    once is several times faster than updating every index for every row, and the foreign keys
    are checked with one join each instead of one lookup per row. Must run inside a transaction:
    DDL is transactional there, so a failure or an interruption at any point leaves the schema
    exactly as it was. A no-op on other databases.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("indexes_built_after() must run inside a transaction")
    tables = [model._meta.db_table for model in model_list]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT quote_ident(ns.nspname) || '.' || quote_ident(ci.relname),
                   pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            JOIN pg_class ci ON ci.oid = i.indexrelid
            JOIN pg_class c ON c.oid = i.indrelid
            JOIN pg_namespace ns ON ns.oid = ci.relnamespace
            WHERE c.relname = ANY(%s) AND pg_table_is_visible(c.oid)
              AND NOT i.indisprimary AND NOT i.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            ORDER BY 1
            """,
            [tables],
        )
        indexes: list[tuple[str, str]] = cursor.fetchall()
        cursor.execute(
            """
            SELECT k.conrelid::regclass::text, quote_ident(k.conname),
                   pg_get_constraintdef(k.oid)
            FROM pg_constraint k
            JOIN pg_class c ON c.oid = k.conrelid
            WHERE k.contype = 'f' AND c.relname = ANY(%s) AND pg_table_is_visible(c.oid)
            ORDER BY 1, 2
            """,
            [tables],
        )
        foreign_keys: list[tuple[str, str, str]] = cursor.fetchall()
        # Run the foreign-key checks deferred so far: a table with pending checks cannot change.
        connection.check_constraints()
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    report = progress or (lambda message: None)
    started = time.monotonic()
    # Again: a table with checks still pending (rows written meanwhile) cannot be indexed.
    connection.check_constraints()
    with connection.cursor() as cursor:
        # Room to sort in memory, for this transaction only (never less than the server's).
        cursor.execute(
            "SELECT set_config('maintenance_work_mem', '524288kB', true) FROM pg_settings"
            " WHERE name = 'maintenance_work_mem' AND setting::bigint < 524288"
        )
        for _name, definition in indexes:
            cursor.execute(definition)
        report(f"  indexes: {len(indexes)} built in {time.monotonic() - started:.1f}s")
        started = time.monotonic()
        connection.check_constraints()
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        report(f"  foreign keys: {len(foreign_keys)} checked in {time.monotonic() - started:.1f}s")


# --- live records: the import engine -------------------------------------------------------

_PLAIN_VALUES = (str, int, bool, type(None))
_JSON = DjangoJSONEncoder()  # what a JSONField writes (``json.dumps(value, cls=…)``), reused
_FACTORIES: dict[type[models.Model], Callable[..., Any]] = {}


def new(model: type[M], **values: Any) -> M:
    """An unsaved ``model`` instance with its defaults and ``values`` (by attname, e.g.
    ``owner_id``): what ``model(**values)`` gives, through a cached :func:`instance_factory`."""
    factory = _FACTORIES.get(model)
    if factory is None:
        factory = _FACTORIES[model] = instance_factory(model)
    instance: M = factory(**values)
    return instance


class RowValues:
    """Turns live instances into the value lists ``COPY`` writes for ``fields``.

    Most columns are taken from the instance as they are; only the few that need it go
    through their field: subclasses of text fields holding objects (phone numbers; imported ones
    carry their stored text as ``_cartera_db_value``), date-times that are naive or filled by
    ``auto_now``, and JSON.
    """

    def __init__(self, fields: list[models.Field[Any, Any]]) -> None:
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
            elif not (isinstance(value, datetime.datetime) and value.tzinfo is not None):
                row[index] = field.get_db_prep_save(value, connection)
        for index in self.json:
            value = row[index]
            if value is not None:
                row[index] = _JSON.encode(value)
        for index, field in self.other:
            value = row[index]
            if value is not None:
                row[index] = field.get_db_prep_save(value, connection)
        return row


def _copy_rows(copy: Any, rows: Iterable[list[Any]]) -> None:
    """Send ``rows`` to a ``COPY … FROM STDIN`` as text, several times faster than
    ``write_row()``; a row with a value :func:`copy_text` cannot write goes through the driver."""
    chunk: list[str] = []
    for row in rows:
        try:
            chunk.append(copy_text(row))
        except TypeError:
            copy.write("".join(chunk))
            chunk = []
            copy.write_row(row)
    copy.write("".join(chunk))


def insert(model: type[models.Model], records: list[Any]) -> None:
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
        fields = insertable_fields(model)
        rows = RowValues(fields)
        columns = ", ".join(quote(field.column) for field in fields)
        sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            _copy_rows(copy, map(rows, records))
    for record in records:
        record._state.adding = False
        record._state.db = connection.alias


def update(model: type[models.Model], records: list[Any], names: list[str]) -> None:
    """UPDATE the columns of fields ``names`` of ``records`` (one statement per batch)."""
    if not records or not names:
        return
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    concrete = [
        field
        for field in (meta.get_field(name) for name in names)
        if isinstance(field, models.Field) and field.column
    ]
    if connection.vendor != "postgresql":
        # One prepared statement run per row: ``bulk_update``'s CASE … WHEN per column grows
        # with the square of the batch.
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in concrete)
        sql = f"UPDATE {table} SET {assignments} WHERE {quote(pk.column)} = %s"  # noqa: S608
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
    temporary = quote(f"cartera_bulk_{meta.db_table}")
    columns = [quote(pk.column)] + [quote(field.column) for field in concrete]
    rows = RowValues([pk, *concrete])
    assignments = ", ".join(
        f"{quote(field.column)} = source.{quote(field.column)}" for field in concrete
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temporary} ON COMMIT DROP AS "  # noqa: S608 (quoted names)
            f"SELECT {', '.join(columns)} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {temporary} ({', '.join(columns)}) FROM STDIN") as copy:
            _copy_rows(copy, map(rows, records))
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM {temporary} AS source "  # noqa: S608
            f"WHERE {table}.{quote(pk.column)} = source.{quote(pk.column)}"
        )
        cursor.execute(f"DROP TABLE {temporary}")
