"""Helpers of the import engine's tests: files built in the test, jobs run to the end."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from cartera.imports import services
from cartera.imports.models import ImportJob
from cartera.users.models import User


def _shared_data() -> Path:
    """The public data sets: ``$CARTERA_SHARED_DATA``, else ``../shared/data`` beside the clone."""
    if configured := os.environ.get("CARTERA_SHARED_DATA"):
        return Path(configured)
    beside = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return beside if beside.exists() else Path("/work/shared/data")


DATA = _shared_data()
NORTHWIND_CUSTOMERS = DATA / "northwind" / "csv" / "customers.csv"
CRM_ACCOUNTS = DATA / "crm-sales-opportunities" / "accounts.csv"


@pytest.fixture
def uploads(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files go to a fresh folder per test."""
    settings.DATA_DIR = tmp_path
    return tmp_path


def csv_bytes(
    rows: Iterable[Sequence[Any]], *, delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    """Rows written as CSV in ``encoding`` (CRLF, minimal quoting, as spreadsheets write)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Iterable[Sequence[Any]], *, title: str = "Hoja1") -> bytes:
    """Rows written as an XLSX workbook with openpyxl."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(
    user: User, content: bytes, *, kind: str = "accounts", name: str = "file.csv", **options: Any
) -> ImportJob:
    """A job for ``content`` as the upload leaves it."""
    return services.create_job(
        actor=user, kind=kind, file_name=name, stream=io.BytesIO(content), **options
    )


def run_import(
    user: User,
    content: bytes,
    *,
    kind: str = "accounts",
    name: str = "file.csv",
    mapping: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
    match_order: Sequence[str] | None = None,
    dry_run: bool = False,
    **options: Any,
) -> ImportJob:
    """Upload, map (the proposed mapping, changed by ``extra``), then run or dry-run to the end."""
    job = upload(user, content, kind=kind, name=name)
    wanted = dict(job.mapping if mapping is None else mapping)
    wanted.update(extra or {})
    job = services.set_mapping(
        actor=user,
        job=job,
        mapping=wanted,
        match_order=list(job.match_order if match_order is None else match_order),
        **options,
    )
    if dry_run:
        return services.dry_run(actor=user, job=job, max_rows=None)
    return services.run(job.pk)


def error_csv(job: ImportJob) -> list[list[str]]:
    """The job's error report parsed back."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in services.error_rows(job):
        writer.writerow(line)
    return list(csv.reader(io.StringIO(buffer.getvalue())))


def counts(job: ImportJob) -> tuple[int, int, int, int]:
    """Created, updated, unchanged and rejected rows of a finished job."""
    return job.created_count, job.updated_count, job.unchanged_count, job.rejected_count


def dry_counts(job: ImportJob) -> tuple[int | None, int | None, int | None, int | None]:
    """Created, updated, unchanged and rejected rows of the job's dry run."""
    return job.dry_run_created, job.dry_run_updated, job.dry_run_unchanged, job.dry_run_rejected
