"""Import pages: upload, mapping, dry run, progress, result, error CSV; who may do what."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from openpyxl import Workbook

from cartera.accounts.models import Account
from cartera.core.testing import PERSONAS, Book, client_for
from cartera.imports import services
from cartera.imports.models import ImportJob, ImportMapping, ImportStatus
from cartera.users.models import User

#: Windows-1252, semicolons, Spanish headers: two good rows and one without a name.
SPANISH_CSV = (
    "Razón social;NIF/CIF;Correo electrónico;Teléfono;País;Ciudad\r\n"
    "Ferretería Núñez SL;B12345678;info@nunez.example;+34 911 234 567;España;Málaga\r\n"
    "Óptica Peña;B87654321;hola@pena.example;912 345 678;España;Cádiz\r\n"
    ';B11111111;sin@nombre.example;;Francia;=HYPERLINK("http://evil.example")\r\n'
).encode("cp1252")


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings: Any, tmp_path: Path) -> None:
    """Uploaded files go to a fresh folder per test."""
    settings.DATA_DIR = tmp_path


def upload_file(content: bytes, name: str = "clientes.csv") -> io.BytesIO:
    """A file object as the test client uploads it."""
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def upload(client: Client, content: bytes = SPANISH_CSV, **data: Any) -> Any:
    """POST the upload form."""
    name = data.pop("name", "clientes.csv")
    return client.post(
        reverse("imports:new"),
        {"kind": data.pop("kind", "accounts"), "file": upload_file(content, name), **data},
    )


def make_job(user: User, content: bytes = SPANISH_CSV, name: str = "clientes.csv") -> ImportJob:
    """A job as the upload page leaves it (status "uploaded")."""
    return services.create_job(
        actor=user, kind="accounts", file_name=name, stream=upload_file(content, name)
    )


def mapping_post(job: ImportJob, **overrides: Any) -> dict[str, Any]:
    """What the mapping form posts back with the proposed mapping, plus ``overrides``."""
    data: dict[str, Any] = {
        f"column_{index}": job.mapping.get(header, "") for index, header in enumerate(job.headers)
    }
    data.update({f"match_{index}": key for index, key in enumerate(job.match_order)})
    data["owner"] = job.user_id
    data.update(overrides)
    return data


def checked_job(user: User) -> ImportJob:
    """A job mapped and dry-run, ready to start."""
    job = make_job(user)
    job = services.set_mapping(
        actor=user, job=job, mapping=job.mapping, match_order=job.match_order
    )
    return services.dry_run(actor=user, job=job)


def text_of(response: Any) -> str:
    """The response's HTML with tags removed and spaces collapsed."""
    html = response.content.decode()
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def csv_rows(response: Any) -> list[list[str]]:
    """A streamed CSV response parsed back (BOM removed)."""
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


# --- the list and the upload page --------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_page_shows_only_own_jobs_except_to_admins(book: Book, persona: str) -> None:
    mine = make_job(book.owner, name="owner-file.csv")
    make_job(book.outsider, name="outsider-file.csv")
    response = client_for(book.persona(persona)).get(reverse("imports:list"))
    assert response.status_code == 200
    text = text_of(response)
    sees_owner = persona in {"owner", "admin"}
    sees_outsider = persona in {"outsider", "admin"}
    assert ("owner-file.csv" in text) is sees_owner
    assert ("outsider-file.csv" in text) is sees_outsider
    if sees_owner:
        assert reverse("imports:mapping", args=[mine.pk]) in response.content.decode()


def test_pages_need_sign_in(client: Client, book: Book) -> None:
    job = make_job(book.owner)
    for name, args in [("imports:list", []), ("imports:new", []), ("imports:detail", [job.pk])]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_navbar_links_to_imports_for_writers_only(book: Book) -> None:
    link = f'href="{reverse("imports:list")}"'
    assert link in client_for(book.owner).get(reverse("core:home")).content.decode()
    assert link not in client_for(book.read_only).get(reverse("core:home")).content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_upload_page_is_for_writers(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).get(reverse("imports:new"))
    assert response.status_code == (403 if persona == "read_only" else 200)


