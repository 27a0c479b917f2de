"""Reads of import jobs: a person sees their own; administrators see everyone's."""

from __future__ import annotations

from django.db.models import QuerySet

from cartera.core.errors import NotFound
from cartera.core.pagination import Page, keyset_page
from cartera.users.models import User

from .models import ImportJob, ImportMapping, ImportRowIssue

JOB_ORDERING = ("-created_at", "-id")


def visible_jobs(user: User) -> QuerySet[ImportJob]:
    """Import jobs ``user`` may see: their own (all of them for administrators)."""
    return ImportJob.objects.visible_to(user).select_related("user")


def get_job_for_user(user: User, pk: int | str) -> ImportJob:
    """The job ``pk`` if ``user`` may see it; ``NotFound`` otherwise (missing or not theirs)."""
    try:
        return visible_jobs(user).get(pk=int(pk))
    except (ImportJob.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc


def job_list(user: User, *, cursor: str | None = None, limit: int | None = None) -> Page[ImportJob]:
    """One keyset page of the jobs ``user`` sees, newest first (one query)."""
    return keyset_page(visible_jobs(user), ordering=JOB_ORDERING, cursor=cursor, limit=limit)


def job_issues(
    job: ImportJob, *, dry_run: bool | None = None, limit: int | None = 100
) -> list[ImportRowIssue]:
    """The first ``limit`` issues of the job's real run (``dry_run=False``) or of its last dry run
    (``True``); by default the real run's once it started, else the dry run's."""
    if dry_run is None:
        dry_run = job.started_at is None
    queryset = ImportRowIssue.objects.filter(job=job, dry_run=dry_run).order_by("row_number", "id")
    return list(queryset[:limit] if limit else queryset)


def saved_mappings(user: User, kind: str | None = None) -> QuerySet[ImportMapping]:
    """The column mappings ``user`` saved (of one kind), by name."""
    queryset = ImportMapping.objects.filter(owner=user)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.order_by("name")
