"""The import engine: rows in, records upserted in batches, every row accounted for.

A job's rows are read as a stream and handled ``BATCH_SIZE`` at a time:

1. **convert** (no database): each mapped, non-empty cell goes through its field's converter;
   a cell that fails rejects its row with the column and the reason.
2. **match** (one query per key per batch): existing records are looked up by each key of the
   job's match order (external id, tax id, website domain, email, name…) among the records not in
   the trash; a match the actor may not change rejects the row; a key seen earlier in the file
   resolves to the record that row created or updated, never to a duplicate.
3. **apply**: only mapped non-empty cells change a record; equal values leave it "unchanged" (no
   write, no audit entry).
4. **write** (one transaction per batch): ``bulk_create`` / ``bulk_update``, derived columns via
   ``refresh_search_fields()``, audit entries in bulk (bulk writes skip auditlog's signals), the
   rejected rows' issues, and the job's counters and checkpoint, so a crash or kill leaves no
   half-written row and a resume continues after the last committed batch.

References to rows later in the file (a parent account below its children) are kept as
``ImportDeferredLink`` rows and resolved in a second pass after the last batch.

A dry run goes through the same steps without writing: records "created" by earlier rows are kept
in memory so later rows see them as a real run would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import multiprocessing
import pickle
import queue
import threading
import time
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import phonenumbers
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db import connections as db_connections
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cartera.accounts.models import (
    Account,
    AccountStatus,
    AccountTeamMember,
    tax_id_key,
    website_domain,
)
from cartera.activities.models import Interaction, InteractionKind
from cartera.contacts.models import Contact, ContactAccount
from cartera.core import bulk
from cartera.core.text import normalize
from cartera.users.access import assignable_users, scope_user_ids
from cartera.users.models import User

from . import mapping as mp
from .models import (
    ImportDeferredLink,
    ImportJob,
    ImportKind,
    ImportRowIssue,
    ImportStatus,
    IssueSeverity,
)
from .readers import Table, TableError, open_table

mp_start_methods = multiprocessing.get_all_start_methods

logger = logging.getLogger(__name__)

#: Rows per batch (and per transaction).
BATCH_SIZE = 2000
#: Issues a dry run keeps (all of them are counted).
DRY_RUN_ISSUES = 100
#: Longest raw cell kept with an issue (the error CSV gives the value back).
MAX_KEPT_CELL = 100_000
#: Records a dry run remembers so later rows match them (beyond this it approximates).
DRY_RUN_MEMORY = 200_000

CREATED, UPDATED, UNCHANGED, REJECTED = "created", "updated", "unchanged", "rejected"
#: Columns the audit trail leaves out: derived, bookkeeping.
_UNAUDITED = {"id", "search_text", "name_key", "domain", "tax_id_key", "version", "updated_at"}


_DONE = object()
#: The end of a forked reader's batches (objects do not keep their identity through a pipe).
_DONE_MARK = "cartera-import-done"
#: Files of at least this many rows (by the estimate) are read and converted in a child process;
#: ``None``: never. Off by default: on the 2-core machine measured, passing the converted rows
#: between processes cost more CPU than the second core saved (docs/performance.md).
CONVERT_PROCESS_MIN_ROWS: int | None = None


class Stopped(Exception):
    """The job was cancelled, or another run took it over: stop after this batch."""


@dataclass(slots=True)
class Row:
    """One data row on its way through the engine."""

    number: int
    values: list[str]
    data: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str, str]] = field(default_factory=list)
    outcome: str = ""
    record: Any = None

    def reject(self, column: str, field_name: str, reason: str) -> None:
        """Leave the row out, saying which column and why."""
        self.errors.append((column, field_name, reason))

    def warn(self, column: str, field_name: str, reason: str) -> None:
        """Import the row, but say which value was left out and why."""
        self.warnings.append((column, field_name, reason))


@dataclass
class Change:
    """What a batch does to one record: created, or updated with before → after values."""

    record: Any
    created: bool
    before: dict[str, Any] = field(default_factory=dict)
    fields: set[str] = field(default_factory=set)


@dataclass
class BatchResult:
    """Counts of one batch."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0
    last_row: int = 0
    rows: int = 0


def _sanitize(value: str) -> str:
    """A raw cell as it can be stored: no NUL, no undecodable bytes, not endless."""
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "\ufffd")[:MAX_KEPT_CELL]


def _has_bad_bytes(values: list[str]) -> bool:
    """Bytes that were not valid in the file's encoding (kept as surrogates while reading)."""
    for value in values:
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def _audit_value(value: Any) -> str:
    """A value as auditlog writes it (``str()``; ``None`` as ``"None"``); phone numbers as
    stored (E.164), which costs nothing, rather than formatted for display."""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, phonenumbers.PhoneNumber):
        return mp.phone_db_value(value)
    return str(value)


def _link(contact: Contact, account: Account, *, is_primary: bool, now: Any) -> ContactAccount:
    """A new contact-account link, knowing both ends (so its name needs no query)."""
    link = bulk.new(
        ContactAccount,
        contact_id=contact.pk,
        account_id=account.pk,
        is_primary=is_primary,
        created_at=now,
    )
    link._state.fields_cache["contact"] = contact
    link._state.fields_cache["account"] = account
    return link


