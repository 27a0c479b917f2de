"""Pages of the import flow: upload, column mapping, dry run, progress and result.

Views only parse input, call a selector or a service and render; the services decide.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cartera.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from cartera.core.export import Echo
from cartera.core.views import add_domain_error, render_page_or_partial
from cartera.users.access import assignable_users
from cartera.users.models import User

from . import forms_sales, services
from .forms import MappingForm, UploadForm
from .kinds_sales import kinds_for
from .mapping import DEFAULT_MATCH_ORDER, MATCH_KEY_FIELDS
from .models import ImportJob, ImportKind, ImportStatus
from .readers import delimiter_label, encoding_label
from .selectors import get_job_for_user, job_issues, job_list, saved_mappings
from .services import Preview

#: The status that makes htmx stop polling.
HTMX_STOP_POLLING = 286
#: Rejected rows listed on the page (the error CSV has them all).
ISSUES_SHOWN = 20
#: Sample rows shown under the mapping.
SAMPLE_ROWS = 5
#: A running job whose last batch is older than this may have lost its worker.
STALLED_AFTER = timedelta(minutes=2)
#: A queued job nobody picked up for this long suggests no worker is running.
UNCLAIMED_AFTER = timedelta(minutes=1)
#: Where each kind's records are listed after an import (newest changes first).
LIST_PAGES: dict[str, tuple[str, str]] = {
    ImportKind.ACCOUNTS: ("accounts:list", "?sort=-updated_at"),
    ImportKind.CONTACTS: ("contacts:list", "?sort=-updated_at"),
    ImportKind.INTERACTIONS: ("activities:list", ""),
    ImportKind.USERS: ("users:user_list", ""),
    ImportKind.PRODUCTS: ("catalog:list", ""),
    ImportKind.OPPORTUNITIES: ("sales:list", ""),
}


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def duration_text(value: timedelta | None) -> str:
    """``timedelta(seconds=75)`` → ``"1 min 15 s"``; under a second → ``"< 1 s"``."""
    if value is None:
        return ""
    seconds = round(value.total_seconds())
    if seconds < 1:
        return _("< 1 s")
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if minutes:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": seconds}
    return _("%(seconds)d s") % {"seconds": seconds}


def _list_url(job: ImportJob) -> str:
    name, query = LIST_PAGES.get(job.kind, ("core:home", ""))
    try:
        return reverse(name) + query
    except NoReverseMatch:  # a list page that does not exist (yet)
        return reverse("core:home")


def _job_context(job: ImportJob) -> dict[str, Any]:
    """What the detail page and its polled status block show of a job."""
    issues = job_issues(job, limit=ISSUES_SHOWN)
    now = timezone.now()
    last_sign = job.heartbeat_at or job.updated_at
    return {
        "stalled": job.status == ImportStatus.RUNNING and now - last_sign > STALLED_AFTER,
        "unclaimed": job.status == ImportStatus.QUEUED and now - job.updated_at > UNCLAIMED_AFTER,
        "nav": "imports",
        "job": job,
        "issues": issues,
        "issues_are_dry_run": job.started_at is None,
        "eta_text": duration_text(job.eta),
        "duration_text": duration_text(job.duration),
        "list_url": _list_url(job),
        "encoding_label": encoding_label(job.encoding) if job.encoding else "",
        "delimiter_label": delimiter_label(job.delimiter) if job.delimiter else "",
    }


@require_GET
@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    """The person's import jobs, newest first (keyset pages)."""
    user = _user(request)
    context: dict[str, Any] = {"nav": "imports"}
    status = 200
    try:
        context["page"] = job_list(user, cursor=request.GET.get("cursor") or None)
    except InvalidInput as error:
        context["page"], status = None, error.status
        context["page_error"] = error.field_errors
    return render_page_or_partial(
        request, "imports/list.html", "imports/partials/job_rows.html", context, status
    )


