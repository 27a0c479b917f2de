"""The job service and selectors the web pages and the API use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from cartera.core.errors import Forbidden, InvalidInput, NotFound
from cartera.core.testing import Book
from cartera.imports import selectors, services
from cartera.imports.models import ImportJob, ImportMapping, ImportStatus
from cartera.imports.tasks import run_import as run_import_task

from .support import csv_bytes, run_import, upload, uploads

__all__ = ["uploads"]

CONTENT = csv_bytes(
    [["Razón social", "NIF/CIF", "Teléfono", "Notas internas"],
     ["Acme", "B1", "912 345 678", "x"], ["Beta", "B2", "", "y"]]
)  # fmt: skip


def test_upload_detects_the_file_and_proposes_a_mapping(book: Book, uploads: Path) -> None:
    job = upload(book.owner, CONTENT, name="../../etc/clientes.csv")

    assert job.status == ImportStatus.UPLOADED
    assert job.file_name == "clientes.csv"
    assert Path(job.file_path).is_relative_to(uploads / "imports")
    assert Path(job.file_path).read_bytes() == CONTENT
    assert (job.format, job.encoding, job.delimiter) == ("csv", "utf-8", ",")
    assert job.headers == ["Razón social", "NIF/CIF", "Teléfono", "Notas internas"]
    assert job.mapping == {"Razón social": "name", "NIF/CIF": "tax_id", "Teléfono": "phone"}
    assert job.match_order == ["external_id", "tax_id", "domain", "email", "name"]
    assert (job.total_rows, job.total_is_exact) == (2, True)
    assert job.file_size == len(CONTENT)


def test_preview_shows_sample_rows_and_the_choices(book: Book, uploads: Path) -> None:
    job = upload(book.owner, CONTENT)

    preview = services.preview(job, rows=1)

    assert preview.rows == [["Acme", "B1", "912 345 678", "x"]]
    assert preview.row_numbers == [2]
    assert preview.unmapped == ["Notas internas"]
    assert preview.encoding_label == "UTF-8" and preview.delimiter_label == "comma (,)"
    assert ("tax_id", "Tax id") in preview.fields
    assert preview.match_keys[0] == ("external_id", "External id")
    assert preview.missing == []


@pytest.mark.parametrize(
    ("mapping", "order", "message"),
    [
        ({"Razón social": "nonsense"}, [], "Unknown field nonsense"),
        ({"Razón social": "name", "NIF/CIF": "name"}, [], "both go to Name"),
        ({"NIF/CIF": "tax_id"}, [], "account's name"),
        ({"Missing": "name"}, [], "no column Missing"),
        ({"Razón social": "name"}, ["color"], "cannot be matched by color"),
        ({"Razón social": "name"}, ["name", "name"], "twice"),
    ],
)
def test_set_mapping_refuses_what_cannot_work(
    book: Book, uploads: Path, mapping: dict[str, str], order: list[str], message: str
) -> None:
    job = upload(book.owner, CONTENT)

    with pytest.raises(InvalidInput) as error:
        services.set_mapping(actor=book.owner, job=job, mapping=mapping, match_order=order)

    assert message in str(error.value.field_errors)
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED


def test_a_saved_mapping_is_reused_for_the_next_file_with_those_columns(
    book: Book, uploads: Path
) -> None:
    first = upload(book.owner, CONTENT)
    services.set_mapping(
        actor=book.owner,
        job=first,
        mapping={"Razón social": "name", "Notas internas": "description"},
        match_order=["name"],
        save_as="Mi ERP",
    )
    saved = ImportMapping.objects.get(owner=book.owner, name="Mi ERP")
    assert saved.mapping == {"Razón social": "name", "Notas internas": "description"}

    second = upload(book.owner, CONTENT)
    other = upload(book.manager, CONTENT)

    assert second.mapping == saved.mapping and second.match_order == ["name"]
    assert second.mapping_name == "Mi ERP"
    assert other.mapping_name == ""  # mappings are personal
    assert list(selectors.saved_mappings(book.owner, "accounts")) == [saved]


def test_a_saved_mapping_by_name(book: Book, uploads: Path) -> None:
    job = upload(book.owner, CONTENT)
    ImportMapping.objects.create(
        owner=book.owner, kind="accounts", name="Solo nombre", mapping={"Razón social": "name"}
    )

    job = services.apply_saved_mapping(actor=book.owner, job=job, name="Solo nombre")

    assert job.mapping == {"Razón social": "name"} and job.status == ImportStatus.MAPPED
    with pytest.raises(InvalidInput):
        services.apply_saved_mapping(actor=book.owner, job=job, name="Otro")


def test_uploads_too_large_or_of_an_unknown_kind_are_refused(
    book: Book, uploads: Path, settings: Any
) -> None:
    settings.IMPORT_MAX_BYTES = 10
    with pytest.raises(InvalidInput) as error:
        upload(book.owner, CONTENT)
    assert "larger than 10" in error.value.field_errors["file"][0]
    settings.IMPORT_MAX_BYTES = 10_000
    with pytest.raises(InvalidInput) as error:
        upload(book.owner, CONTENT, kind="deals")
    assert "kind" in error.value.field_errors
    assert not [path for path in (uploads / "imports").rglob("*") if path.is_file()]


def test_only_the_owner_or_an_administrator_acts_on_a_job(book: Book, uploads: Path) -> None:
    job = upload(book.owner, CONTENT)

    for stranger in (book.manager, book.outsider):
        with pytest.raises(NotFound):
            services.set_mapping(actor=stranger, job=job, mapping=job.mapping, match_order=[])
        with pytest.raises(NotFound):
            selectors.get_job_for_user(stranger, job.pk)
    with pytest.raises(Forbidden):
        services.ensure_can_import(book.read_only)
    assert selectors.get_job_for_user(book.admin, job.pk) == job
    assert selectors.get_job_for_user(book.owner, str(job.pk)) == job
    with pytest.raises(NotFound):
        selectors.get_job_for_user(book.owner, "nope")


def test_job_list_is_a_keyset_page_of_ones_own_jobs(
    book: Book, uploads: Path, django_assert_num_queries: Any
) -> None:
    mine = [upload(book.owner, CONTENT) for _ in range(3)]
    upload(book.manager, CONTENT)

    with django_assert_num_queries(1):  # the page, with each job's person joined
        page = selectors.job_list(book.owner, limit=2)
        names = [job.user.full_name for job in page.items]
    following = selectors.job_list(book.owner, cursor=page.next_cursor, limit=2)

    assert [job.pk for job in page.items + following.items] == [job.pk for job in mine[::-1]]
    assert names == ["Olga Owner", "Olga Owner"]
    assert following.next_cursor is None
    assert len(selectors.job_list(book.admin).items) == 4


def test_start_queues_the_task_which_runs_the_job(
    book: Book, uploads: Path, django_capture_on_commit_callbacks: Any
) -> None:
    job = upload(book.owner, CONTENT)
    job = services.set_mapping(
        actor=book.owner, job=job, mapping=job.mapping, match_order=job.match_order
    )

    with django_capture_on_commit_callbacks(execute=True):
        job = services.start(actor=book.owner, job=job)

    assert job.status == ImportStatus.QUEUED
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [job.pk]
    assert run_import_task.call(job.pk) == "done"
    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportStatus.DONE, 2)
    with pytest.raises(InvalidInput):
        services.set_mapping(actor=book.owner, job=job, mapping=job.mapping, match_order=[])


def test_cancel_before_it_runs(book: Book, uploads: Path) -> None:
    job = upload(book.owner, CONTENT)

    job = services.cancel(actor=book.owner, job=job)

    assert job.status == ImportStatus.CANCELLED and job.finished_at is not None
    assert services.run(job.pk).created_count == 0


def test_defaults_fill_empty_cells_and_are_checked(book: Book, uploads: Path) -> None:
    job = run_import(book.owner, CONTENT, defaults={"currency": "usd", "country": "Spain"})
    assert job.created_count == 2
    assert set(ImportJob.objects.get(pk=job.pk).options["defaults"]) == {"currency", "country"}

    job = upload(book.owner, CONTENT)
    with pytest.raises(InvalidInput) as error:
        services.set_mapping(
            actor=book.owner,
            job=job,
            mapping=job.mapping,
            match_order=[],
            defaults={"currency": "Monopoly money"},
        )
    assert "defaults" in error.value.field_errors


def test_the_default_owner_must_be_assignable(book: Book, uploads: Path) -> None:
    job = upload(book.owner, CONTENT)

    with pytest.raises(InvalidInput) as error:
        services.set_mapping(
            actor=book.owner,
            job=job,
            mapping=job.mapping,
            match_order=[],
            default_owner=book.manager,
        )

    assert "owner" in error.value.field_errors


def test_deleting_a_job_removes_its_file(
    book: Book, uploads: Path, django_capture_on_commit_callbacks: Any
) -> None:
    job = upload(book.owner, CONTENT)
    path = Path(job.file_path)

    with django_capture_on_commit_callbacks(execute=True):
        services.delete_job(actor=book.owner, job=job)

    assert not path.exists()
    assert not ImportJob.objects.filter(pk=job.pk).exists()


def test_error_rows_group_each_rows_problems(book: Book, uploads: Path) -> None:
    content = csv_bytes(
        [
            ["Name", "Email", "Country"],
            ["Acme", "bad", "Mars"],
            ["=cmd|' /C calc'!A0", "x@y.example", "Mars"],
            ["Fine", "", ""],
        ]
    )

    job = run_import(book.owner, content)

    lines = list(services.error_rows(job))
    assert lines == [
        ["Name", "Email", "Country", "Row", "Column", "Reason"],
        [
            "Acme",
            "bad",
            "Mars",
            "2",
            "Email; Country",
            "Email: Enter a valid email address. | Country: Unknown country: write its name or "
            "ISO code.",
        ],
        [
            "'=cmd|' /C calc'!A0",
            "x@y.example",
            "Mars",
            "3",
            "Country",
            "Country: Unknown country: write its name or ISO code.",
        ],
    ]
