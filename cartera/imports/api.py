"""REST API of import jobs: upload, preview, mapping, dry run, start, progress, cancel, errors.

A client uploads a file (``POST /imports``, multipart), reads what was detected and proposed
(``GET /imports/{id}/preview``), corrects the mapping (``PUT /imports/{id}/mapping``), checks it
(``POST /imports/{id}/dry-run``), starts it (``POST /imports/{id}/start``) and polls
``GET /imports/{id}`` until ``status`` is ``done``; ``GET /imports/{id}/errors`` is the CSV of
rejected rows. Upload, mapping, dry run and start can also happen in the one upload request.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from cartera.core.api import (
    READ_ERRORS,
    WRITE_ERRORS,
    Id,
    PageOut,
    PageQuery,
    page_out,
    request_actor,
)
from cartera.core.errors import InvalidInput, NotFound
from cartera.users.models import User
from cartera.users.selectors import get_person

from . import selectors, services
from .mapping import DEFAULT_MATCH_ORDER
from .models import ImportJob, ImportKind
from .schemas import ImportJobDetailOut, ImportJobOut, MappingIn, PreviewOut
from .views import error_csv_response

router = Router(tags=["imports"])

CSV_RESPONSE: dict[str, Any] = {
    "responses": {
        "200": {
            "description": "The file's columns, then Row, Column and Reason; UTF-8 with BOM",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}


class UploadIn(Schema):
    """The form fields sent with the file."""

    kind: ImportKind = Field(description="What the rows are")
    mapping: str | None = Field(
        None,
        max_length=200_000,
        description="JSON object: column name → field name (default: the automatic mapping)",
    )
    match_order: str | None = Field(
        None,
        max_length=500,
        description="Comma-separated keys to match existing records by (default: the usual "
        "order for the kind)",
    )
    saved_mapping: str | None = Field(
        None, max_length=100, description="Name of one of your saved mappings to use"
    )
    save_as: str | None = Field(None, max_length=100, description="Save the mapping as")
    owner: Id | None = Field(None, description="Owner of the accounts it creates")
    encoding: str | None = Field(
        None, max_length=40, description="Force a text encoding (default: detected)"
    )
    delimiter: str | None = Field(
        None, max_length=1, description="Force a delimiter (default: detected)"
    )
    sheet: str | None = Field(None, max_length=100, description="XLSX worksheet to read")
    dry_run: bool = Field(False, description="Run a dry run of the rows before answering")
    start: bool = Field(False, description="Queue the import at once")


class DryRunQuery(Schema):
    """How much of the file a dry run reads."""

    full: bool = Field(
        False,
        description=f"Check every row (default: the first {services.DEFAULT_DRY_RUN_ROWS:,})",
    )


def _owner(pk: int | None) -> User | None:
    """The person given as owner, or a field error (not a 404: it is a value in the body)."""
    if pk is None:
        return None
    try:
        return get_person(pk)
    except NotFound as exc:
        raise InvalidInput(field_errors={"owner": [_("There is no such person.")]}) from exc


def _parse_mapping(text: str | None) -> dict[str, str | None] | None:
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(
            field_errors={"mapping": [_("Send a JSON object: column name → field name.")]}
        ) from exc
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and (item is None or isinstance(item, str))
        for key, item in value.items()
    ):
        raise InvalidInput(
            field_errors={"mapping": [_("Send a JSON object: column name → field name.")]}
        )
    if any("\x00" in key or (item and "\x00" in item) for key, item in value.items()):
        raise InvalidInput(
            field_errors={"mapping": [_("A column or field name contains a NUL character.")]}
        )
    return value


def _parse_keys(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


@router.get("/imports", response={200: PageOut[ImportJobOut], **READ_ERRORS})
def list_imports(request: HttpRequest, page: Query[PageQuery]) -> Any:
    """The caller's import jobs, newest first (administrators see everyone's)."""
    return page_out(
        selectors.job_list(request_actor(request), cursor=page.cursor, limit=page.limit)
    )


@router.post("/imports", response={201: ImportJobDetailOut, **WRITE_ERRORS})
def create_import(
    request: HttpRequest,
    response: HttpResponse,
    payload: Form[UploadIn],
    file: File[UploadedFile],
) -> Any:
    """Upload a CSV or XLSX file (multipart): the format, encoding, delimiter and columns are
    detected and a mapping proposed. With ``mapping``/``match_order``/``dry_run``/``start`` the
    job is also mapped, checked and queued in the same request; if any step is refused, nothing
    is kept."""
    actor = request_actor(request)
    mapping = _parse_mapping(payload.mapping)
    keys = _parse_keys(payload.match_order)
    owner = _owner(payload.owner)
    if payload.saved_mapping and mapping is not None:
        raise InvalidInput(
            field_errors={"saved_mapping": [_("Send either a mapping or a saved mapping's name.")]}
        )
    configure = any(
        (
            mapping is not None,
            keys is not None,
            payload.save_as,
            owner,
            payload.dry_run,
            payload.start,
        )
    )
    job: ImportJob | None = None
    try:
        with transaction.atomic():
            job = services.create_job(
                actor=actor,
                kind=payload.kind,
                file_name=file.name or "upload",
                stream=file,
                encoding=payload.encoding or None,
                delimiter=payload.delimiter or None,
                sheet=payload.sheet or None,
            )
            if payload.saved_mapping:
                job = services.apply_saved_mapping(actor=actor, job=job, name=payload.saved_mapping)
            if configure:
                job = services.set_mapping(
                    actor=actor,
                    job=job,
                    mapping=job.mapping if mapping is None else mapping,
                    match_order=job.match_order if keys is None else keys,
                    save_as=payload.save_as,
                    default_owner=owner,
                )
            if payload.dry_run:
                job = services.dry_run(actor=actor, job=job)
            if payload.start:
                job = services.start(actor=actor, job=job)
    except BaseException:
        # Refused (or worse): the job row was rolled back; its stored file goes too.
        if job is not None:
            services.remove_file(job)
        raise
    response["Location"] = f"{request.path.rstrip('/')}/{job.pk}"
    return Status(201, job)


@router.get("/imports/{pk}", response={200: ImportJobDetailOut, **READ_ERRORS})
def get_import(request: HttpRequest, pk: int) -> Any:
    """One job: status, progress (poll this while it runs), counts and its first issues."""
    return selectors.get_job_for_user(request_actor(request), pk)


@router.get("/imports/{pk}/preview", response={200: PreviewOut, **READ_ERRORS})
def preview_import(request: HttpRequest, pk: int) -> Any:
    """What was detected, the first rows, the mapping, and the fields and keys to choose from."""
    job = selectors.get_job_for_user(request_actor(request), pk)
    preview = services.preview(job, rows=5)
    data = asdict(preview)
    data["fields"] = [{"value": value, "label": label} for value, label in preview.fields]
    data["match_keys"] = [{"value": value, "label": label} for value, label in preview.match_keys]
    return data


@router.put("/imports/{pk}/mapping", response={200: ImportJobDetailOut, **WRITE_ERRORS})
def set_import_mapping(request: HttpRequest, pk: int, payload: MappingIn) -> Any:
    """Set which column goes to which field and how existing records are found (before it
    starts); clears the last dry run."""
    actor = request_actor(request)
    job = selectors.get_job_for_user(actor, pk)
    job = services.set_mapping(
        actor=actor,
        job=job,
        mapping=payload.mapping,
        match_order=(
            DEFAULT_MATCH_ORDER[job.kind] if payload.match_order is None else payload.match_order
        ),
        save_as=payload.save_as,
        default_owner=_owner(payload.owner),
        defaults=payload.defaults,
        kind_options=(
            None
            if payload.stage_map is None and payload.add_stages is None
            else {"stage_map": payload.stage_map or {}, "add_stages": bool(payload.add_stages)}
        ),
    )
    return job


@router.post("/imports/{pk}/dry-run", response={200: ImportJobDetailOut, **WRITE_ERRORS})
def dry_run_import(request: HttpRequest, pk: int, params: Query[DryRunQuery]) -> Any:
    """Go through the rows as the import would, writing nothing; the counts and the first
    rejected rows are in ``dry_run`` and ``issues``."""
    actor = request_actor(request)
    job = selectors.get_job_for_user(actor, pk)
    job = services.dry_run(
        actor=actor, job=job, max_rows=None if params.full else services.DEFAULT_DRY_RUN_ROWS
    )
    return job


@router.post("/imports/{pk}/start", response={202: ImportJobDetailOut, **WRITE_ERRORS})
def start_import(request: HttpRequest, pk: int) -> Any:
    """Queue the import for the background worker; a failed one resumes after its last
    saved batch. Poll ``GET /imports/{id}`` for progress."""
    actor = request_actor(request)
    job = selectors.get_job_for_user(actor, pk)
    job = services.start(actor=actor, job=job)
    return Status(202, job)


@router.post("/imports/{pk}/cancel", response={200: ImportJobDetailOut, **WRITE_ERRORS})
def cancel_import(request: HttpRequest, pk: int) -> Any:
    """Stop the import after the batch being written; rows already imported stay."""
    actor = request_actor(request)
    job = selectors.get_job_for_user(actor, pk)
    job = services.cancel(actor=actor, job=job)
    return job


@router.get(
    "/imports/{pk}/errors",
    response={200: None, **READ_ERRORS},
    openapi_extra=CSV_RESPONSE,
)
def import_errors(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every rejected row as CSV: the file's columns with the row's original values, then the
    row number, the column(s) and the reason(s). Cells are safe from formula injection."""
    return error_csv_response(selectors.get_job_for_user(request_actor(request), pk))