def test_read_only_cannot_upload(book: Book) -> None:
    response = upload(client_for(book.read_only))
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_upload_page_preselects_the_kind_and_shows_the_limit(book: Book, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 5 * 1024 * 1024
    response = client_for(book.owner).get(reverse("imports:new") + "?kind=contacts")
    html = response.content.decode()
    assert re.search(r'value="contacts"[^>]*checked', html)
    assert "5.0\xa0MB" in html
    # An unknown kind falls back to accounts instead of failing.
    html = client_for(book.owner).get(reverse("imports:new") + "?kind=<x>").content.decode()
    assert re.search(r'value="accounts"[^>]*checked', html)


def test_upload_goes_to_the_mapping(book: Book) -> None:
    response = upload(client_for(book.owner))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:mapping", args=[job.pk])
    assert (job.user, job.kind, job.status, job.file_name) == (
        book.owner,
        "accounts",
        ImportStatus.UPLOADED,
        "clientes.csv",
    )
    assert Path(job.file_path).read_bytes() == SPANISH_CSV


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, "photo.csv", "not a CSV or XLSX"),
        (b"\x00\x01\x02\x03\xff\xfe" * 4000, "junk.csv", "binary"),
        (b"name\n", "report.pdf", "Upload a .csv or .xlsx file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old.xlsx", ".xls"),
        (b"PK\x03\x04 not really a zip", "broken.xlsx", ""),
    ],
)
def test_bad_uploads_are_refused_on_the_form(
    book: Book, content: bytes, name: str, message: str, tmp_path: Path
) -> None:
    response = upload(client_for(book.owner), content, name=name)
    assert response.status_code == 422
    html = response.content.decode()
    assert "data-file-error" in html
    assert re.search(r'<input type="file" name="file"[^>]* class="form-control is-invalid"', html)
    assert message in text_of(response)
    assert not ImportJob.objects.exists()
    # Nothing refused stays on disk.
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


def test_upload_without_file_or_with_unknown_kind(book: Book) -> None:
    client = client_for(book.owner)
    response = client.post(reverse("imports:new"), {"kind": "accounts"})
    assert response.status_code == 422
    assert "This field is required." in text_of(response)
    response = upload(client, kind="invoices")
    assert response.status_code == 422
    assert "Select a valid choice" in text_of(response)
    assert not ImportJob.objects.exists()


