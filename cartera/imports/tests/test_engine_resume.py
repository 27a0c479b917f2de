"""Crashes, kills, resumes, dry runs and cancelling: never a half-written batch or a duplicate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from auditlog.models import LogEntry

from cartera.accounts.models import Account
from cartera.core.testing import Book
from cartera.imports import engine, services
from cartera.imports.models import ImportJob, ImportRowIssue, ImportStatus

from .support import counts, csv_bytes, dry_counts, error_csv, run_import, upload, uploads

__all__ = ["uploads"]

ROWS = 10


def numbered_csv(rows: int = ROWS, *, bad_every: int = 0) -> bytes:
    lines: list[list[str]] = [["External ID", "Name", "Email"]]
    for i in range(1, rows + 1):
        email = "broken" if bad_every and i % bad_every == 0 else f"c{i}@example.com"
        lines.append([f"E-{i}", f"Company {i}", email])
    return csv_bytes(lines)


def mapped_job(book: Book, content: bytes) -> ImportJob:
    job = upload(book.owner, content)
    return services.set_mapping(
        actor=book.owner, job=job, mapping=job.mapping, match_order=job.match_order
    )


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "BATCH_SIZE", 3)


def crash_on_batch(monkeypatch: pytest.MonkeyPatch, number: int, error: BaseException) -> None:
    """Make the ``number``-th batch fail after writing its rows, before it commits."""
    original = engine.Importer.commit_batch
    calls = {"n": 0}

    def commit_batch(self: engine.Importer, result: Any) -> None:
        calls["n"] += 1
        if calls["n"] == number:
            raise error
        original(self, result)

    monkeypatch.setattr(engine.Importer, "commit_batch", commit_batch)


@pytest.mark.usefixtures("small_batches")
def test_a_crash_keeps_the_committed_batches_and_the_resume_finishes_the_rest(
    book: Book, uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = mapped_job(book, numbered_csv(bad_every=4))
    crash_on_batch(monkeypatch, 3, RuntimeError("disk on fire"))

    job = services.run(job.pk)

    assert job.status == ImportStatus.FAILED
    assert "disk on fire" in job.error_message
    assert job.checkpoint_row == 7  # rows 2-4 and 5-7 committed; 8-10 rolled back
    assert job.processed_rows == 6
    assert Account.objects.filter(external_id__startswith="E-").count() == 5  # one bad email
    assert ImportRowIssue.objects.filter(job=job).count() == 1
    assert LogEntry.objects.filter(additional_data__import_job=job.pk).count() == 5

    monkeypatch.undo()
    monkeypatch.setattr(engine, "BATCH_SIZE", 3)
    job = services.run(job.pk)

    assert job.status == ImportStatus.DONE
    assert counts(job) == (8, 0, 0, 2)
    assert job.processed_rows == job.total_rows == ROWS
    assert Account.objects.filter(external_id__startswith="E-").count() == 8
    assert sorted(ImportRowIssue.objects.filter(job=job).values_list("row_number", flat=True)) == [
        5,
        9,
    ]
    assert LogEntry.objects.filter(additional_data__import_job=job.pk).count() == 8
    assert len(error_csv(job)) == 3


@pytest.mark.usefixtures("small_batches")
def test_a_killed_worker_leaves_the_job_running_and_a_resume_takes_it_over(
    book: Book, uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = mapped_job(book, numbered_csv())
    crash_on_batch(monkeypatch, 2, KeyboardInterrupt())

    with pytest.raises(KeyboardInterrupt):
        services.run(job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING  # as a killed process leaves it
    assert job.checkpoint_row == 4
    monkeypatch.undo()
    monkeypatch.setattr(engine, "BATCH_SIZE", 3)

    job = services.run(job.pk)

    assert job.status == ImportStatus.DONE
    assert counts(job) == (ROWS, 0, 0, 0)
    assert Account.objects.filter(external_id__startswith="E-").count() == ROWS


def test_re_running_a_finished_job_or_the_whole_file_changes_nothing(
    book: Book, uploads: Path
) -> None:
    content = numbered_csv()
    job = run_import(book.owner, content)
    entries = LogEntry.objects.count()

    assert services.run(job.pk).status == ImportStatus.DONE
    again = run_import(book.owner, content)

    assert counts(again) == (0, 0, ROWS, 0)
    assert LogEntry.objects.count() == entries
    assert Account.objects.filter(external_id__startswith="E-").count() == ROWS


@pytest.mark.usefixtures("small_batches")
def test_a_second_runner_stops_when_another_took_the_job_over(
    book: Book, uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = mapped_job(book, numbered_csv())
    original = engine.Importer.commit_batch

    def commit_batch(self: engine.Importer, result: Any) -> None:
        original(self, result)
        # Someone resumed the job meanwhile: its token replaces ours.
        ImportJob.objects.filter(pk=self.job.pk).update(run_token="someone-else")

    monkeypatch.setattr(engine.Importer, "commit_batch", commit_batch)

    services.run(job.pk)

    job.refresh_from_db()
    assert job.processed_rows == 3
    assert Account.objects.filter(external_id__startswith="E-").count() == 3


@pytest.mark.usefixtures("small_batches")
def test_dry_run_writes_nothing_and_counts_what_would_happen(book: Book, uploads: Path) -> None:
    content = csv_bytes(
        [
            ["External ID", "Name", "Email"],
            ["E-1", "Company 1", "c1@example.com"],
            ["E-2", "Company 2", "broken"],
            ["", "Muñoz Logística", "info@munoz.example"],
            ["E-1", "Company 1", "c1@example.com"],  # the same record again: unchanged
            ["E-1", "Company One", ""],  # … then renamed, in a later batch
        ]
    )
    accounts = Account.objects.count()
    entries = LogEntry.objects.count()
    job = mapped_job(book, content)

    job = services.dry_run(actor=book.owner, job=job)

    assert job.status == ImportStatus.CHECKED
    assert dry_counts(job) == (1, 2, 1, 1)
    assert job.dry_run_rows == 5 and job.dry_run_complete
    assert Account.objects.count() == accounts
    assert LogEntry.objects.count() == entries
    (issue,) = ImportRowIssue.objects.filter(job=job)
    assert issue.dry_run and issue.row_number == 3
    assert error_csv(job)[1][-3:] == ["3", "Email", "Email: Enter a valid email address."]
    book.account.refresh_from_db()
    assert book.account.email == ""


def test_dry_run_of_the_first_rows_only(book: Book, uploads: Path) -> None:
    job = mapped_job(book, numbered_csv())

    job = services.dry_run(actor=book.owner, job=job, max_rows=4)

    assert job.dry_run_rows == 4 and not job.dry_run_complete
    assert job.dry_run_created == 4


@pytest.mark.usefixtures("small_batches")
def test_cancelling_stops_after_the_batch_being_written(book: Book, uploads: Path) -> None:
    job = mapped_job(book, numbered_csv())
    seen: list[int] = []

    def progress(current: ImportJob) -> None:
        seen.append(current.processed_rows)
        if len(seen) == 1:
            services.cancel(actor=book.owner, job=current)

    job = services.run(job.pk, progress=progress)

    assert job.status == ImportStatus.CANCELLED
    assert job.processed_rows == 3
    assert Account.objects.filter(external_id__startswith="E-").count() == 3
    assert services.run(job.pk).status == ImportStatus.CANCELLED  # stays cancelled


def test_progress_is_reported_after_each_batch(
    book: Book, uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "BATCH_SIZE", 4)
    job = mapped_job(book, numbered_csv())
    seen: list[tuple[int, str]] = []

    services.run(job.pk, progress=lambda current: seen.append((current.processed_rows,
                                                                 current.status)))  # fmt: skip

    assert seen == [(4, "running"), (8, "running"), (10, "running")]
    job.refresh_from_db()
    assert job.rows_per_second > 0
    assert job.started_at is not None and job.finished_at is not None
    assert job.percent == 100


def test_a_file_gone_missing_fails_the_job_with_a_message(book: Book, uploads: Path) -> None:
    job = mapped_job(book, numbered_csv())
    Path(job.file_path).unlink()

    job = services.run(job.pk)

    assert job.status == ImportStatus.FAILED
    assert job.error_message == "The file could not be read."