@require_http_methods(["GET", "POST"])
@login_required
def import_new(request: HttpRequest) -> HttpResponse:
    """Step 1: upload a file; on success go on to its column mapping."""
    user = _user(request)
    services.ensure_can_import(user)
    max_bytes = services.max_upload_bytes()
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, max_bytes=max_bytes, kinds=kinds_for(user))
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = services.create_job(
                    actor=user,
                    kind=form.cleaned_data["kind"],
                    file_name=upload.name or "upload",
                    stream=upload,
                    encoding=form.cleaned_data["encoding"] or None,
                    delimiter=form.cleaned_data["delimiter"] or None,
                    sheet=form.cleaned_data["sheet"].strip() or None,
                )
            except DomainError as error:
                _file_error(form, error)
                form.restyle()
            else:
                return redirect("imports:mapping", pk=job.pk)
        status = 422
    else:
        kind = request.GET.get("kind")
        initial = {"kind": kind if kind in ImportKind.values else ImportKind.ACCOUNTS}
        form = UploadForm(initial=initial, max_bytes=max_bytes, kinds=kinds_for(user))
    return render_page_or_partial(
        request,
        "imports/new.html",
        "imports/new.html",
        {"nav": "imports", "form": form, "max_bytes": max_bytes},
        status,
    )


def _file_error(form: UploadForm | MappingForm, error: DomainError) -> None:
    """A refusal about the file shows on the file field; others where they belong."""
    if isinstance(form, UploadForm) and not error.field_errors:
        form.add_error("file", error.message)
        return
    fields = {
        ("file" if name in {"stream", "file_name"} else name): messages_
        for name, messages_ in error.field_errors.items()
    }
    add_domain_error(form, DomainError(error.message, field_errors=fields))


def _mapping_form(job: ImportJob, user: User, data: Any = None) -> tuple[MappingForm, Preview]:
    preview = services.preview(job, rows=SAMPLE_ROWS)
    owners = assignable_users(user) if job.kind == ImportKind.ACCOUNTS else None
    form = MappingForm(
        data,
        headers=preview.headers,
        fields=preview.fields,
        match_keys=preview.match_keys,
        mapping=preview.mapping,
        match_order=preview.match_order or DEFAULT_MATCH_ORDER[job.kind],
        owners=owners,
        owner=job.default_owner or (user if user.can_write else None),
        initial={"save_as": job.mapping_name},
    )
    forms_sales.add_option_fields(form, job, user)
    return form, preview


def _mapping_errors(form: MappingForm, error: DomainError) -> None:
    """Put ``set_mapping``'s messages on the form: a header's on its select, keys on the keys."""
    columns = {header: f"column_{index}" for index, header in enumerate(form.headers)}
    for name, texts in error.field_errors.items():
        target: str | None
        if name in columns:
            target = columns[name]
        elif name == "match_order":
            target = "match_0"
        elif name in form.fields:
            target = name
        else:
            target = None
        for text in texts:
            form.add_error(target, text)
    if not error.field_errors:
        form.add_error(None, error.message)


@require_http_methods(["GET", "POST"])
@login_required
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2: check the detected format, map each column, pick the match keys; then dry run."""
    user = _user(request)
    job = get_job_for_user(user, pk)
    if not job.can_edit_mapping:
        messages.info(request, _("This import has started: its mapping can no longer change."))
        return redirect("imports:detail", pk=job.pk)
    try:
        return _mapping_page(request, user, job)
    except InvalidInput as error:
        # The stored file cannot be read any more (removed from the disk, say).
        _refusal(request, error)
        return redirect("imports:detail", pk=job.pk)


def _mapping_page(request: HttpRequest, user: User, job: ImportJob) -> HttpResponse:
    status = 200
    if request.method == "POST":
        services.ensure_can_import(user)
        form, preview = _mapping_form(job, user, request.POST)
        kind_options = forms_sales.chosen_options(form, job) if form.is_valid() else None
        if form.is_valid():
            try:
                job = services.set_mapping(
                    actor=user,
                    job=job,
                    mapping=form.mapping(),
                    match_order=form.match_order(),
                    save_as=form.cleaned_data["save_as"].strip() or None,
                    default_owner=form.chosen_owner(),
                    defaults=forms_sales.chosen_defaults(form, job),
                    kind_options=kind_options,
                )
                job = services.dry_run(actor=user, job=job)
            except DomainError as error:
                _mapping_errors(form, error)
            else:
                return redirect("imports:detail", pk=job.pk)
        status = 422
    else:
        form, preview = _mapping_form(job, user)
    samples = preview.rows
    columns = [
        {
            "header": header,
            "field": bound,
            "samples": [row[index] if index < len(row) else "" for row in samples],
        }
        for index, (header, bound) in enumerate(form.column_fields())
    ]
    headers = set(preview.headers)
    saved = [
        item
        for item in saved_mappings(user, job.kind)
        if {column for column, target in item.mapping.items() if target} <= headers
    ]
    mapped = set(preview.mapping.values())
    key_fields = MATCH_KEY_FIELDS.get(job.kind, {})
    context = {
        **_job_context(job),
        "keys_without_column": [
            label
            for key, label in preview.match_keys
            if not mapped.intersection(key_fields.get(key, ()))
        ],
        "form": form,
        "option_fields": forms_sales.option_fields(form),
        "preview": preview,
        "saved_mappings": saved,
        "columns": columns,
        "sample_count": len(samples),
    }
    return render_page_or_partial(
        request, "imports/mapping.html", "imports/mapping.html", context, status
    )


@require_POST
@login_required
def import_apply_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Use one of the person's saved mappings for this file, then show it for checking."""
    user = _user(request)
    job = get_job_for_user(user, pk)
    name = request.POST.get("name", "")[:100]
    try:
        services.apply_saved_mapping(actor=user, job=job, name=name)
    except DomainError as error:
        _refusal(request, error)
    else:
        messages.success(
            request, _("The saved mapping “%(name)s” was applied: check it below.") % {"name": name}
        )
    return redirect("imports:mapping", pk=job.pk)