class Importer:
    """Runs one job (or its dry run); subclasses know their kind of record."""

    model: ClassVar[type[models.Model]]
    kind: ClassVar[str]

    def __init__(self, job: ImportJob, *, dry_run: bool) -> None:
        self.job = job
        self.dry_run = dry_run
        self.actor: User = job.user
        self.now = timezone.now()
        self.specs = mp.field_map(job.kind)
        self.match_order = list(job.match_order)
        self.width = len(job.headers)
        options = job.options or {}
        self.defaults: dict[str, str] = dict(options.get("defaults") or {})
        # (column index, header, spec, converter) of every mapped column.
        self.columns: list[tuple[int, str, mp.FieldSpec, Callable[[str], Any] | None]] = []
        index = {header: position for position, header in enumerate(job.headers)}
        for header, target in job.mapping.items():
            if target and header in index and target in self.specs:
                spec = self.specs[target]
                self.columns.append((index[header], header, spec, mp.simple_converter(spec)))
        self.columns.sort(key=lambda column: column[2].type == "phone")  # country first
        self.mapped = {spec.name for _i, _h, spec, _c in self.columns} | set(self.defaults)
        #: The column each field comes from (shared by every row, for its issues).
        self.headers_by_field = {spec.name: header for _i, header, spec, _c in self.columns}
        self.region = str(settings.PHONENUMBER_DEFAULT_REGION)
        self.tz = self._time_zone()
        self.day_first = bool(options.get("day_first", True))
        self.scope = scope_user_ids(self.actor)
        self._people: dict[str, User | None] | None = None
        self.content_types: dict[type[models.Model], ContentType] = {}
        self.token = uuid.uuid4().hex
        # Dry runs: records earlier batches would have created, by key.
        self.memory: dict[tuple[str, str], Any] = {}
        self.memory_size = 0
        self.fake_pk = 0
        self.deferred_memory: list[tuple[int, Any, str, str, str]] = []
        self.dry_issue_count = 0

    # -- helpers ---------------------------------------------------------------------------

    def _time_zone(self) -> Any:
        name = getattr(self.actor, "time_zone", "") or settings.TIME_ZONE
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    def content_type(self, model: type[models.Model]) -> ContentType:
        """The content type of ``model`` (cached for the run)."""
        if model not in self.content_types:
            self.content_types[model] = ContentType.objects.get_for_model(model)
        return self.content_types[model]

    def people(self) -> dict[str, User | None]:
        """People the actor may assign, by lower-case email and by normalised name
        (``None`` when two people share a name)."""
        if self._people is None:
            found: dict[str, User | None] = {}
            candidates = assignable_users(self.actor)
            if self.actor.can_write and self.actor not in candidates:
                candidates.append(self.actor)
            for person in candidates:
                found[person.email.lower()] = person
                key = normalize(person.full_name)
                if key:
                    found[key] = None if key in found and found[key] != person else person
            self._people = found
        return self._people

    def person(self, text: str) -> User | None:
        """The person ``text`` names (email or full name) among those the actor may assign."""
        people = self.people()
        return people.get(text.strip().lower()) or people.get(normalize(text))

    def pk_for(self, record: Any) -> Any:
        """A record's primary key; dry runs give new records a negative one."""
        if record.pk is None and self.dry_run:
            self.fake_pk -= 1
            record.pk = self.fake_pk
        return record.pk

    # -- conversion ------------------------------------------------------------------------

    def convert(self, number: int, values: list[str]) -> Row:
        """A row's mapped cells as values, or the row's errors."""
        row = Row(number=number, values=values, columns=self.headers_by_field)
        width = self.width
        if len(values) != width:
            if len(values) < width:
                row.reject(
                    "",
                    "",
                    _("This row has %(count)s values but the file has %(width)s columns.")
                    % {"count": len(values), "width": width},
                )
                return row
            if any(value.strip() for value in values[width:]):
                row.reject(
                    "",
                    "",
                    _("This row has %(count)s values but the file has %(width)s columns.")
                    % {"count": len(values), "width": width},
                )
                return row
        if _has_bad_bytes(values):
            row.reject(
                "",
                "",
                _("This row has characters that are not valid %(encoding)s text.")
                % {"encoding": self.job.encoding or "UTF-8"},
            )
            return row
        data = row.data
        for index, header, spec, converter in self.columns:
            raw = values[index]
            if not raw or raw.isspace():
                continue
            try:
                if converter is not None:
                    data[spec.name] = converter(raw)
                else:
                    self.convert_special(row, spec, raw)
            except mp.ConversionError as error:
                row.reject(header, spec.name, str(error))
            except Exception:  # a converter bug must not stop the other rows
                logger.exception("import %s row %s column %s", self.job.pk, number, header)
                row.reject(header, spec.name, _("This value could not be read."))
        for name, text in self.defaults.items():
            if name not in data:
                spec = self.specs[name]
                converter = mp.simple_converter(spec)
                try:
                    if converter is not None:
                        data[name] = converter(text)
                    else:
                        self.convert_special(row, spec, text)
                except mp.ConversionError as error:
                    row.reject("", name, str(error))
        return row

    def convert_special(self, row: Row, spec: mp.FieldSpec, raw: str) -> None:
        """Cells whose conversion needs more than the text."""
        kind = spec.type
        data = row.data
        if kind == "phone":
            number, valid = mp.to_phone(raw, data.get("country") or self.region)
            data[spec.name] = number
            if not valid:
                row.warn(
                    row.columns.get(spec.name, ""),
                    spec.name,
                    _("Not a valid phone number for its country; kept as written."),
                )
        elif kind in {"money", "money_millions"}:
            amount, currency = mp.to_money(raw, 10**6 if kind == "money_millions" else 1)
            data[spec.name] = amount
            if currency:
                data["_currency"] = currency
        elif kind == "datetime":
            data[spec.name] = mp.to_datetime(raw, day_first=self.day_first, tz=self.tz)
        elif kind == "full_name":
            text = mp.clean_text(raw, spec.max_length)
            data[spec.name] = mp.split_full_name(text)
        else:  # references: resolved per batch
            data[spec.name] = mp.clean_text(raw, 300)

    # -- the run ---------------------------------------------------------------------------

    def run(
        self,
        table: Table,
        *,
        max_rows: int | None = None,
        progress: Callable[[ImportJob], None] | None = None,
    ) -> None:
        """Every batch of the table after the job's checkpoint, then the second pass."""
        job = self.job
        start_after = 0 if self.dry_run else job.checkpoint_row
        began = time.monotonic()
        seen = 0
        totals = BatchResult()
        for rows in self.converted_batches(table, start_after, max_rows):
            result = self.handle_batch(rows)
            seen += result.rows
            elapsed = max(time.monotonic() - began, 1e-6)
            if self.dry_run:
                for name in ("created", "updated", "unchanged", "rejected", "warnings", "rows"):
                    setattr(totals, name, getattr(totals, name) + getattr(result, name))
                totals.last_row = result.last_row
            else:
                job.refresh_from_db()
            if progress is not None:
                if self.dry_run:
                    job.processed_rows = totals.rows
                job.rows_per_second = seen / elapsed
                progress(job)
        if self.dry_run:
            self.finish_dry_run(totals, complete=max_rows is None or totals.rows < max_rows)
        else:
            self.second_pass()
            self.finish(seen, time.monotonic() - began)
            # Searches read the new rows from the full-text/trigram indexes, not a pending list.
            bulk.settle_search_indexes(self.model)

    def converted_batches(
        self, table: Table, start_after: int, max_rows: int | None
    ) -> Iterator[list[Row]]:
        """The file's rows read and converted, a batch at a time, beside the database work.

        Reading and converting need no database. They run in a second thread, which goes on
        while this thread waits for the database; or, for files of ``CONVERT_PROCESS_MIN_ROWS``
        rows or more when that is set, in a child process (forked, so it has this importer as it
        is: columns, converters, subclasses' hooks), a second core working while this one matches
        and writes.
        """
        expected = min(self.job.total_rows or 0, max_rows or 2**62)
        if (
            CONVERT_PROCESS_MIN_ROWS is not None
            and expected >= CONVERT_PROCESS_MIN_ROWS
            and "fork" in mp_start_methods()
            and not multiprocessing.current_process().daemon  # (those may not have children)
        ):
            yield from self._converted_in_process(table, start_after, max_rows)
            return
        batches: queue.Queue[Any] = queue.Queue(maxsize=2)
        stop = threading.Event()
        language = self.job.language or settings.LANGUAGE_CODE

        def produce() -> None:
            try:
                with translation.override(language):
                    for batch in _batches(table.rows(start_after), BATCH_SIZE, max_rows):
                        rows = [self.convert(number, values) for number, values in batch]
                        while not stop.is_set():
                            try:
                                batches.put(rows, timeout=0.5)
                                break
                            except queue.Full:
                                continue
                        if stop.is_set():
                            return
                batches.put(_DONE)
            except BaseException as error:  # handed to the consuming thread
                batches.put(error)

        worker = threading.Thread(target=produce, name=f"import-{self.job.pk}-reader", daemon=True)
        worker.start()
        try:
            while True:
                item = batches.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while worker.is_alive():
                with contextlib.suppress(queue.Empty):
                    batches.get(timeout=0.1)
            worker.join()

    def _converted_in_process(
        self, table: Table, start_after: int, max_rows: int | None
    ) -> Iterator[list[Row]]:
        """``converted_batches()`` with the reading and converting in a forked child."""
        context = multiprocessing.get_context("fork")
        batches: Any = context.Queue(maxsize=2)
        language = self.job.language or settings.LANGUAGE_CODE
        child = context.Process(
            target=_convert_in_child,
            args=(self, table, start_after, max_rows, language, batches),
            name=f"import-{self.job.pk}-reader",
            daemon=True,
        )
        child.start()
        try:
            while True:
                try:
                    item = batches.get(timeout=1.0)
                except queue.Empty:
                    if not child.is_alive():
                        raise RuntimeError(
                            _("The process reading the file stopped (exit code %(code)s).")
                            % {"code": child.exitcode}
                        ) from None
                    continue
                if item == _DONE_MARK:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if child.is_alive():
                child.terminate()
            child.join()
            batches.close()

    def handle_batch(self, rows: list[Row]) -> BatchResult:
        """Match, apply and (unless dry) write one batch in one transaction."""
        if self.dry_run:
            with transaction.atomic():
                _batch_settings(dry_run=True)
                return self.process(rows)
        with transaction.atomic():
            _batch_settings()
            claimed = ImportJob.objects.filter(
                pk=self.job.pk,
                run_token=self.token,
                status=ImportStatus.RUNNING,
                checkpoint_row=self.job.checkpoint_row,
            ).update(heartbeat_at=timezone.now())
            if not claimed:
                raise Stopped()
            result = self.process(rows)
            self.commit_batch(result)
        return result

    def commit_batch(self, result: BatchResult) -> None:
        """Write the batch's counters and checkpoint (in the batch's transaction)."""
        job = self.job
        done_here = job.processed_rows + result.rows - self.first_processed
        elapsed = max(time.monotonic() - self.began, 1e-6)
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=models.F("processed_rows") + result.rows,
            created_count=models.F("created_count") + result.created,
            updated_count=models.F("updated_count") + result.updated,
            unchanged_count=models.F("unchanged_count") + result.unchanged,
            rejected_count=models.F("rejected_count") + result.rejected,
            warning_count=models.F("warning_count") + result.warnings,
            checkpoint_row=result.last_row,
            rows_per_second=done_here / elapsed,
            heartbeat_at=timezone.now(),
            updated_at=timezone.now(),
        )

    began = 0.0
    first_processed = 0

    def process(self, rows: list[Row]) -> BatchResult:
        """The batch's rows matched, applied and written; returns its counts."""
        result = BatchResult(rows=len(rows), last_row=rows[-1].number if rows else 0)
        valid = [row for row in rows if not row.errors]
        self.deferred = []
        if valid:
            changes = self.apply_rows(valid)
            if not self.dry_run:
                self.write(changes, valid)
            self.save_deferred()
        issues: list[ImportRowIssue] = []
        for row in rows:
            if row.errors:
                row.outcome = REJECTED
            outcome = row.outcome or UNCHANGED
            if outcome == CREATED:
                result.created += 1
            elif outcome == UPDATED:
                result.updated += 1
            elif outcome == UNCHANGED:
                result.unchanged += 1
            else:
                result.rejected += 1
            if row.warnings and outcome != REJECTED:
                result.warnings += 1
            problems = [(IssueSeverity.ERROR, *error) for error in row.errors]
            if outcome != REJECTED:
                problems += [(IssueSeverity.WARNING, *warning) for warning in row.warnings]
            if problems:
                kept = [_sanitize(value) for value in row.values]
                for severity, column, field_name, reason in problems:
                    issues.append(
                        ImportRowIssue(
                            job_id=self.job.pk,
                            dry_run=self.dry_run,
                            severity=severity,
                            row_number=row.number,
                            column=column[:255],
                            field=field_name[:50],
                            reason=reason,
                            values=kept,
                        )
                    )
        if self.dry_run:
            room = DRY_RUN_ISSUES - self.dry_issue_count
            if room > 0 and issues:
                bulk.insert(ImportRowIssue, issues[:room])
                self.dry_issue_count += min(room, len(issues))
        elif issues:
            bulk.insert(ImportRowIssue, issues)
        return result

    # -- matching --------------------------------------------------------------------------

    def key_values(self, row: Row) -> dict[str, str]:
        """The row's value for each match key it has (normalised as the column stores it)."""
        raise NotImplementedError

    def lookup(self, key: str, values: set[str]) -> dict[str, list[Any]]:
        """Existing records by key value (alive ones), one query."""
        raise NotImplementedError

    def writable_ids(self, ids: set[int]) -> set[int]:
        """Which of ``ids`` the actor may change: those the model's ``visible_to`` rule shows
        them (kinds without such a rule override this)."""
        if self.scope is None:
            return set(ids)
        visible = self.model._default_manager.visible_to(self.actor)  # type: ignore[attr-defined]
        return set(visible.filter(pk__in=ids).values_list("pk", flat=True))

    def match(self, rows: list[Row]) -> None:
        """Look up the existing records the batch's rows may match: one query per key.

        ``find()`` then picks each row's record in match order.
        """
        keys_by_row = [self.key_values(row) for row in rows]
        unresolved = list(range(len(rows)))
        found: dict[str, dict[str, list[Any]]] = {}
        canonical: dict[int, Any] = {}  # one instance per row, whichever key found it
        for key in self.match_order:
            # Only rows no earlier key matched are looked up by the next one.
            wanted = {keys_by_row[i][key] for i in unresolved if key in keys_by_row[i]}
            if not wanted:
                continue
            hits = {
                value: [canonical.setdefault(record.pk, record) for record in records]
                for value, records in self.lookup(key, wanted).items()
            }
            found[key] = hits
            unresolved = [i for i in unresolved if keys_by_row[i].get(key) not in hits]
        self.row_keys = keys_by_row
        self.found = found
        self.writable = self.writable_ids(set(canonical)) if canonical else set()

    def find(self, position: int, row: Row, pending: dict[tuple[str, str], Any]) -> Any:
        """The record row ``position`` updates: one this batch already touched, an existing
        one, one an earlier batch of a dry run created, or ``None`` (create)."""
        keys = self.row_keys[position]
        for key in self.match_order:
            value = keys.get(key)
            if not value:
                continue
            earlier = pending.get((key, value))
            if earlier is None and self.dry_run:
                earlier = self.memory.get((key, value))
            if earlier is not None:
                if self.conflicts(keys, earlier, key):
                    continue
                return earlier
            records = self.found.get(key, {}).get(value)
            if not records:
                continue
            if len(records) == 1 and self.conflicts(keys, records[0], key):
                continue
            if len(records) > 1:
                row.reject(
                    row.columns.get(self.key_column(key), ""),
                    self.key_column(key),
                    _(
                        "%(count)s existing records have this %(key)s; add a more specific "
                        "column (e.g. the external id) to tell them apart."
                    )
                    % {"count": len(records), "key": str(mp.MATCH_KEY_LABELS[key]).lower()},
                )
                return None
            record = records[0]
            if record.pk not in self.writable:
                row.reject(
                    row.columns.get(self.key_column(key), ""),
                    self.key_column(key),
                    self.not_writable_reason(key),
                )
                return None
            return record
        return None

    #: Keys that identify a record for sure: a match by another key is not taken when the row
    #: and the record both have one of these and they differ (two companies called "Acme").
    strong_keys: ClassVar[tuple[str, ...]] = ("external_id",)

    def conflicts(self, keys: dict[str, str], record: Any, matched_by: str) -> bool:
        """Whether ``record`` (found by ``matched_by``) has a different strong key than the row."""
        theirs = self.record_keys(record)
        for key in self.strong_keys:
            if key != matched_by and keys.get(key) and theirs.get(key) and keys[key] != theirs[key]:
                return True
        return False

    def key_column(self, key: str) -> str:
        """The mapped field a match key comes from."""
        fields = mp.MATCH_KEY_FIELDS[self.kind][key]
        for name in fields:
            if name in self.mapped:
                return name
        return fields[0]

    def not_writable_reason(self, key: str) -> str:
        """Why a matched record cannot be updated."""
        return _(
            "An existing record with this %(key)s belongs to someone else's book; you cannot "
            "change it."
        ) % {"key": str(mp.MATCH_KEY_LABELS[key]).lower()}

    def remember(self, record: Any, pending: dict[tuple[str, str], Any]) -> None:
        """Index ``record`` by its keys for the rest of the batch (and of a dry run)."""
        for key, value in self.record_keys(record).items():
            if value:
                pending[(key, value)] = record
                if self.dry_run and self.memory_size < DRY_RUN_MEMORY:
                    self.memory[(key, value)] = record
        if self.dry_run:
            self.memory_size += 1

    def record_keys(self, record: Any) -> dict[str, str]:
        """A record's values for each match key."""
        raise NotImplementedError

    # -- applying --------------------------------------------------------------------------

    def apply_rows(self, rows: list[Row]) -> list[Change]:
        """Each valid row applied to its record (new or existing); returns what changed."""
        raise NotImplementedError

    def set_fields(
        self, record: Any, values: dict[str, Any], change: Change | None, *, creating: bool
    ) -> bool:
        """Put ``values`` (attribute → value) on ``record``; note before → after; True if any
        value differs."""
        changed = False
        state = record.__dict__
        for attribute, value in values.items():
            current = state.get(attribute)
            if _same(current, value):
                continue
            if change is not None and attribute not in change.before and not creating:
                change.before[attribute] = current
            setattr(record, attribute, value)
            if change is not None:
                change.fields.add(attribute)
            changed = True
        return changed

    # -- writing ---------------------------------------------------------------------------

    def write(self, changes: list[Change], rows: list[Row]) -> None:
        """Insert and update the batch's records, with their audit entries."""
        raise NotImplementedError

    def bulk_insert(self, model: type[models.Model], records: list[Any]) -> None:
        """INSERT ``records`` (their primary keys are set afterwards)."""
        bulk.insert(model, records)

    def bulk_save(self, model: type[models.Model], changes: list[Change]) -> None:
        """UPDATE the changed columns of ``changes``' records, bumping their version."""
        if not changes:
            return
        fields: set[str] = set()
        derived = hasattr(model, "refresh_search_fields")  # refreshed when the row was applied
        for change in changes:
            record = change.record
            record.version = (record.version or 0) + 1
            record.updated_at = self.now
            fields |= change.fields
        if derived:
            fields |= _derived_fields(model)
        fields |= {"version", "updated_at"}
        names = sorted(_field_names(model).get(name, name) for name in fields)
        bulk.update(model, [change.record for change in changes], names)

    def audit(self, changes: Iterable[Change], model: type[models.Model]) -> list[LogEntry]:
        """Audit entries of ``changes`` as auditlog would write them, attributed to the actor."""
        excluded = set(auditlog.get_model_fields(model)["exclude_fields"]) | _UNAUDITED
        content_type = self.content_type(model)
        entries: list[LogEntry] = []
        audited = [
            (f.attname, f.name) for f in model._meta.concrete_fields if f.name not in excluded
        ]
        for change in changes:
            record = change.record
            state = record.__dict__
            diff: dict[str, list[str]] = {}
            if change.created:
                for attname, name in audited:
                    value = state.get(attname)
                    if value is None or value == "":
                        continue
                    diff[name] = ["None", value if type(value) is str else _audit_value(value)]
                action = LogEntry.Action.CREATE
            else:
                names = _field_names(model)
                for attribute, before in change.before.items():
                    name = names.get(attribute, attribute)
                    if name in excluded:
                        continue
                    diff[name] = [_audit_value(before), _audit_value(state.get(attribute))]
                if not diff:
                    continue
                action = LogEntry.Action.UPDATE
            extra: dict[str, Any] = {"import_job": self.job.pk}
            if hasattr(record, "get_additional_data"):
                extra = {**record.get_additional_data(), **extra}
            entries.append(
                bulk.new(
                    LogEntry,
                    content_type_id=content_type.pk,
                    object_pk=str(record.pk),
                    object_id=record.pk,
                    object_repr=str(record)[:2000],
                    action=action,
                    changes=diff,
                    changes_text="",
                    actor_id=self.actor.pk,
                    actor_email=self.actor.email,
                    timestamp=self.now,
                    additional_data=extra,
                )
            )
        return entries

    def write_audit(self, entries: list[LogEntry]) -> None:
        """Insert audit entries in bulk."""
        bulk.insert(LogEntry, entries)

    # -- references to later rows ----------------------------------------------------------

    def defer(self, row: Row, record: Any, field_name: str, value: str) -> None:
        """Resolve ``field_name`` = ``value`` of ``record`` after the last batch."""
        self.deferred.append(
            (row.number, record, field_name, row.columns.get(field_name, ""), value)
        )

    deferred: list[tuple[int, Any, str, str, str]]

    def save_deferred(self) -> None:
        """Keep this batch's deferred references (with the records' new keys)."""
        if self.dry_run:
            self.deferred_memory.extend(self.deferred)
            return
        links = [
            ImportDeferredLink(
                job_id=self.job.pk,
                row_number=number,
                object_id=record.pk,
                field=field_name,
                column=column[:255],
                value=value[:300],
            )
            for number, record, field_name, column, value in self.deferred
        ]
        if links:
            bulk.insert(ImportDeferredLink, links)

    def second_pass(self) -> None:
        """Resolve the references rows made to rows later in the file."""

    def second_pass_dry(self) -> int:
        """Warnings the second pass would give in a dry run."""
        return 0

    # -- finishing -------------------------------------------------------------------------

    def finish(self, seen: int, seconds: float) -> None:
        """Mark the job done, with its exact row count and speed."""
        job = self.job
        job.refresh_from_db()
        total_seconds = job.run_seconds + seconds
        ImportJob.objects.filter(
            pk=job.pk, run_token=self.token, status=ImportStatus.RUNNING
        ).update(
            status=ImportStatus.DONE,
            finished_at=timezone.now(),
            total_rows=job.processed_rows,
            total_is_exact=True,
            run_seconds=total_seconds,
            rows_per_second=(job.processed_rows / total_seconds) if total_seconds else 0,
            updated_at=timezone.now(),
        )

    def finish_dry_run(self, totals: BatchResult, *, complete: bool) -> None:
        """Store the dry run's counts on the job (→ "checked")."""
        warnings = totals.warnings + self.second_pass_dry()
        updates: dict[str, Any] = {
            "dry_run_at": timezone.now(),
            "dry_run_rows": totals.rows,
            "dry_run_complete": complete,
            "dry_run_created": totals.created,
            "dry_run_updated": totals.updated,
            "dry_run_unchanged": totals.unchanged,
            "dry_run_rejected": totals.rejected,
            "dry_run_warnings": warnings,
            "updated_at": timezone.now(),
        }
        if complete:
            updates.update(total_rows=totals.rows, total_is_exact=True)
        ImportJob.objects.filter(pk=self.job.pk).update(**updates)
        ImportJob.objects.filter(
            pk=self.job.pk, status__in=[ImportStatus.UPLOADED, ImportStatus.MAPPED]
        ).update(status=ImportStatus.CHECKED)


