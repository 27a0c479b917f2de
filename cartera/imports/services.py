"""Every step of an import job: upload, mapping, dry run, start, run, cancel, error report.

The web pages, the REST API, the background task and ``cartera import`` all go through these
functions; the row work itself is in ``engine.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cartera.core.errors import Forbidden, InvalidInput, NotFound
from cartera.core.export import safe_cell
from cartera.users.access import can_assign_owner
from cartera.users.models import User

from . import mapping as mapping_module
from .models import (
    EDITABLE_STATUSES,
    FINAL_STATUSES,
    ImportJob,
    ImportKind,
    ImportMapping,
    ImportRowIssue,
    ImportStatus,
)
from .readers import Table, TableError, delimiter_label, encoding_label, open_table

#: Largest file accepted (``CARTERA_IMPORT_MAX_BYTES`` in settings as ``IMPORT_MAX_BYTES``).
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
#: Rows a dry run reads when no limit is given (the web's check; the CLI reads them all).
DEFAULT_DRY_RUN_ROWS = 20000
_CHUNK = 1024 * 1024


def max_upload_bytes() -> int:
    """The largest file an import accepts, in bytes."""
    return int(getattr(settings, "IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def imports_dir() -> Path:
    """Where uploaded files are kept: ``DATA_DIR/imports``."""
    return Path(settings.DATA_DIR) / "imports"


@dataclass
class Preview:
    """What the mapping page shows: detection, a few rows, the proposed mapping, the choices."""

    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    mapping: dict[str, str]
    match_order: list[str]
    format: str
    encoding: str
    encoding_label: str
    delimiter: str
    delimiter_label: str
    sheet: str
    total_rows: int
    total_is_exact: bool
    fields: list[tuple[str, str]]
    match_keys: list[tuple[str, str]]
    unmapped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


# --- access ----------------------------------------------------------------------------------


def ensure_can_import(actor: User) -> None:
    """Read-only and inactive people import nothing."""
    if not actor.can_write:
        raise Forbidden(_("Read-only users cannot import."))


def ensure_owns_job(actor: User, job: ImportJob) -> None:
    """Only the job's owner (or an administrator) may act on it; others do not see it."""
    if job.user_id != actor.pk and not actor.is_admin:
        raise NotFound()
    ensure_can_import(actor)
    ensure_can_import_kind(actor, job.kind)


def _check_kind(kind: str) -> str:
    if kind not in ImportKind.values:
        raise InvalidInput(field_errors={"kind": [_("Choose what the file's rows are.")]})
    return kind


def ensure_can_import_kind(actor: User, kind: str) -> None:
    """Some kinds are for some roles only (people and teams: administrators; products:
    administrators and directors)."""
    from .kinds_sales import ensure_can_import_kind as check

    check(actor, kind)


# --- upload ----------------------------------------------------------------------------------


def _store(stream: IO[bytes], suffix: str) -> tuple[Path, int]:
    """Copy ``stream`` to a new file under ``imports_dir()``, refusing more than the limit."""
    limit = max_upload_bytes()
    folder = imports_dir() / timezone.now().strftime("%Y/%m")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    size = 0
    try:
        with path.open("wb") as out:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise InvalidInput(
                        field_errors={
                            "file": [
                                _("The file is larger than %(limit)s.")
                                % {"limit": filesizeformat(limit)}
                            ]
                        }
                    )
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size


def _suffix(file_name: str) -> str:
    lowered = file_name.lower()
    for suffix in (".xlsx", ".csv", ".tsv", ".txt"):
        if lowered.endswith(suffix):
            return suffix
    return ".dat"


def _open(job: ImportJob) -> Table:
    try:
        return open_table(
            job.file_path,
            encoding=job.encoding or None,
            delimiter=job.delimiter or None,
            sheet=job.sheet or None,
        )
    except TableError as exc:
        raise InvalidInput(field_errors={"file": [str(exc)]}) from exc


def _saved_mapping_for(actor: User, kind: str, headers: list[str]) -> ImportMapping | None:
    """The actor's most recent saved mapping whose columns are all in ``headers``."""
    present = set(headers)
    best: tuple[int, ImportMapping] | None = None
    for saved in ImportMapping.objects.filter(owner=actor, kind=kind).order_by("-updated_at"):
        columns = [header for header, target in saved.mapping.items() if target]
        if columns and set(columns) <= present and (best is None or len(columns) > best[0]):
            best = (len(columns), saved)
    return best[1] if best else None