@require_GET
@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The dry-run summary and the run button; then live progress; then the result."""
    job = get_job_for_user(_user(request), pk)
    return render_page_or_partial(
        request, "imports/detail.html", "imports/partials/status.html", _job_context(job)
    )


@require_GET
@login_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The status block alone: what the progress bar polls every second while the job runs.

    To htmx, a job that is gone (deleted in another tab) answers 286: stop polling.
    """
    try:
        job = get_job_for_user(_user(request), pk)
    except NotFound:
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponse(status=HTMX_STOP_POLLING)
        raise
    response = render_page_or_partial(
        request, "imports/partials/status.html", "imports/partials/status.html", _job_context(job)
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def import_dry_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Check the file again with the current mapping (writes nothing)."""
    user = _user(request)
    job = get_job_for_user(user, pk)
    try:
        services.dry_run(actor=user, job=job)
    except DomainError as error:
        _refusal(request, error)
    return redirect("imports:detail", pk=job.pk)


@require_POST
@login_required
def import_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue the import; the detail page then follows its progress."""
    user = _user(request)
    job = get_job_for_user(user, pk)
    try:
        services.start(actor=user, job=job)
    except DomainError as error:
        _refusal(request, error)
    return redirect("imports:detail", pk=job.pk)


@require_POST
@login_required
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop the import after the batch being written (rows already imported stay)."""
    user = _user(request)
    job = get_job_for_user(user, pk)
    try:
        services.cancel(actor=user, job=job)
    except DomainError as error:
        _refusal(request, error)
    else:
        messages.info(request, _("The import was cancelled."))
    return redirect("imports:detail", pk=job.pk)


def _refusal(request: HttpRequest, error: DomainError) -> None:
    """A refused action: permission problems are the 403 page, the rest a message."""
    if isinstance(error, Forbidden):
        raise error
    texts = [text for group in error.field_errors.values() for text in group] or [error.message]
    for text in texts:
        messages.error(request, text)


@require_POST
@login_required
def import_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Forget a job that is not running, with its stored file (imported records stay)."""
    user = _user(request)
    job = get_job_for_user(user, pk)
    try:
        services.delete_job(actor=user, job=job)
    except DomainError as error:
        _refusal(request, error)
        return redirect("imports:detail", pk=job.pk)
    messages.success(request, _("The import of %(name)s was deleted.") % {"name": job.file_name})
    return redirect("imports:list")


@require_GET
@login_required
def import_errors(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every rejected row as CSV: its original columns plus row, column and reason."""
    job = get_job_for_user(_user(request), pk)
    return error_csv_response(job)


def error_csv_response(job: ImportJob) -> StreamingHttpResponse:
    """The job's error CSV, streamed (UTF-8 with BOM so spreadsheets read accents right)."""
    rows = services.error_rows(job)
    language = translation.get_language()

    def lines() -> Iterator[str]:
        writer = csv.writer(Echo())
        first = True
        with translation.override(language):
            for row in rows:
                line = writer.writerow(row)
                yield ("\ufeff" + line) if first else line
                first = False

    stem = slugify(job.file_name.rsplit(".", 1)[0]) or "import"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}-errors-{job.pk}.csv"'
    return response