def _batch_settings(*, dry_run: bool = False) -> None:
    """Settings of a batch's transaction on PostgreSQL.

    ``synchronous_commit`` off (real runs) is safe: the job's checkpoint commits with the rows,
    so a batch lost in a crash before it reached the disk is simply imported again by the
    resume. (A dry run may run inside a request's transaction: it leaves that alone.) No JIT:
    the batch's queries are short, but their estimates (thousands of keys) are high enough to
    spend more time compiling them than running them.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if not dry_run:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute("SET LOCAL jit TO OFF")


def _matching(
    queryset: models.QuerySet[Any], column: str, values: Iterable[str], *, lower: bool = False
) -> models.QuerySet[Any]:
    """Rows whose ``column`` (lower-cased) is one of ``values``, non-empty.

    On PostgreSQL the values go as one array (``= ANY(%s)``) rather than thousands of
    placeholders, and the query repeats the partial index's predicate so the index is used.
    Lower-cased keys are looked up one index probe per value: PostgreSQL keeps no statistics
    for the expression of a partial index, guesses that each value matches 0.5% of the table,
    and would read the whole table for a batch's 2,000 values.
    """
    queryset = queryset.filter(~Q(**{column: ""}))
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        meta = queryset.model._meta
        table = quote(meta.db_table)
        expression = f"{table}.{quote(column)}"
        if lower:
            assert meta.pk is not None
            alive = (
                " AND probe.deleted_at IS NULL"
                if any(field.name == "deleted_at" for field in meta.concrete_fields)
                else ""
            )
            # OFFSET 0 keeps the subquery a probe per value (PostgreSQL would flatten it into
            # the same full-table join).
            key, pk = quote(column), quote(meta.pk.column)
            probe = " ".join(  # quoted identifiers; the values are a parameter
                [
                    "SELECT found.id FROM unnest(%s::text[]) AS wanted(value) CROSS JOIN LATERAL",
                    f"(SELECT probe.{pk} AS id FROM {table} AS probe",  # noqa: S608
                    f"WHERE LOWER(probe.{key}) = wanted.value",
                    f"AND NOT (probe.{key} = ''){alive} OFFSET 0) AS found",
                ]
            )
            return queryset.extra(  # noqa: S610 (quoted identifiers; the values are a parameter)
                where=[
                    f"{table}.{quote(meta.pk.column)} = ANY(ARRAY({probe}))",
                    f"LOWER({expression}) = ANY(%s)",
                ],
                params=[list(values), list(values)],
            )
        # The values are a bound parameter; the names are quoted identifiers of our own.
        return queryset.extra(where=[f"{expression} = ANY(%s)"], params=[list(values)])  # noqa: S610
    if lower:
        return queryset.annotate(match_key=Lower(column)).filter(match_key__in=list(values))
    return queryset.filter(**{f"{column}__in": list(values)})


def _derived_fields(model: type[models.Model]) -> set[str]:
    if model is Account:
        from cartera.accounts.models import DERIVED_FIELDS

        return set(DERIVED_FIELDS)
    if model is Contact:
        return {"name_key", "search_text"}
    return set()


_FIELD_NAMES: dict[type[models.Model], dict[str, str]] = {}


def _field_names(model: type[models.Model]) -> dict[str, str]:
    """Attribute → field name (``owner_id`` → ``owner``; ``tax_id`` stays ``tax_id``)."""
    if model not in _FIELD_NAMES:
        _FIELD_NAMES[model] = {f.attname: f.name for f in model._meta.concrete_fields}
    return _FIELD_NAMES[model]


def _same(current: Any, new: Any) -> bool:
    """Whether a stored value and an imported one are the same (phones by their E.164 form)."""
    if current is None or current == "":
        return new is None or new == ""
    if isinstance(new, phonenumbers.PhoneNumber) or isinstance(current, phonenumbers.PhoneNumber):
        return mp.phone_db_value(current) == mp.phone_db_value(new)
    if isinstance(new, Decimal) and current is not None:
        try:
            return Decimal(current) == new
        except Exception:
            return False
    return bool(current == new)


def _batches(
    rows: Iterator[tuple[int, list[str]]], size: int, max_rows: int | None
) -> Iterator[list[tuple[int, list[str]]]]:
    batch: list[tuple[int, list[str]]] = []
    for count, item in enumerate(rows, start=1):
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
        if max_rows is not None and count >= max_rows:
            break
    if batch:
        yield batch


# --- accounts ---------------------------------------------------------------------------------

_ACCOUNT_ATTRIBUTES = {spec.name: spec.attribute for spec in mp.ACCOUNT_FIELDS if spec.attribute}
_CONTACT_COLUMNS = (
    "contact_name",
    "contact_first_name",
    "contact_last_name",
    "contact_title",
    "contact_email",
    "contact_phone",
    "contact_mobile",
)


class AccountImporter(Importer):
    """Accounts, their parent accounts and (from contact columns) their primary contact."""

    model = Account
    kind = ImportKind.ACCOUNTS
    strong_keys = ("external_id", "tax_id")

    def __init__(self, job: ImportJob, *, dry_run: bool) -> None:
        super().__init__(job, dry_run=dry_run)
        self.owner = job.default_owner or self.actor
        self.contact_columns = self.mapped & set(_CONTACT_COLUMNS)

    def key_values(self, row: Row) -> dict[str, str]:
        data = row.data
        keys: dict[str, str] = {}
        if data.get("external_id"):
            keys["external_id"] = data["external_id"]
        if data.get("tax_id"):
            keys["tax_id"] = tax_id_key(data["tax_id"])
        if data.get("website"):
            keys["domain"] = website_domain(data["website"])
        if data.get("email"):
            keys["email"] = data["email"].lower()
        if data.get("name"):
            keys["name"] = mp.fast_normalize(data["name"])[:200]
        return {key: value for key, value in keys.items() if value}

    def record_keys(self, record: Any) -> dict[str, str]:
        return {
            "external_id": record.external_id,
            "tax_id": record.tax_id_key,
            "domain": record.domain,
            "email": (record.email or "").lower(),
            "name": record.name_key,
        }

    def lookup(self, key: str, values: set[str]) -> dict[str, list[Any]]:
        column = {"tax_id": "tax_id_key", "name": "name_key"}.get(key, key)
        queryset = _matching(
            Account.objects.filter(deleted_at=None), column, values, lower=key == "email"
        )
        if connection.features.has_select_for_update and not self.dry_run:
            queryset = queryset.select_for_update()
        found: dict[str, list[Any]] = defaultdict(list)
        for record in queryset.only(*self.load_fields()).order_by("pk"):
            value = getattr(record, column)
            found[value.lower() if key == "email" else value].append(record)
        return found

    def load_fields(self) -> set[str]:
        """Columns an existing account is read with: its keys, what the search columns are
        computed from, and the mapped ones (not the long description unless mapped)."""
        fields = {
            "id", "version", "name", "name_key", "external_id", "legal_name", "tax_id",
            "tax_id_key", "website", "domain", "email", "city", "owner", "parent", "status",
            "deleted_at", "search_text",
        }  # fmt: skip
        for name in self.mapped:
            attribute = _ACCOUNT_ATTRIBUTES.get(name)
            if attribute:
                fields.add(attribute)
        if fields & {"annual_revenue"}:
            fields.add("currency")
        return fields

    def not_writable_reason(self, key: str) -> str:
        return _(
            "An existing account with this %(key)s belongs to someone else's book; you cannot "
            "change it."
        ) % {"key": str(mp.MATCH_KEY_LABELS[key]).lower()}

    def apply_rows(self, rows: list[Row]) -> list[Change]:
        self.match(rows)
        self.deferred = []
        parents = self.lookup_parents(rows) if "parent" in self.mapped else {}
        pending: dict[tuple[str, str], Any] = {}
        changes: dict[int, Change] = {}
        status_changes: list[tuple[Account, str, str]] = []
        parent_links: list[tuple[Row, Any, Any]] = []
        for position, row in enumerate(rows):
            record = self.find(position, row, pending)
            if row.errors:
                continue
            values = self.account_values(row)
            if row.errors:
                continue
            creating = record is None
            if creating:
                if not row.data.get("name"):
                    row.reject(
                        row.columns.get("name", ""), "name", _("The account's name is empty.")
                    )
                    continue
                record = bulk.new(
                    Account,
                    owner_id=self.owner.pk,
                    created_by_id=self.actor.pk,
                    created_at=self.now,
                )
                change = Change(record=record, created=True)
                changes[id(record)] = change
                self.set_fields(record, values, change, creating=True)
                row.outcome = CREATED
            else:
                change = changes.get(id(record)) or Change(
                    record=record, created=record.pk is None or record.pk < 0
                )
                old_status = record.status
                if self.set_fields(record, values, change, creating=change.created):
                    changes[id(record)] = change
                    row.outcome = UPDATED
                    if not change.created and old_status != record.status:
                        status_changes.append((record, old_status, record.status))
                else:
                    row.outcome = UNCHANGED
            if row.outcome != UNCHANGED:
                record.refresh_search_fields()
            row.record = record
            if "parent" in row.data:
                parent_links.append((row, record, parents.get(row.data["parent"])))
            self.remember(record, pending)
        for row, record, parent in parent_links:
            self.link_parent(row, record, parent, pending, changes)
        result = list(changes.values())
        self.status_changes = status_changes
        if self.contact_columns:
            self.contact_changes = self.apply_contacts(rows, changes)
        else:
            self.contact_changes = []
        if self.dry_run:
            for change in result:
                self.pk_for(change.record)
            for change in self.contact_changes:
                self.pk_for(change.record)
        return result

    def account_values(self, row: Row) -> dict[str, Any]:
        """Attribute → value of the account's own columns in ``row``."""
        data = row.data
        values: dict[str, Any] = {}
        for name, value in data.items():
            attribute = _ACCOUNT_ATTRIBUTES.get(name)
            if attribute:
                values[attribute] = value
        if "_currency" in data and "currency" not in data:
            values["currency"] = data["_currency"]
        if "owner" in data:
            person = self.person(data["owner"])
            if person is None:
                row.reject(
                    row.columns.get("owner", ""),
                    "owner",
                    _("No active person you may assign accounts to is called %(name)s.")
                    % {"name": data["owner"]},
                )
            else:
                values["owner_id"] = person.pk
        return values

    def lookup_parents(self, rows: list[Row]) -> dict[str, Any]:
        """Parent references of the batch → the one visible account they name (or None when
        none or several do), by external id, then by name."""
        refs = {row.data["parent"] for row in rows if row.data.get("parent") and not row.errors}
        if not refs:
            return {}
        visible = (
            Account.objects.visible_to(self.actor)
            .filter(deleted_at=None)
            .only("pk", "name", "external_id", "name_key", "parent")
        )
        by_external: dict[str, list[Account]] = defaultdict(list)
        for account in visible.filter(~Q(external_id=""), external_id__in=refs):
            by_external[account.external_id].append(account)
        names = {normalize(ref)[:200]: ref for ref in refs}
        by_name: dict[str, list[Account]] = defaultdict(list)
        for account in visible.filter(name_key__in=list(names)):
            by_name[account.name_key].append(account)
        found: dict[str, Any] = {}
        for ref in refs:
            matches = by_external.get(ref) or by_name.get(normalize(ref)[:200]) or []
            found[ref] = matches[0] if len(matches) == 1 else (matches or None)
        return found

    def link_parent(
        self,
        row: Row,
        record: Account,
        parent: Any,
        pending: dict[tuple[str, str], Any],
        changes: dict[int, Change],
    ) -> None:
        """Set the parent named in ``row`` (a record of this batch, an existing one, or later)."""
        ref = row.data["parent"]
        candidate = (
            pending.get(("external_id", ref))
            or pending.get(("name", normalize(ref)[:200]))
            or (self.memory.get(("external_id", ref)) if self.dry_run else None)
            or (self.memory.get(("name", normalize(ref)[:200])) if self.dry_run else None)
        )
        if candidate is None:
            if isinstance(parent, list):
                row.warn(
                    row.columns.get("parent", ""),
                    "parent",
                    _("Several accounts are called %(name)s; the parent was not set.")
                    % {"name": ref},
                )
                return
            candidate = parent
        if candidate is None:
            self.defer(row, record, "parent", ref)
            return
        self.set_parent(row, record, candidate, changes)

    def set_parent(
        self, row: Row | None, record: Account, parent: Account, changes: dict[int, Change]
    ) -> bool:
        """Make ``parent`` the parent of ``record`` unless that makes a loop; True if set."""
        if parent is record or (parent.pk is not None and parent.pk == record.pk):
            if row is not None:
                row.warn(
                    row.columns.get("parent", ""),
                    "parent",
                    _("An account cannot be its own parent or ancestor."),
                )
            return False
        if self.would_loop(record, parent):
            if row is not None:
                row.warn(
                    row.columns.get("parent", ""),
                    "parent",
                    _("An account cannot be its own parent or ancestor."),
                )
            return False
        current = getattr(record, "_import_parent", None)
        if current is parent or (parent.pk is not None and record.parent_id == parent.pk):
            return False
        change = changes.get(id(record))
        if change is None:
            change = Change(record=record, created=False)
            changes[id(record)] = change
            if row is not None and row.outcome == UNCHANGED:
                row.outcome = UPDATED
        if not change.created and "parent_id" not in change.before:
            change.before["parent_id"] = record.parent_id
        record._import_parent = parent  # type: ignore[attr-defined]
        record.parent_id = parent.pk
        change.fields.add("parent_id")
        return True

    def would_loop(self, record: Account, parent: Account) -> bool:
        """Whether ``record`` is ``parent`` or one of its ancestors."""
        node: Any = parent
        seen: set[int] = set()
        for _step in range(1000):
            if node is None:
                return False
            if node is record or (record.pk is not None and node.pk == record.pk):
                return True
            if id(node) in seen:
                return True
            seen.add(id(node))
            following = getattr(node, "_import_parent", None)
            if following is None and node.parent_id:
                following = (
                    Account.objects.filter(pk=node.parent_id).only("pk", "parent_id").first()
                )
            node = following
        return True

    def apply_contacts(self, rows: list[Row], changes: dict[int, Change]) -> list[Change]:
        """The primary contact named by contact columns, created or updated per account."""
        wanted = [row for row in rows if row.outcome and row.outcome != REJECTED and not row.errors]
        wanted = [row for row in wanted if any(name in row.data for name in _CONTACT_COLUMNS)]
        existing_ids = {row.record.pk for row in wanted if row.record.pk and row.record.pk > 0}
        linked: dict[int, list[Contact]] = defaultdict(list)
        if existing_ids:
            links = (
                ContactAccount.objects.filter(account_id__in=existing_ids, contact__deleted_at=None)
                .select_related("contact")
                .order_by("-is_primary", "id")
            )
            for link in links:
                linked[link.account_id].append(link.contact)
        contact_changes: dict[int, Change] = {}
        self.new_links: list[tuple[Any, Any]] = []
        for row in wanted:
            account = row.record
            values = self.contact_values(row)
            if not values:
                continue
            candidates = linked.get(account.pk, []) if account.pk else []
            candidates = candidates + getattr(account, "_import_contacts", [])
            contact = None
            email = (values.get("email") or "").lower()
            name_key = normalize(f"{values.get('last_name', '')} {values.get('first_name', '')}")
            for candidate in candidates:
                if email and (candidate.email or "").lower() == email:
                    contact = candidate
                    break
            if contact is None and name_key:
                for candidate in candidates:
                    if candidate.name_key == name_key:
                        contact = candidate
                        break
            if contact is None and not email and not values.get("first_name"):
                continue
            if contact is None:
                if not values.get("first_name"):
                    values["first_name"] = email.split("@")[0][:100]
                contact = bulk.new(Contact, created_by_id=self.actor.pk, created_at=self.now)
                change = Change(record=contact, created=True)
                self.set_fields(contact, values, change, creating=True)
                contact.refresh_search_fields()
                contact_changes[id(contact)] = change
                account._import_contacts = [*getattr(account, "_import_contacts", []), contact]
                self.new_links.append((contact, account))
                if row.outcome == UNCHANGED:
                    row.outcome = UPDATED
            else:
                change = contact_changes.get(id(contact)) or Change(
                    record=contact, created=contact.pk is None
                )
                if self.set_fields(contact, values, change, creating=change.created):
                    contact.refresh_search_fields()
                    contact_changes[id(contact)] = change
                    if row.outcome == UNCHANGED:
                        row.outcome = UPDATED
        return list(contact_changes.values())

    def contact_values(self, row: Row) -> dict[str, Any]:
        """Attribute → value of the contact columns of an account row."""
        data = row.data
        values: dict[str, Any] = {}
        if "contact_name" in data:
            first, last = data["contact_name"]
            if first:
                values["first_name"] = first[:100]
            if last:
                values["last_name"] = last[:150]
        for name, attribute in (
            ("contact_first_name", "first_name"),
            ("contact_last_name", "last_name"),
            ("contact_title", "job_title"),
            ("contact_email", "email"),
            ("contact_phone", "phone"),
            ("contact_mobile", "mobile"),
        ):
            if name in data:
                values[attribute] = data[name]
        return values

    def write(self, changes: list[Change], rows: list[Row]) -> None:
        new = [change.record for change in changes if change.created]
        updated = [change for change in changes if not change.created]
        # Parents created in this batch get their id after the INSERT: insert parents first.
        new.sort(key=lambda record: _depth(record))
        for record in new:
            parent = getattr(record, "_import_parent", None)
            if parent is not None and parent.pk is not None:
                record.parent_id = parent.pk
        self.insert_with_parents(new)
        for change in updated:
            parent = getattr(change.record, "_import_parent", None)
            if parent is not None:
                change.record.parent_id = parent.pk
        self.bulk_save(Account, updated)
        entries = self.audit(changes, Account)
        entries += self.write_contacts()
        entries += self.write_status_changes()
        self.write_audit(entries)

    def insert_with_parents(self, records: list[Account]) -> None:
        """INSERT new accounts level by level so each parent has its id before its children."""
        remaining = records
        while remaining:
            ready = [
                record
                for record in remaining
                if getattr(record, "_import_parent", None) is None
                or record._import_parent.pk is not None  # type: ignore[attr-defined]
            ]
            if not ready:  # cannot happen (loops are refused), but never spin
                ready = remaining
            for record in ready:
                parent = getattr(record, "_import_parent", None)
                if parent is not None:
                    record.parent_id = parent.pk
            self.bulk_insert(Account, ready)
            ready_ids = {id(record) for record in ready}
            remaining = [record for record in remaining if id(record) not in ready_ids]

    def write_contacts(self) -> list[LogEntry]:
        """The contacts of contact columns, their links, and their audit entries."""
        if not self.contact_changes:
            return []
        new = [change.record for change in self.contact_changes if change.created]
        updated = [change for change in self.contact_changes if not change.created]
        self.bulk_insert(Contact, new)
        self.bulk_save(Contact, updated)
        links = [
            _link(contact, account, is_primary=True, now=self.now)
            for contact, account in self.new_links
        ]
        self.bulk_insert(ContactAccount, links)
        entries = self.audit(self.contact_changes, Contact)
        entries += self.audit([Change(record=link, created=True) for link in links], ContactAccount)
        return entries

    def write_status_changes(self) -> list[LogEntry]:
        """A "status changed" entry on the timeline of each account whose status changed."""
        if not self.status_changes:
            return []
        labels = dict(AccountStatus.choices)
        interactions = [
            bulk.new(
                Interaction,
                account_id=record.pk,
                kind=InteractionKind.STATUS_CHANGE,
                subject=(
                    _("Status changed from %(old)s to %(new)s")
                    % {"old": labels.get(old, old), "new": labels.get(new, new)}
                )[:200],
                author_id=self.actor.pk,
                occurred_at=self.now,
                created_at=self.now,
            )
            for record, old, new in self.status_changes
        ]
        self.bulk_insert(Interaction, interactions)
        return self.audit([Change(record=i, created=True) for i in interactions], Interaction)

    def second_pass(self) -> None:
        """Set the parents named by rows whose parent came later in the file."""
        while True:
            with transaction.atomic():
                links = list(
                    ImportDeferredLink.objects.select_for_update()
                    .filter(job=self.job, field="parent")
                    .order_by("row_number", "id")[:BATCH_SIZE]
                )
                if not links:
                    return
                self.resolve_parents(links)
                ImportDeferredLink.objects.filter(pk__in=[link.pk for link in links]).delete()

    def resolve_parents(self, links: list[ImportDeferredLink]) -> None:
        """One chunk of the second pass, in the caller's transaction."""
        refs = {link.value for link in links}
        fake_rows = [Row(number=0, values=[], data={"parent": ref}) for ref in refs]
        parents = self.lookup_parents(fake_rows)
        records = {
            account.pk: account
            for account in Account.objects.filter(pk__in={link.object_id for link in links})
        }
        changes: dict[int, Change] = {}
        issues: list[ImportRowIssue] = []
        warned: set[int] = set()
        for link in links:
            record = records.get(link.object_id)
            parent = parents.get(link.value)
            reason = ""
            if record is None:
                continue
            if parent is None:
                reason = _("No account you can see is called %(name)s; the parent was not set.") % {
                    "name": link.value
                }
            elif isinstance(parent, list):
                reason = _("Several accounts are called %(name)s; the parent was not set.") % {
                    "name": link.value
                }
            else:
                before = len(changes)
                fake = Row(number=link.row_number, values=[], columns={"parent": link.column})
                self.set_parent(fake, record, parent, changes)
                if fake.warnings:
                    reason = fake.warnings[0][2]
                elif len(changes) == before:
                    continue
            if reason:
                issues.append(
                    ImportRowIssue(
                        job_id=self.job.pk,
                        severity=IssueSeverity.WARNING,
                        row_number=link.row_number,
                        column=link.column,
                        field="parent",
                        reason=reason,
                        values=[],
                    )
                )
                warned.add(link.row_number)
        updated = list(changes.values())
        self.bulk_save(Account, updated)
        self.write_audit(self.audit(updated, Account))
        if issues:
            self.fill_issue_values(issues)
            bulk.insert(ImportRowIssue, issues)
            already = set(
                ImportRowIssue.objects.filter(job=self.job, dry_run=False, row_number__in=warned)
                .exclude(pk__in=[issue.pk for issue in issues if issue.pk])
                .values_list("row_number", flat=True)
            )
            ImportJob.objects.filter(pk=self.job.pk).update(
                warning_count=models.F("warning_count") + len(warned - already)
            )

    def fill_issue_values(self, issues: list[ImportRowIssue]) -> None:
        """The original values of second-pass warnings' rows (read again from the file)."""
        wanted = {issue.row_number for issue in issues}
        try:
            table = open_table(
                self.job.file_path,
                encoding=self.job.encoding or None,
                delimiter=self.job.delimiter or None,
                sheet=self.job.sheet or None,
            )
            found: dict[int, list[str]] = {}
            last = max(wanted)
            for number, values in table.rows():
                if number in wanted:
                    found[number] = [_sanitize(value) for value in values]
                if number >= last:
                    break
        except TableError:
            return
        for issue in issues:
            issue.values = found.get(issue.row_number, [])

    def second_pass_dry(self) -> int:
        warnings = 0
        if not self.deferred_memory:
            return 0
        refs = {value for _n, _r, _f, _c, value in self.deferred_memory}
        fake_rows = [Row(number=0, values=[], data={"parent": ref}) for ref in refs]
        parents = self.lookup_parents(fake_rows)
        for _number, _record, _field, _column, value in self.deferred_memory:
            found = (
                self.memory.get(("external_id", value))
                or self.memory.get(("name", normalize(value)[:200]))
                or parents.get(value)
            )
            if found is None or isinstance(found, list):
                warnings += 1
        return warnings