@transaction.atomic
def create_job(
    *,
    actor: User,
    kind: str,
    file_name: str,
    stream: IO[bytes],
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> ImportJob:
    """Store an uploaded file, detect what it holds and propose a mapping (status "uploaded").

    A saved mapping of the actor whose columns are all in the file is applied; otherwise the
    header dictionary proposes one. ``InvalidInput`` (on ``file``) when the file is empty,
    unreadable, not a table or too large.
    """
    ensure_can_import(actor)
    _check_kind(kind)
    ensure_can_import_kind(actor, kind)
    name = (file_name or "").replace("\x00", "").strip().split("/")[-1].split("\\")[-1]
    name = name[:255] or "import"
    path, size = _store(stream, _suffix(name))
    try:
        if size == 0:
            raise InvalidInput(field_errors={"file": [_("The file is empty.")]})
        try:
            table = open_table(path, encoding=encoding, delimiter=delimiter, sheet=sheet)
        except TableError as exc:
            raise InvalidInput(field_errors={"file": [str(exc)]}) from exc
        saved = _saved_mapping_for(actor, kind, table.headers)
        if saved is not None:
            proposed = {header: target for header, target in saved.mapping.items() if target}
            match_order = list(saved.match_order) or mapping_module.DEFAULT_MATCH_ORDER[kind]
        else:
            proposed = mapping_module.auto_mapping(kind, table.headers)
            match_order = list(mapping_module.DEFAULT_MATCH_ORDER[kind])
        job = ImportJob.objects.create(
            user=actor,
            kind=kind,
            status=ImportStatus.UPLOADED,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            file_name=name,
            file_path=str(path),
            file_size=size,
            format=table.format,
            encoding=table.encoding if encoding or table.format == "csv" else "",
            delimiter=table.delimiter,
            sheet=table.sheet,
            headers=table.headers,
            mapping=proposed,
            match_order=match_order,
            mapping_name=saved.name if saved else "",
            total_rows=table.estimated_rows,
            total_is_exact=table.exact,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return job


def preview(job: ImportJob, *, rows: int = 5) -> Preview:
    """The detected format, the first ``rows`` rows and the job's mapping, for the mapping page."""
    table = _open(job)
    sample: list[list[str]] = []
    numbers: list[int] = []
    width = len(job.headers)
    try:
        for number, values in table.rows():
            sample.append([*values[:width], *[""] * (width - len(values))])
            numbers.append(number)
            if len(sample) >= rows:
                break
    except TableError as exc:
        raise InvalidInput(field_errors={"file": [str(exc)]}) from exc
    mapped = {header: target for header, target in job.mapping.items() if target}
    return Preview(
        headers=list(job.headers),
        rows=sample,
        row_numbers=numbers,
        mapping=mapped,
        match_order=list(job.match_order),
        format=job.format,
        encoding=job.encoding,
        encoding_label=encoding_label(job.encoding) if job.encoding else "",
        delimiter=job.delimiter,
        delimiter_label=delimiter_label(job.delimiter) if job.delimiter else "",
        sheet=job.sheet,
        total_rows=job.total_rows,
        total_is_exact=job.total_is_exact,
        fields=mapping_module.field_choices(job.kind),
        match_keys=mapping_module.match_key_choices(job.kind),
        unmapped=[header for header in job.headers if header not in mapped],
        missing=mapping_module.missing_required(job.kind, mapped.values()),
    )


# --- mapping ---------------------------------------------------------------------------------


def validate_mapping(
    kind: str,
    headers: Sequence[str],
    mapping: Mapping[str, str | None],
    match_order: Sequence[str],
) -> tuple[dict[str, str], list[str]]:
    """The mapping without skipped columns, and the match order; ``InvalidInput`` if wrong."""
    targets = mapping_module.field_map(kind)
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    used: dict[str, str] = {}
    for header, target in mapping.items():
        if not target:
            continue
        if header not in headers:
            errors.setdefault("mapping", []).append(
                _("The file has no column %(column)s.") % {"column": header}
            )
            continue
        if target not in targets:
            errors.setdefault("mapping", []).append(
                _("Unknown field %(field)s for column %(column)s.")
                % {"field": target, "column": header}
            )
            continue
        if target in used:
            errors.setdefault("mapping", []).append(
                _("Columns %(first)s and %(second)s both go to %(field)s; choose one.")
                % {"first": used[target], "second": header, "field": targets[target].label}
            )
            continue
        used[target] = header
        cleaned[header] = target
    if "annual_revenue" in used and "annual_revenue_millions" in used:
        errors.setdefault("mapping", []).append(
            _("Map the annual revenue once, in units or in millions.")
        )
    if not errors:
        missing = mapping_module.missing_required(kind, cleaned.values())
        if missing:
            errors["mapping"] = missing
    keys = mapping_module.MATCH_KEYS[kind]
    order: list[str] = []
    for key in match_order:
        if key not in keys:
            errors.setdefault("match_order", []).append(
                _("Records cannot be matched by %(key)s.") % {"key": key}
            )
        elif key in order:
            errors.setdefault("match_order", []).append(
                _("%(key)s is in the match order twice.") % {"key": key}
            )
        else:
            order.append(key)
    if errors:
        raise InvalidInput(field_errors=errors)
    return cleaned, order


def _validate_defaults(kind: str, defaults: Mapping[str, str]) -> dict[str, str]:
    """Constant values for fields, checked with the field's converter."""
    targets = mapping_module.field_map(kind)
    errors: list[str] = []
    cleaned: dict[str, str] = {}
    for name, value in defaults.items():
        spec = targets.get(name)
        if spec is None:
            errors.append(_("Unknown field %(field)s.") % {"field": name})
            continue
        converter = mapping_module.simple_converter(spec)
        if converter is not None:
            try:
                converter(str(value))
            except mapping_module.ConversionError as exc:
                errors.append(f"{spec.label}: {exc}")
                continue
        cleaned[name] = str(value)
    if errors:
        raise InvalidInput(field_errors={"defaults": errors})
    return cleaned


@transaction.atomic
def set_mapping(
    *,
    actor: User,
    job: ImportJob,
    mapping: Mapping[str, str | None],
    match_order: Sequence[str],
    save_as: str | None = None,
    default_owner: User | None = None,
    defaults: Mapping[str, str] | None = None,
    kind_options: Mapping[str, Any] | None = None,
) -> ImportJob:
    """Set which column goes to which field and how existing records are matched (→ "mapped").

    Columns mapped to ``""``/``None`` are skipped. ``InvalidInput`` on an unknown column or
    field, a field mapped twice or a required field left out. ``save_as`` saves the mapping
    under that name for the next file with these columns. ``default_owner`` owns the accounts
    the import creates (default: the actor); ``defaults`` are values for fields the file leaves
    empty (e.g. ``{"currency": "USD"}``); ``kind_options`` are the kind's own options
    (opportunities: ``stage_map``, ``add_stages``; see ``kinds_sales.validate_options``).
    """
    ensure_owns_job(actor, job)
    if job.status not in EDITABLE_STATUSES:
        raise InvalidInput(_("This import has started; its mapping can no longer change."))
    cleaned, order = validate_mapping(job.kind, job.headers, mapping, match_order)
    if default_owner is not None and not can_assign_owner(actor, default_owner):
        raise InvalidInput(
            field_errors={"owner": [_("Choose an active person you may assign accounts to.")]}
        )
    job.mapping = cleaned
    job.match_order = order
    job.default_owner = default_owner
    options = dict(job.options)
    if defaults is not None:
        options["defaults"] = _validate_defaults(job.kind, defaults)
    if kind_options is not None:
        from .kinds_sales import validate_options

        options.update(validate_options(job.kind, dict(kind_options)))
    job.options = options
    if save_as and save_as.strip():
        name = save_as.replace("\x00", "").strip()[:100]
        ImportMapping.objects.update_or_create(
            owner=actor,
            kind=job.kind,
            name=name,
            defaults={"mapping": cleaned, "match_order": order},
        )
        job.mapping_name = name
    job.status = ImportStatus.MAPPED
    _clear_dry_run(job)
    job.save()
    return job


def apply_saved_mapping(*, actor: User, job: ImportJob, name: str) -> ImportJob:
    """Use the mapping the actor saved as ``name`` (its columns must be in the file)."""
    saved = ImportMapping.objects.filter(owner=actor, kind=job.kind, name=name).first()
    if saved is None:
        raise InvalidInput(
            field_errors={"mapping": [_("No saved mapping called %(name)s.") % {"name": name}]}
        )
    job = set_mapping(
        actor=actor,
        job=job,
        mapping=saved.mapping,
        match_order=saved.match_order or mapping_module.DEFAULT_MATCH_ORDER[job.kind],
        default_owner=job.default_owner,
    )
    job.mapping_name = saved.name
    job.save(update_fields=["mapping_name", "updated_at"])
    return job


def _clear_dry_run(job: ImportJob) -> None:
    job.dry_run_at = None
    job.dry_run_rows = None
    job.dry_run_complete = False
    job.dry_run_created = job.dry_run_updated = job.dry_run_unchanged = None
    job.dry_run_rejected = job.dry_run_warnings = None
    ImportRowIssue.objects.filter(job=job, dry_run=True).delete()


def _ensure_mapped(job: ImportJob) -> None:
    validate_mapping(job.kind, job.headers, job.mapping, job.match_order)


# --- running ---------------------------------------------------------------------------------


def dry_run(
    *,
    actor: User,
    job: ImportJob,
    max_rows: int | None = DEFAULT_DRY_RUN_ROWS,
    progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Go through the rows (the first ``max_rows``; ``None``: all) as the import would, writing
    nothing; fill the dry-run counts and the first rejected rows' reasons (→ "checked")."""
    from .engine import execute

    ensure_owns_job(actor, job)
    if job.status not in EDITABLE_STATUSES:
        raise InvalidInput(_("This import has started; run the dry run before starting it."))
    _ensure_mapped(job)
    with transaction.atomic():
        _clear_dry_run(job)
        job.save()
    execute(job, dry_run=True, max_rows=max_rows, progress=progress)
    job.refresh_from_db()
    return job


@transaction.atomic
def start(*, actor: User, job: ImportJob) -> ImportJob:
    """Queue the import for the background worker (→ "queued"); a failed or interrupted one
    resumes after its last committed batch."""
    ensure_owns_job(actor, job)
    if job.status not in {*EDITABLE_STATUSES, ImportStatus.FAILED, ImportStatus.RUNNING}:
        raise InvalidInput(_("This import cannot be started in its current state."))
    _ensure_mapped(job)
    job.status = ImportStatus.QUEUED
    job.error_message = ""
    job.save(update_fields=["status", "error_message", "updated_at"])
    job_id = job.pk
    transaction.on_commit(lambda: _enqueue(job_id))
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import run_import

    run_import.enqueue(job_id)


def run(job_id: int, *, progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Import the job's rows in batches (the task and the CLI call this). Each batch commits
    with the job's counters and checkpoint; a job that stopped part-way resumes after its
    checkpoint; a finished or cancelled job is left as it is."""
    from .engine import execute

    job = ImportJob.objects.filter(pk=job_id).select_related("user", "default_owner").first()
    if job is None:
        raise NotFound()
    if job.status in FINAL_STATUSES:
        return job
    _ensure_mapped(job)
    execute(job, dry_run=False, progress=progress)
    job.refresh_from_db()
    return job


@transaction.atomic
def cancel(*, actor: User, job: ImportJob) -> ImportJob:
    """Stop the import: a running one stops after the batch it is writing (kept); a queued or
    unstarted one never starts."""
    ensure_owns_job(actor, job)
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status in FINAL_STATUSES:
        return locked
    locked.status = ImportStatus.CANCELLED
    locked.finished_at = timezone.now()
    locked.save(update_fields=["status", "finished_at", "updated_at"])
    return locked


@transaction.atomic
def delete_job(*, actor: User, job: ImportJob) -> None:
    """Forget a job that is not running, with its stored file and issues."""
    ensure_owns_job(actor, job)
    if job.status == ImportStatus.RUNNING:
        raise InvalidInput(_("Cancel the import before deleting it."))
    path = Path(job.file_path) if job.file_path else None
    job.delete()
    if path is not None:
        transaction.on_commit(lambda: path.unlink(missing_ok=True))


# --- error report ----------------------------------------------------------------------------


def error_rows(job: ImportJob, *, dry_run: bool | None = None) -> Iterator[list[str]]:
    """The error CSV, header first: the file's columns, then row, column(s) and reason(s).

    One line per rejected row (and per row imported with a warning) with its original values,
    so the file can be fixed and imported again. Every cell is neutralised against formula
    injection. Uses the real run's issues once it started, else the last dry run's.
    """
    if dry_run is None:
        dry_run = job.started_at is None
    width = len(job.headers)
    yield [safe_cell(header) for header in job.headers] + [_("Row"), _("Column"), _("Reason")]
    issues = (
        ImportRowIssue.objects.filter(job=job, dry_run=dry_run)
        .order_by("row_number", "id")
        .values_list("row_number", "column", "reason", "values")
        .iterator(chunk_size=2000)
    )
    current: int | None = None
    values: list[Any] = []
    columns: list[str] = []
    reasons: list[str] = []
    for row_number, column, reason, row_values in issues:
        if row_number != current:
            if current is not None:
                yield _error_line(width, current, values, columns, reasons)
            current, values, columns, reasons = row_number, row_values or [], [], []
        if column and column not in columns:
            columns.append(column)
        reasons.append(f"{column}: {reason}" if column else reason)
    if current is not None:
        yield _error_line(width, current, values, columns, reasons)


def _error_line(
    width: int, row_number: int, values: list[Any], columns: list[str], reasons: list[str]
) -> list[str]:
    cells = [str(value) for value in values[:width]] + [""] * max(0, width - len(values))
    return [
        *(str(safe_cell(cell)) for cell in cells),
        str(row_number),
        str(safe_cell("; ".join(columns))),
        str(safe_cell(" | ".join(reasons))),
    ]


def remove_file(job: ImportJob) -> None:
    """Delete the stored upload (kept until the job is deleted, for resumes and re-runs)."""
    if job.file_path:
        Path(job.file_path).unlink(missing_ok=True)
