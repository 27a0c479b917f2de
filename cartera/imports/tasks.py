"""Background task of the import: run (or resume) one job, on whichever queue is configured."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import(job_id: int) -> str:
    """Import the rows of job ``job_id``; safe to run twice (it resumes after its checkpoint,
    and a finished job is left alone). Returns the job's final status."""
    from .services import run

    return str(run(job_id).status)