def _depth(record: Any) -> int:
    depth, node = 0, getattr(record, "_import_parent", None)
    while node is not None and depth < 1000:
        depth += 1
        node = getattr(node, "_import_parent", None)
    return depth


# --- contacts ---------------------------------------------------------------------------------

_CONTACT_ATTRIBUTES = {spec.name: spec.attribute for spec in mp.CONTACT_FIELDS if spec.attribute}


class AccountFinder:
    """Accounts the actor can see, named by external id, website domain or name."""

    def __init__(self, importer: Importer) -> None:
        self.importer = importer

    def resolve(self, refs: set[str], email_domains: set[str]) -> dict[str, Any]:
        """Reference → account (``list`` when several match, missing when none)."""
        actor = self.importer.actor
        visible = (
            Account.objects.visible_to(actor)
            .filter(deleted_at=None)
            .only("pk", "name", "external_id", "domain", "name_key")
        )
        found: dict[str, Any] = {}
        if refs:
            by_external: dict[str, list[Account]] = defaultdict(list)
            for account in visible.filter(~Q(external_id=""), external_id__in=refs):
                by_external[account.external_id].append(account)
            domains = {website_domain(ref): ref for ref in refs if "." in ref and " " not in ref}
            domain_refs = set(domains.values())
            by_domain: dict[str, list[Account]] = defaultdict(list)
            if domains:
                for account in visible.filter(~Q(domain=""), domain__in=list(domains)):
                    by_domain[account.domain].append(account)
            names = {normalize(ref)[:200] for ref in refs}
            by_name: dict[str, list[Account]] = defaultdict(list)
            for account in visible.filter(name_key__in=names):
                by_name[account.name_key].append(account)
            for ref in refs:
                matches = (
                    by_external.get(ref)
                    or (by_domain.get(website_domain(ref)) if ref in domain_refs else None)
                    or by_name.get(normalize(ref)[:200])
                )
                if matches:
                    found[ref] = matches[0] if len(matches) == 1 else matches
        if email_domains:
            by_domain = defaultdict(list)
            for account in visible.filter(~Q(domain=""), domain__in=email_domains):
                by_domain[account.domain].append(account)
            for domain, accounts in by_domain.items():
                found[f"@{domain}"] = accounts[0] if len(accounts) == 1 else accounts
        return found