def test_upload_over_the_size_limit_is_refused(book: Book, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 100
    response = upload(client_for(book.owner), b"name\n" + b"x" * 200 + b"\n")
    assert response.status_code == 422
    assert "too large" in text_of(response)
    assert not ImportJob.objects.exists()


# --- the mapping page --------------------------------------------------------------------------


def test_mapping_page_shows_detection_automatic_mapping_and_samples(book: Book) -> None:
    job = make_job(book.owner)
    response = client_for(book.owner).get(reverse("imports:mapping", args=[job.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(response)
    assert 'data-detected="format">CSV<' in html
    assert re.search(r'data-detected="encoding">[^<]*(Latin-1|Windows-1252)', html)
    assert 'data-detected="delimiter">semicolon (;)<' in html
    # Spanish headers are mapped automatically (the select has the field selected).
    form = response.context["form"]
    assert {header: form[f"column_{i}"].initial for i, header in enumerate(form.headers)} == {
        "Razón social": "name",
        "NIF/CIF": "tax_id",
        "Correo electrónico": "email",
        "Teléfono": "phone",
        "País": "country",
        "Ciudad": "city",
    }
    assert re.search(r'<option value="tax_id" selected>', html)
    # Sample rows, decoded from Windows-1252, and the default match order.
    for value in ("Ferretería Núñez SL", "Óptica Peña", "Cádiz", "B87654321"):
        assert value in text
    assert [form[f"match_{i}"].initial for i in range(5)] == [
        "external_id",
        "tax_id",
        "domain",
        "email",
        "name",
    ]
    # Keys the file cannot be matched by are named.
    assert "No column is mapped for: External id, Website domain." in text
    # Hostile cells are shown as text, never as markup.
    assert "=HYPERLINK(&quot;http://evil.example&quot;)" in html


def test_mapping_submit_runs_the_dry_run_and_shows_its_summary(book: Book) -> None:
    job = make_job(book.owner)
    client = client_for(book.owner)
    response = client.post(
        reverse("imports:mapping", args=[job.pk]), mapping_post(job, save_as="Clientes ES")
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED
    assert (job.dry_run_created, job.dry_run_updated, job.dry_run_rejected) == (2, 0, 1)
    assert ImportMapping.objects.get(owner=book.owner).name == "Clientes ES"
    assert not Account.objects.filter(name="Óptica Peña").exists()

    page = client.get(reverse("imports:detail", args=[job.pk]))
    html = page.content.decode()
    assert 'data-counts="dry_run"' in html
    assert re.search(r'data-count="created">2<', html)
    assert re.search(r'data-count="rejected">1<', html)
    assert 'data-row="4"' in html  # the row without a name, as a spreadsheet numbers it
    assert "name is empty" in text_of(page)
    assert f'action="{reverse("imports:start", args=[job.pk])}"' in html


def test_mapping_can_skip_columns_and_change_match_order(book: Book) -> None:
    job = make_job(book.owner)
    data = mapping_post(job, column_3="", match_0="tax_id", match_1="", match_2="")
    data.update(match_3="", match_4="")
    response = client_for(book.owner).post(reverse("imports:mapping", args=[job.pk]), data)
    assert response.status_code == 302
    job.refresh_from_db()
    assert "Teléfono" not in job.mapping
    assert job.match_order == ["tax_id"]


def test_mapping_sets_the_owner_of_new_accounts(book: Book) -> None:
    job = make_job(book.manager)
    client = client_for(book.manager)
    response = client.post(
        reverse("imports:mapping", args=[job.pk]), mapping_post(job, owner=book.owner.pk)
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.default_owner == book.owner
    # Someone the manager may not assign accounts to is not even offered.
    response = client.post(
        reverse("imports:mapping", args=[job.pk]), mapping_post(job, owner=book.outsider.pk)
    )
    assert response.status_code == 422
    assert "Select a valid choice" in text_of(response)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"column_0": ""}, "Map a column to the account"),
        ({"column_5": "name"}, "both go to"),
        ({"column_1": "no_such_field"}, "Select a valid choice"),
        ({"match_1": "external_id"}, "already used above"),
        ({"save_as": "x" * 101}, "at most 100 characters"),
    ],
)
def test_mapping_errors_are_shown_on_the_form(
    book: Book, overrides: dict[str, str], message: str
) -> None:
    job = make_job(book.owner)
    response = client_for(book.owner).post(
        reverse("imports:mapping", args=[job.pk]), mapping_post(job, **overrides)
    )
    assert response.status_code == 422
    assert message in text_of(response)
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED
    assert job.dry_run_at is None


def test_mapping_of_a_started_job_goes_back_to_its_page(book: Book) -> None:
    job = checked_job(book.owner)
    services.start(actor=book.owner, job=job)
    response = client_for(book.owner).get(reverse("imports:mapping", args=[job.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:detail", args=[job.pk])


# --- running, progress and the result ----------------------------------------------------------


def test_full_flow_upload_map_check_start_run_result_and_error_csv(
    book: Book, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(book.owner)
    upload(client)
    job = ImportJob.objects.get()
    client.post(reverse("imports:mapping", args=[job.pk]), mapping_post(job))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:start", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED
    task = DBTaskResult.objects.get()
    assert task.task_path == "cartera.imports.tasks.run_import"
    assert task.args_kwargs == {"args": [job.pk], "kwargs": {}}

    # While it waits, the page polls its status block every second.
    html = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert f'hx-get="{reverse("imports:progress", args=[job.pk])}"' in html
    assert 'hx-trigger="every 1s"' in html

    # The worker runs the task (as ``cartera worker`` would).
    task.task.call(*task.args_kwargs["args"])
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.updated_count, job.rejected_count) == (2, 0, 1)

    progress = client.get(
        reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "true"}
    )
    html = progress.content.decode()
    assert progress.status_code == 200
    assert "<html" not in html
    assert "hx-trigger" not in html  # done: polling stops
    assert 'data-status="done"' in html
    assert re.search(r'data-count="created">2<', html)
    assert re.search(r'data-count="rejected">1<', html)
    assert "3 rows accounted for" in text_of(progress)
    assert reverse("accounts:list") in html
    assert reverse("imports:errors", args=[job.pk]) in html

    owner_accounts = Account.objects.filter(owner=book.owner, tax_id="B12345678")
    assert owner_accounts.get().name == "Ferretería Núñez SL"

    rows = csv_rows(client.get(reverse("imports:errors", args=[job.pk])))
    assert rows[0] == [
        "Razón social",
        "NIF/CIF",
        "Correo electrónico",
        "Teléfono",
        "País",
        "Ciudad",
        "Row",
        "Column",
        "Reason",
    ]
    assert len(rows) == 2
    rejected = rows[1]
    assert rejected[1] == "B11111111"
    # The formula-looking cell comes back neutralised.
    assert rejected[5] == '\'=HYPERLINK("http://evil.example")'
    assert rejected[6] == "4"
    assert "name" in rejected[8]


def test_progress_block_shows_rows_speed_eta_and_counts_while_running(book: Book) -> None:
    job = checked_job(book.owner)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING,
        started_at=timezone.now(),
        total_rows=10_000,
        total_is_exact=True,
        processed_rows=4_000,
        created_count=3_000,
        updated_count=900,
        rejected_count=100,
        rows_per_second=2_000.0,
    )
    response = client_for(book.owner).get(
        reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    text = text_of(response)
    assert response["Cache-Control"] == "no-store"
    assert 'hx-trigger="every 1s"' in html
    assert 'aria-valuenow="40"' in html
    assert "4,000 of 10,000 rows" in text
    assert "2,000 rows/s" in text
    assert "about 3 s left" in text
    assert re.search(r'data-count="created">3,000<', html)
    assert f'action="{reverse("imports:cancel", args=[job.pk])}"' in html


def test_failed_job_says_why_and_offers_to_resume(book: Book) -> None:
    job = checked_job(book.owner)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED,
        started_at=timezone.now(),
        processed_rows=2,
        error_message="The worker was stopped.",
    )
    response = client_for(book.owner).get(reverse("imports:detail", args=[job.pk]))
    text = text_of(response)
    assert "The import stopped after 2 rows" in text
    assert "The worker was stopped." in text
    assert "Resume the import" in text


def test_cancel_a_queued_import(book: Book) -> None:
    job = checked_job(book.owner)
    services.start(actor=book.owner, job=job)
    client = client_for(book.owner)
    response = client.post(reverse("imports:cancel", args=[job.pk]), follow=True)
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
    assert "The import was cancelled." in text_of(response)
    # A cancelled job never runs.
    assert services.run(job.pk).created_count == 0
    assert not Account.objects.filter(tax_id="B12345678").exists()


def test_starting_twice_is_refused_with_a_message(book: Book) -> None:
    job = checked_job(book.owner)
    services.start(actor=book.owner, job=job)
    services.run(job.pk)
    response = client_for(book.owner).post(reverse("imports:start", args=[job.pk]), follow=True)
    assert response.status_code == 200
    assert "cannot be started" in text_of(response)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE


def test_dry_run_again_from_the_detail_page(book: Book) -> None:
    job = make_job(book.owner)
    services.set_mapping(actor=book.owner, job=job, mapping=job.mapping, match_order=[])
    response = client_for(book.owner).post(reverse("imports:dry_run", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.dry_run_created == 2


def test_delete_a_finished_import_keeps_its_records(
    book: Book, django_capture_on_commit_callbacks: Any
) -> None:
    job = checked_job(book.owner)
    services.start(actor=book.owner, job=job)
    services.run(job.pk)
    path = Path(job.file_path)
    client = client_for(book.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:delete", args=[job.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("imports:list")
    assert not ImportJob.objects.filter(pk=job.pk).exists()
    assert Account.objects.filter(tax_id="B12345678").exists()
    assert not path.exists()


# --- who may see and do what -------------------------------------------------------------------

JOB_PAGES = ["imports:detail", "imports:mapping", "imports:progress", "imports:errors"]
JOB_ACTIONS = ["imports:dry_run", "imports:start", "imports:cancel", "imports:delete"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_job_is_seen_only_by_its_owner_and_admins(book: Book, persona: str) -> None:
    job = make_job(book.owner)
    client = client_for(book.persona(persona))
    allowed = persona in {"owner", "admin"}
    for name in JOB_PAGES:
        response = client.get(reverse(name, args=[job.pk]))
        assert response.status_code == (200 if allowed else 404), name
    if not allowed:
        for name in JOB_ACTIONS:
            response = client.post(reverse(name, args=[job.pk]))
            assert response.status_code == 404, name
        job.refresh_from_db()
        assert job.status == ImportStatus.UPLOADED


def test_admin_may_run_someone_elses_import(book: Book) -> None:
    job = checked_job(book.owner)
    response = client_for(book.admin).post(reverse("imports:start", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED


def test_state_changes_are_post_only_and_need_csrf(book: Book) -> None:
    job = checked_job(book.owner)
    client = client_for(book.owner)
    for name in JOB_ACTIONS:
        assert client.get(reverse(name, args=[job.pk])).status_code == 405, name
    strict = client_for(book.owner, enforce_csrf_checks=True)
    assert strict.post(reverse("imports:start", args=[job.pk])).status_code == 403
    assert upload(strict).status_code == 403
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED
    assert ImportJob.objects.count() == 1


def test_unknown_job_is_404(book: Book) -> None:
    client = client_for(book.owner)
    assert client.get(reverse("imports:detail", args=[999_999])).status_code == 404
    assert client.get("/imports/99999999999999999999999/").status_code == 404


@pytest.mark.parametrize("extra", [1, 30])
def test_list_query_count_does_not_grow_with_jobs(
    book: Book, extra: int, django_assert_num_queries: Any
) -> None:
    ImportJob.objects.bulk_create(
        [
            ImportJob(user=book.owner, kind="accounts", file_name=f"f{i}.csv", format="csv")
            for i in range(extra)
        ]
    )
    client = client_for(book.owner)
    # session, user, the page of jobs (their user joined).
    with django_assert_num_queries(3):
        response = client.get(reverse("imports:list"))
    assert len(response.context["page"].items) == extra


def test_list_pages_with_a_cursor(book: Book) -> None:
    ImportJob.objects.bulk_create(
        [
            ImportJob(user=book.owner, kind="accounts", file_name=f"f{i:02}.csv", format="csv")
            for i in range(60)
        ]
    )
    client = client_for(book.owner)
    first = client.get(reverse("imports:list"))
    cursor = first.context["page"].next_cursor
    assert cursor
    second = client.get(reverse("imports:list"), {"cursor": cursor})
    assert len(second.context["page"].items) == 10
    ids = {job.pk for job in first.context["page"].items}
    assert ids.isdisjoint({job.pk for job in second.context["page"].items})
    bad = client.get(reverse("imports:list"), {"cursor": "garbage"})
    assert bad.status_code == 422
    assert "not valid" in text_of(bad)


def test_pages_render_in_spanish(book: Book) -> None:
    job = checked_job(book.owner)
    client = client_for(book.owner)
    client.cookies["django_language"] = "es"
    for name, args in [
        ("imports:list", []),
        ("imports:new", []),
        ("imports:mapping", [job.pk]),
        ("imports:detail", [job.pk]),
    ]:
        response = client.get(reverse(name, args=args), headers={"Accept-Language": "es"})
        assert response.status_code == 200, name
        assert '<html lang="es"' in response.content.decode()


def test_a_stalled_or_unclaimed_job_says_so(book: Book) -> None:
    job = checked_job(book.owner)
    client = client_for(book.owner)
    long_ago = timezone.now() - timedelta(minutes=10)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED, updated_at=long_ago)
    html = client.get(reverse("imports:progress", args=[job.pk])).content.decode()
    assert 'id="unclaimed"' in html
    assert "cartera worker" in html
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, heartbeat_at=long_ago, started_at=long_ago
    )
    html = client.get(reverse("imports:progress", args=[job.pk])).content.decode()
    assert 'id="stalled"' in html
    assert f'action="{reverse("imports:start", args=[job.pk])}"' in html
    # A fresh heartbeat: no warning.
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    html = client.get(reverse("imports:progress", args=[job.pk])).content.decode()
    assert 'id="stalled"' not in html
    assert 'id="unclaimed"' not in html


def test_polling_a_deleted_job_stops_the_poll(book: Book) -> None:
    job = make_job(book.owner)
    client = client_for(book.owner)
    pk = job.pk
    job.delete()
    response = client.get(reverse("imports:progress", args=[pk]), headers={"HX-Request": "true"})
    assert response.status_code == 286
    assert response.content == b""


@pytest.mark.parametrize("kind", ["accounts", "contacts", "interactions"])
def test_link_to_the_imported_list_works(book: Book, kind: str) -> None:
    job = make_job(book.owner)
    ImportJob.objects.filter(pk=job.pk).update(
        kind=kind, status=ImportStatus.DONE, started_at=timezone.now()
    )
    client = client_for(book.owner)
    page = client.get(reverse("imports:detail", args=[job.pk]))
    link = page.context["list_url"]
    assert f'href="{link}"' in page.content.decode()
    assert client.get(link).status_code == 200


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        (
            "contacts",
            b"First Name,Last Name,Email,Mobile Phone,Company\n"
            b"Ana,Ruiz,ana@example.com,+34 600 000 000,Acme\n",
            {
                "First Name": "first_name",
                "Last Name": "last_name",
                "Email": "email",
                "Mobile Phone": "mobile",
                "Company": "account",
            },
        ),
        (
            "interactions",
            b"Account\tSubject\tDate\nAcme\tKick-off\t2024-05-01\n",
            {"Account": "account", "Subject": "subject", "Date": "occurred_at"},
        ),
    ],
)
def test_mapping_page_for_contacts_and_interactions(
    book: Book, kind: str, content: bytes, expected: dict[str, str]
) -> None:
    client = client_for(book.owner)
    response = upload(client, content, kind=kind, name=f"{kind}.csv")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    form = page.context["form"]
    mapped = {header: form[f"column_{i}"].initial for i, header in enumerate(form.headers)}
    assert {header: mapped[header] for header in expected} == expected
    # Only accounts have an owner to choose.
    assert "owner" not in form.fields
    assert 'name="owner"' not in page.content.decode()


def test_hostile_headers_and_cells_are_escaped(book: Book) -> None:
    content = b'"<img src=x onerror=alert(1)>",Company name\n"<script>alert(2)</script>",Acme\n'
    client = client_for(book.owner)
    response = upload(client, content, name="x.csv")
    html = client.get(response["Location"]).content.decode()
    assert "<img src=x" not in html
    assert "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_saved_mapping_is_reused_and_can_be_chosen(book: Book) -> None:
    client = client_for(book.owner)
    first = make_job(book.owner)
    client.post(
        reverse("imports:mapping", args=[first.pk]),
        mapping_post(first, column_5="region", save_as="Clientes (provincia)"),
    )
    # The next file with the same columns gets it at once, and says so.
    second = make_job(book.owner)
    page = client.get(reverse("imports:mapping", args=[second.pk]))
    assert page.context["form"]["column_5"].initial == "region"
    assert "Your saved mapping “Clientes (provincia)” is in use." in text_of(page)

    # It can also be picked by name on a file whose mapping was changed since.
    services.set_mapping(
        actor=book.owner, job=second, mapping={"Razón social": "name"}, match_order=[]
    )
    response = client.post(
        reverse("imports:apply_mapping", args=[second.pk]), {"name": "Clientes (provincia)"}
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.mapping["Ciudad"] == "region"
    assert second.mapping_name == "Clientes (provincia)"

    missing = client.post(
        reverse("imports:apply_mapping", args=[second.pk]), {"name": "Nope"}, follow=True
    )
    assert "No saved mapping called Nope." in text_of(missing)
    # Someone else's job: not found.
    outsider = client_for(book.outsider).post(
        reverse("imports:apply_mapping", args=[second.pk]), {"name": "Clientes (provincia)"}
    )
    assert outsider.status_code == 404


def test_a_stored_file_that_disappeared_is_explained(book: Book) -> None:
    job = make_job(book.owner)
    Path(job.file_path).unlink()
    client = client_for(book.owner)
    response = client.get(reverse("imports:mapping", args=[job.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("imports:detail", args=[job.pk])
    assert "could not be read" in text_of(response)


def test_a_dry_run_that_could_not_finish_says_why(book: Book) -> None:
    job = make_job(book.owner)
    services.set_mapping(actor=book.owner, job=job, mapping=job.mapping, match_order=[])
    ImportJob.objects.filter(pk=job.pk).update(error_message="Row 7 is not text.")
    page = client_for(book.owner).get(reverse("imports:detail", args=[job.pk]))
    assert "The file could not be checked: Row 7 is not text." in text_of(page)
    assert "No dry run yet" in text_of(page)


def test_reading_options_override_the_detection(book: Book) -> None:
    # A UTF-8 file read as Windows-1252 on purpose, with a forced delimiter.
    content = "Nombre|Ciudad\nPeña|Cádiz\n".encode()
    client = client_for(book.owner)
    response = upload(client, content, name="pipes.txt", encoding="cp1252", delimiter="|")
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.encoding, job.delimiter, job.headers) == ("cp1252", "|", ["Nombre", "Ciudad"])
    # A delimiter not on offer is refused on the form, with the options open.
    refused = upload(client, SPANISH_CSV, delimiter="x")
    assert refused.status_code == 422
    assert 'id="reading-options" open' in refused.content.decode()


def test_a_chosen_sheet_is_read_and_a_missing_one_refused(book: Book) -> None:
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.append(["Notes"])
    second = workbook.create_sheet("Empresas")
    second.append(["Razón social", "NIF/CIF"])
    second.append(["Peña SL", "B1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client = client_for(book.owner)
    response = upload(client, buffer.getvalue(), name="libro.xlsx", sheet="Empresas")
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.sheet, job.headers) == ("Empresas", ["Razón social", "NIF/CIF"])
    missing = upload(client, buffer.getvalue(), name="libro.xlsx", sheet="Nope")
    assert missing.status_code == 422
    assert "data-file-error" in missing.content.decode()
    assert ImportJob.objects.count() == 1


def test_each_poll_is_four_queries(book: Book, django_assert_num_queries: Any) -> None:
    job = checked_job(book.owner)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    client = client_for(book.owner)
    # session, user, the job (its user joined), its first issues.
    with django_assert_num_queries(4):
        response = client.get(
            reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "true"}
        )
    assert 'data-status="running"' in response.content.decode()