class ContactImporter(Importer):
    """Contacts, linked to their account by its external id, website domain or name."""

    model = Contact
    kind = ImportKind.CONTACTS

    def key_values(self, row: Row) -> dict[str, str]:
        data = row.data
        keys: dict[str, str] = {}
        if data.get("external_id"):
            keys["external_id"] = data["external_id"]
        if data.get("email"):
            keys["email"] = data["email"].lower()
        first, last = self.names(row)
        account = row.data.get("_account")
        if first and account is not None:
            keys["name"] = f"{account.pk}|{mp.fast_normalize(f'{last} {first}')[:260]}"
        return keys

    def names(self, row: Row) -> tuple[str, str]:
        """First and last name of the row (from the full-name column when split ones are empty)."""
        data = row.data
        first = data.get("first_name", "")
        last = data.get("last_name", "")
        if "full_name" in data:
            full_first, full_last = data["full_name"]
            first = first or full_first[:100]
            last = last or full_last[:150]
        return first, last

    def record_keys(self, record: Any) -> dict[str, str]:
        keys = {"external_id": record.external_id, "email": (record.email or "").lower()}
        account = getattr(record, "_import_account", None)
        if account is not None:
            keys["name"] = f"{account.pk}|{record.name_key}"
        return keys

    def lookup(self, key: str, values: set[str]) -> dict[str, list[Any]]:
        queryset: models.QuerySet[Any] = Contact.objects.filter(deleted_at=None)
        if key == "name":
            # The same name at the same account: "account id|name key".
            pairs = [value.split("|", 1) for value in values]
            queryset = queryset.filter(
                name_key__in={name for _account, name in pairs},
                account_links__account_id__in={int(account) for account, _name in pairs},
            ).annotate(link_account=models.F("account_links__account_id"))
            if connection.features.has_select_for_update and not self.dry_run:
                queryset = queryset.select_for_update(of=("self",))
            by_name: dict[str, list[Any]] = defaultdict(list)
            for record in queryset.order_by("pk"):
                value = f"{record.link_account}|{record.name_key}"
                if value in values:
                    by_name[value].append(record)
            return by_name
        column = "email" if key == "email" else "external_id"
        queryset = _matching(queryset, column, values, lower=key == "email")
        if connection.features.has_select_for_update and not self.dry_run:
            queryset = queryset.select_for_update()
        found: dict[str, list[Any]] = defaultdict(list)
        for record in queryset.order_by("pk"):
            value = getattr(record, column)
            found[value.lower() if key == "email" else value].append(record)
        return found

    def not_writable_reason(self, key: str) -> str:
        return _(
            "An existing contact with this %(key)s belongs to someone else's book; you cannot "
            "change it."
        ) % {"key": str(mp.MATCH_KEY_LABELS[key]).lower()}

    def resolve_accounts(self, rows: list[Row]) -> None:
        """Each row's account (``row.data["_account"]``), or the row rejected."""
        refs = {row.data["account"] for row in rows if row.data.get("account")}
        email_domains = {
            website_domain(row.data["email"])
            for row in rows
            if not row.data.get("account") and row.data.get("email")
        }
        found = AccountFinder(self).resolve(refs, email_domains)
        for row in rows:
            ref = row.data.get("account")
            if ref:
                account = found.get(ref)
            elif row.data.get("email"):
                account = found.get("@" + website_domain(row.data["email"]))
                ref = row.data["email"]
            else:
                account = None
            column = row.columns.get("account", "")
            if isinstance(account, list):
                row.reject(
                    column,
                    "account",
                    _(
                        "%(count)s accounts you can see match %(name)s; use its external id or "
                        "website instead."
                    )
                    % {"count": len(account), "name": ref},
                )
            elif account is None:
                if ref and row.data.get("account"):
                    row.reject(
                        column,
                        "account",
                        _("No account you can see matches %(name)s.") % {"name": ref},
                    )
                else:
                    row.reject(
                        column,
                        "account",
                        _("The contact's account is empty (no account has the email's domain)."),
                    )
            else:
                row.data["_account"] = account

    def apply_rows(self, rows: list[Row]) -> list[Change]:
        self.resolve_accounts(rows)
        rows = [row for row in rows if not row.errors]
        self.match(rows)
        pending: dict[tuple[str, str], Any] = {}
        changes: dict[int, Change] = {}
        touched: list[tuple[Contact, Account]] = []
        for position, row in enumerate(rows):
            account = row.data["_account"]
            record = self.find(position, row, pending)
            if row.errors:
                continue
            values = self.contact_values(row)
            if record is None:
                if not values.get("first_name"):
                    email = values.get("email", "")
                    if not email:
                        row.reject(
                            row.columns.get("first_name", ""),
                            "first_name",
                            _("The contact has no name and no email."),
                        )
                        continue
                    values["first_name"] = email.split("@")[0][:100]
                record = bulk.new(Contact, created_by_id=self.actor.pk, created_at=self.now)
                change = Change(record=record, created=True)
                self.set_fields(record, values, change, creating=True)
                changes[id(record)] = change
                row.outcome = CREATED
            else:
                change = changes.get(id(record)) or Change(
                    record=record, created=record.pk is None or record.pk < 0
                )
                if self.set_fields(record, values, change, creating=change.created):
                    changes[id(record)] = change
                    row.outcome = UPDATED
                else:
                    row.outcome = UNCHANGED
            if row.outcome != UNCHANGED:
                record.refresh_search_fields()
            record._import_account = account
            row.record = record
            touched.append((record, account))
            self.remember(record, pending)
        self.links_to_create = self.missing_links(touched, rows)
        result = list(changes.values())
        if self.dry_run:
            for change in result:
                self.pk_for(change.record)
        return result

    def missing_links(
        self, touched: list[tuple[Contact, Account]], rows: list[Row]
    ) -> list[tuple[Contact, Account, bool]]:
        """Links from touched contacts to their row's account that do not exist yet."""
        existing_ids = {
            contact.pk for contact, _account in touched if contact.pk and contact.pk > 0
        }
        linked: dict[int, set[int]] = defaultdict(set)
        primary: set[int] = set()
        if existing_ids:
            for contact_id, account_id, is_primary in ContactAccount.objects.filter(
                contact_id__in=existing_ids
            ).values_list("contact_id", "account_id", "is_primary"):
                linked[contact_id].add(account_id)
                if is_primary:
                    primary.add(contact_id)
        wanted: list[tuple[Contact, Account, bool]] = []
        seen: set[tuple[int, int]] = set()
        given_primary: set[int] = set()  # contacts that get their primary link in this batch
        for contact, account in touched:
            key = (id(contact), id(account))
            if key in seen:
                continue
            seen.add(key)
            if contact.pk and contact.pk > 0 and account.pk in linked.get(contact.pk, set()):
                continue
            is_primary = not (contact.pk and contact.pk in primary) and id(contact) not in (
                given_primary
            )
            if is_primary:
                given_primary.add(id(contact))
            wanted.append((contact, account, is_primary))
        # A row whose only change is a new link counts as updated.
        new_link_contacts = {id(contact) for contact, _a, _p in wanted}
        for row in rows:
            if row.outcome == UNCHANGED and id(row.record) in new_link_contacts:
                row.outcome = UPDATED
        return wanted

    def contact_values(self, row: Row) -> dict[str, Any]:
        """Attribute → value of the contact's columns in ``row``."""
        data = row.data
        values: dict[str, Any] = {}
        for name, value in data.items():
            attribute = _CONTACT_ATTRIBUTES.get(name)
            if attribute:
                values[attribute] = value
        first, last = self.names(row)
        if first and "first_name" not in values:
            values["first_name"] = first
        if last and "last_name" not in values:
            values["last_name"] = last
        return values

    def write(self, changes: list[Change], rows: list[Row]) -> None:
        new = [change.record for change in changes if change.created]
        updated = [change for change in changes if not change.created]
        self.bulk_insert(Contact, new)
        self.bulk_save(Contact, updated)
        links = [
            _link(contact, account, is_primary=is_primary, now=self.now)
            for contact, account, is_primary in self.links_to_create
        ]
        self.bulk_insert(ContactAccount, links)
        entries = self.audit(changes, Contact)
        entries += self.audit([Change(record=link, created=True) for link in links], ContactAccount)
        self.write_audit(entries)


# --- interactions -----------------------------------------------------------------------------

_INTERACTION_ATTRIBUTES = {
    spec.name: spec.attribute for spec in mp.INTERACTION_FIELDS if spec.attribute
}


class InteractionImporter(Importer):
    """Interactions on the timeline of accounts the actor can see."""

    model = Interaction
    kind = ImportKind.INTERACTIONS

    def key_values(self, row: Row) -> dict[str, str]:
        data = row.data
        keys: dict[str, str] = {}
        if data.get("external_id"):
            keys["external_id"] = data["external_id"]
        account = data.get("_account")
        if account is not None and data.get("occurred_at") and data.get("subject"):
            keys["entry"] = _entry_key(account.pk, data["occurred_at"], data["subject"])
        return keys

    def record_keys(self, record: Any) -> dict[str, str]:
        return {
            "external_id": record.external_id,
            "entry": _entry_key(record.account_id, record.occurred_at, record.subject),
        }

    def lookup(self, key: str, values: set[str]) -> dict[str, list[Any]]:
        queryset: models.QuerySet[Any] = Interaction.objects.all()
        if key == "external_id":
            queryset = _matching(queryset, "external_id", values)
        else:
            # Same account and same moment (to the second) in one index range, then the
            # subject compared here.
            entries = [json.loads(value) for value in values]
            queryset = queryset.filter(
                account_id__in={account_id for account_id, _moment, _subject in entries},
                occurred_at__in={dt.datetime.fromisoformat(moment) for _a, moment, _s in entries},
            )
        if connection.features.has_select_for_update and not self.dry_run:
            queryset = queryset.select_for_update()
        found: dict[str, list[Any]] = defaultdict(list)
        for record in queryset.order_by("pk"):
            value = (
                record.external_id
                if key == "external_id"
                else _entry_key(record.account_id, record.occurred_at, record.subject)
            )
            if value in values:
                found[value].append(record)
        return found

    def not_writable_reason(self, key: str) -> str:
        return _(
            "An existing interaction with this %(key)s is on an account you cannot change."
        ) % {"key": str(mp.MATCH_KEY_LABELS[key]).lower()}

    def apply_rows(self, rows: list[Row]) -> list[Change]:
        self.resolve_references(rows)
        rows = [row for row in rows if not row.errors]
        self.match(rows)
        pending: dict[tuple[str, str], Any] = {}
        changes: dict[int, Change] = {}
        for position, row in enumerate(rows):
            record = self.find(position, row, pending)
            if row.errors:
                continue
            values = self.interaction_values(row)
            if row.errors:
                continue
            if record is None:
                if not values.get("subject"):
                    row.reject(
                        row.columns.get("subject", ""), "subject", _("The subject is empty.")
                    )
                    continue
                record = bulk.new(
                    Interaction,
                    author_id=self.actor.pk,
                    kind=InteractionKind.NOTE,
                    occurred_at=self.now,
                    created_at=self.now,
                )
                change = Change(record=record, created=True)
                self.set_fields(record, values, change, creating=True)
                changes[id(record)] = change
                row.outcome = CREATED
            else:
                change = changes.get(id(record)) or Change(
                    record=record, created=record.pk is None or record.pk < 0
                )
                if self.set_fields(record, values, change, creating=change.created):
                    changes[id(record)] = change
                    row.outcome = UPDATED
                else:
                    row.outcome = UNCHANGED
            row.record = record
            self.remember(record, pending)
        result = list(changes.values())
        if self.dry_run:
            for change in result:
                self.pk_for(change.record)
        return result

    def resolve_references(self, rows: list[Row]) -> None:
        """Account (required), contact (of that account) and author of each row."""
        refs = {row.data["account"] for row in rows if row.data.get("account")}
        found = AccountFinder(self).resolve(refs, set())
        for row in rows:
            ref = row.data.get("account")
            column = row.columns.get("account", "")
            account = found.get(ref) if ref else None
            if not ref:
                row.reject(column, "account", _("The interaction's account is empty."))
            elif isinstance(account, list):
                row.reject(
                    column,
                    "account",
                    _(
                        "%(count)s accounts you can see match %(name)s; use its external id or "
                        "website instead."
                    )
                    % {"count": len(account), "name": ref},
                )
            elif account is None:
                row.reject(
                    column, "account", _("No account you can see matches %(name)s.") % {"name": ref}
                )
            else:
                row.data["_account"] = account
            if row.data.get("kind") == InteractionKind.STATUS_CHANGE:
                row.reject(
                    row.columns.get("kind", ""),
                    "kind",
                    _("Status changes are logged when the status changes."),
                )
        self.resolve_authors([row for row in rows if not row.errors and "author" in row.data])
        self.resolve_contacts([row for row in rows if not row.errors])

    def resolve_authors(self, rows: list[Row]) -> None:
        """Who logged each row's interaction: someone the importer may assign work to, or
        someone on the account's team; else the importer (with a warning)."""
        team: dict[int, dict[str, User]] = defaultdict(dict)
        if rows:
            members = AccountTeamMember.objects.filter(
                account_id__in={row.data["_account"].pk for row in rows}, user__is_active=True
            ).select_related("user")
            for member in members:
                team[member.account_id][member.user.email.lower()] = member.user
                team[member.account_id][normalize(member.user.full_name)] = member.user
        for row in rows:
            text = row.data["author"]
            on_team = team.get(row.data["_account"].pk, {})
            person = (
                self.person(text)
                or on_team.get(text.strip().lower())
                or on_team.get(normalize(text))
            )
            if person is None:
                row.warn(
                    row.columns.get("author", ""),
                    "author",
                    _("No one on this account's team is called %(name)s; logged by you.")
                    % {"name": text},
                )
            else:
                row.data["_author"] = person

    def resolve_contacts(self, rows: list[Row]) -> None:
        """The contact each row names, among its account's contacts (else a warning)."""
        wanted = [row for row in rows if row.data.get("contact")]
        if not wanted:
            return
        account_ids = {row.data["_account"].pk for row in wanted}
        contacts: dict[int, list[Contact]] = defaultdict(list)
        for link in ContactAccount.objects.filter(
            account_id__in=account_ids, contact__deleted_at=None
        ).select_related("contact"):
            contacts[link.account_id].append(link.contact)
        for row in wanted:
            ref = row.data["contact"]
            ref_lower, ref_key = ref.lower(), normalize(ref)
            matches = [
                contact
                for contact in contacts.get(row.data["_account"].pk, [])
                if ref == contact.external_id
                or ref_lower == (contact.email or "").lower()
                or ref_key == normalize(contact.full_name)
                or ref_key == contact.name_key
            ]
            if len(matches) == 1:
                row.data["_contact"] = matches[0]
            else:
                row.warn(
                    row.columns.get("contact", ""),
                    "contact",
                    _("No single contact of this account matches %(name)s; imported without one.")
                    % {"name": ref},
                )

    def interaction_values(self, row: Row) -> dict[str, Any]:
        """Attribute → value of the interaction's columns in ``row``."""
        data = row.data
        values: dict[str, Any] = {}
        for name, value in data.items():
            attribute = _INTERACTION_ATTRIBUTES.get(name)
            if attribute:
                values[attribute] = value
        values["account_id"] = data["_account"].pk
        if "_contact" in data:
            values["contact_id"] = data["_contact"].pk
        if "_author" in data:
            values["author_id"] = data["_author"].pk
        return values

    def write(self, changes: list[Change], rows: list[Row]) -> None:
        new = [change.record for change in changes if change.created]
        updated = [change for change in changes if not change.created]
        self.bulk_insert(Interaction, new)
        self.bulk_save(Interaction, updated)
        self.write_audit(self.audit(changes, Interaction))


def _entry_key(account_id: Any, occurred: Any, subject: str) -> str:
    """The natural key of an interaction: its account, time (to the second) and subject."""
    moment = occurred.astimezone(dt.UTC).replace(microsecond=0).isoformat()
    return json.dumps([account_id, moment, normalize(subject)[:200]])


def _convert_in_child(
    importer: Importer,
    table: Table,
    start_after: int,
    max_rows: int | None,
    language: str,
    batches: Any,
) -> None:
    """The forked reader: convert the file's batches and put them on ``batches``.

    The database connections inherited from the parent are set aside untouched (closing them
    here would close the parent's sessions); the child never needs one, and leaves with
    ``os._exit`` (multiprocessing's way), so they are never finalised.
    """
    for alias_connection in db_connections.all(initialized_only=True):
        _INHERITED.append(alias_connection.connection)
        alias_connection.connection = None
    try:
        with translation.override(language):
            for batch in _batches(table.rows(start_after), BATCH_SIZE, max_rows):
                batches.put([importer.convert(number, values) for number, values in batch])
        batches.put(_DONE_MARK)
    except BaseException as error:  # handed to the parent, which fails the job with it
        try:
            pickle.dumps(error)
        except Exception:
            error = RuntimeError(str(error))
        batches.put(error)
    finally:
        batches.close()
        batches.join_thread()


#: Database connections a forked reader inherited (kept, never used nor closed there).
_INHERITED: list[Any] = []


IMPORTERS: dict[str, type[Importer]] = {
    ImportKind.ACCOUNTS: AccountImporter,
    ImportKind.CONTACTS: ContactImporter,
    ImportKind.INTERACTIONS: InteractionImporter,
}


def execute(
    job: ImportJob,
    *,
    dry_run: bool,
    max_rows: int | None = None,
    progress: Callable[[ImportJob], None] | None = None,
) -> None:
    """Run (or dry-run) ``job``; failures are recorded on the job, not raised."""
    importer = IMPORTERS[job.kind](job, dry_run=dry_run)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            table = open_table(
                job.file_path,
                encoding=job.encoding or None,
                delimiter=job.delimiter or None,
                sheet=job.sheet or None,
            )
        except TableError as error:
            _fail(job, str(error), dry_run=dry_run)
            return
        if "day_first" not in (job.options or {}):
            _guess_day_first(job, table)
            importer.day_first = bool(job.options.get("day_first", True))
        if not dry_run and not _claim(job, importer):
            return
        try:
            importer.run(table, max_rows=max_rows, progress=progress)
        except Stopped:
            return
        except TableError as error:
            _fail(job, str(error), dry_run=dry_run, token=importer.token)
        except Exception as error:
            logger.exception("import %s failed", job.pk)
            _fail(
                job,
                _("The import stopped on an unexpected error: %(error)s") % {"error": error},
                dry_run=dry_run,
                token=importer.token,
            )


def _claim(job: ImportJob, importer: Importer) -> bool:
    """Take the job for this run (a resume takes it over from a dead one)."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status in {ImportStatus.DONE, ImportStatus.CANCELLED}:
            return False
        locked.status = ImportStatus.RUNNING
        locked.run_token = importer.token
        locked.started_at = locked.started_at or timezone.now()
        locked.finished_at = None
        locked.error_message = ""
        locked.heartbeat_at = timezone.now()
        if locked.processed_rows == 0:
            locked.total_rows = max(locked.total_rows, locked.dry_run_rows or 0)
        locked.save()
    job.refresh_from_db()
    importer.job = job
    importer.began = time.monotonic()
    importer.first_processed = job.processed_rows
    return True


def _fail(job: ImportJob, message: str, *, dry_run: bool, token: str | None = None) -> None:
    if dry_run:
        ImportJob.objects.filter(pk=job.pk).update(error_message=message, updated_at=timezone.now())
        return
    queryset = ImportJob.objects.filter(pk=job.pk)
    if token:
        queryset = queryset.filter(run_token=token)
    queryset.exclude(status=ImportStatus.CANCELLED).update(
        status=ImportStatus.FAILED,
        error_message=message[:5000],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def _guess_day_first(job: ImportJob, table: Table) -> None:
    """Decide once per job whether dates are day-first, from the first rows' date column."""
    columns = [
        position
        for position, header in enumerate(job.headers)
        if mp.field_map(job.kind).get(job.mapping.get(header, "") or "", None) is not None
        and mp.field_map(job.kind)[job.mapping[header]].type == "datetime"
    ]
    if not columns:
        return
    samples: list[str] = []
    for count, (_number, values) in enumerate(table.rows()):
        samples.extend(values[position] for position in columns if position < len(values))
        if count >= 500:
            break
    default = not (job.language or "").startswith("en-us")
    job.options = {**(job.options or {}), "day_first": mp.guess_day_first(samples, default=default)}
    ImportJob.objects.filter(pk=job.pk).update(options=job.options)
