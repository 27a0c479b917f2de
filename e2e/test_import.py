"""Importing a small Spanish XLSX in the browser: upload, mapping preview, dry run, run, result."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from cartera.accounts.models import Account
from cartera.core.testing import Book
from cartera.imports.models import ImportJob, ImportStatus
from cartera.imports.services import create_job
from e2e.helpers import SignIn, shot

pytestmark = pytest.mark.browser

HEADERS = ["Razón social", "NIF/CIF", "Correo electrónico", "Teléfono", "País"]
ROWS: list[list[Any]] = [
    ["Ferretería Núñez SL", "B12345678", "info@nunez.example", "+34 911 234 567", "España"],
    ["Óptica Peña", "B87654321", "hola@pena.example", "912 345 678", "España"],
    [None, "B11111111", "sin@nombre.example", None, "Francia"],  # no name: rejected
]


def build_xlsx(path: Path) -> Path:
    """A small workbook as a person would save it from Excel."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Clientes"
    sheet.append(HEADERS)
    for row in ROWS:
        sheet.append(row)
    workbook.save(path)
    return path


def run_worker() -> None:
    """What ``cartera worker`` does: run every queued task, then stop."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="e2e-worker",
        excluded_queue_names=[],
    ).run()


def test_import_a_spanish_xlsx_from_upload_to_the_accounts_list(
    page: Page,
    book: Book,
    sign_in_as: SignIn,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    settings: Any,
) -> None:
    """The whole import flow in chromium, with a screenshot of each step."""
    settings.DATA_DIR = tmp_path
    workbook = build_xlsx(tmp_path / "clientes.xlsx")
    # The progress block polls the server; hold its requests in the browser while the worker
    # runs in this thread (the in-memory test database has one connection for both).
    page.route(re.compile(r"/imports/\d+/progress/"), lambda route: route.continue_())
    sign_in_as(book.owner)

    # 1. From the navigation to the upload form.
    page.goto("/")
    page.get_by_role("link", name="Imports", exact=True).click()
    expect(page.get_by_role("heading", name="Imports")).to_be_visible()
    page.get_by_role("link", name=re.compile("New import")).click()
    expect(page.get_by_role("heading", name="Import a file")).to_be_visible()
    expect(page.get_by_role("radio", name="Accounts")).to_be_checked()
    page.set_input_files("input[name=file]", str(workbook))
    shot(page, request, "1-upload")
    page.get_by_role("button", name=re.compile("Upload and map the columns")).click()

    # 2. The mapping preview: detected format, automatic mapping, sample rows.
    expect(page).to_have_url(re.compile(r"/imports/\d+/mapping/$"))
    expect(page.locator("[data-detected=format]")).to_have_text("XLSX")
    expect(page.locator("[data-detected=sheet]")).to_have_text("Clientes")
    expect(page.locator("[data-detected=rows]")).to_contain_text("3")
    table = page.locator("#mapping-table")
    expected = {
        "Razón social": "name",
        "NIF/CIF": "tax_id",
        "Correo electrónico": "email",
        "Teléfono": "phone",
        "País": "country",
    }
    for header, field in expected.items():
        expect(table.get_by_label(header, exact=True)).to_have_value(field)
    expect(table).to_contain_text("Ferretería Núñez SL")
    expect(table).to_contain_text("Óptica Peña")
    expect(table).to_contain_text("B11111111")
    expect(page.locator("select[name=match_0]")).to_have_value("external_id")
    shot(page, request, "2-mapping")
    page.get_by_role("button", name=re.compile("Check with a dry run")).click()

    # 3. The dry run: what would happen, nothing written yet.
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    status = page.locator("#import-status")
    expect(status).to_have_attribute("data-status", "checked")
    dry = page.locator("[data-counts=dry_run]")
    expect(dry.locator("[data-count=created]")).to_have_text("2")
    expect(dry.locator("[data-count=updated]")).to_have_text("0")
    expect(dry.locator("[data-count=rejected]")).to_have_text("1")
    expect(page.locator("#issues tr[data-row='4']")).to_contain_text("name is empty")
    assert not Account.objects.filter(tax_id="B12345678").exists()
    shot(page, request, "3-dry-run")
    page.get_by_role("button", name="Run import").click()

    # 4. Queued, with the progress block polling; the worker picks the job up.
    expect(status).to_have_attribute("data-status", "queued")
    expect(page.get_by_role("progressbar")).to_be_visible()
    expect(status).to_contain_text("Waiting for the background worker")
    shot(page, request, "4-queued")
    run_worker()
    job = ImportJob.objects.get()
    assert job.status == "done"

    # 5. The poll brings the result in place: counts, the rejected row and its reason.
    expect(status).to_have_attribute("data-status", "done", timeout=10_000)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    result = page.locator("[data-counts=run]")
    expect(result.locator("[data-count=created]")).to_have_text("2")
    expect(result.locator("[data-count=rejected]")).to_have_text("1")
    expect(page.locator("#result-message")).to_contain_text("3 rows accounted for")
    expect(page.locator("#issues tr[data-row='4']")).to_contain_text("name is empty")
    expect(page.locator("#download-errors")).to_have_attribute(
        "href", f"/imports/{job.pk}/errors.csv"
    )
    shot(page, request, "5-done")

    # 6. The imported accounts are in the list.
    page.locator("#open-list").click()
    expect(page).to_have_url(re.compile(r"/accounts/"))
    expect(page.locator("#account-results")).to_contain_text("Ferretería Núñez SL")
    expect(page.locator("#account-results")).to_contain_text("Óptica Peña")
    shot(page, request, "6-accounts")
    # 7. The list of imports has it, done, with its counts.
    page.get_by_role("link", name="Imports", exact=True).click()
    row = page.locator("#import-results tbody tr").filter(has_text="clientes.xlsx")
    expect(row.locator("[data-status]")).to_have_text("Done")
    expect(row).to_contain_text("Accounts")
    shot(page, request, "7-imports")
    imported = Account.objects.get(tax_id="B12345678")
    assert (imported.name, imported.owner, imported.country.code) == (
        "Ferretería Núñez SL",
        book.owner,
        "ES",
    )


def test_upload_errors_show_on_the_form(
    page: Page,
    book: Book,
    sign_in_as: SignIn,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    settings: Any,
) -> None:
    """A file that is not a table is refused on the form, and nothing is kept."""
    settings.DATA_DIR = tmp_path
    junk = tmp_path / "photo.csv"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    sign_in_as(book.owner)
    page.goto("/imports/new/?kind=contacts")
    expect(page.get_by_role("radio", name="Contacts")).to_be_checked()
    page.set_input_files("input[name=file]", str(junk))
    page.get_by_role("button", name=re.compile("Upload and map the columns")).click()
    expect(page.locator("[data-file-error]")).to_contain_text("not a CSV or XLSX")
    expect(page.get_by_role("radio", name="Contacts")).to_be_checked()
    page.locator("#reading-options summary").click()
    expect(page.get_by_label("Encoding")).to_be_visible()
    shot(page, request, "refused")
    assert not ImportJob.objects.exists()


def test_progress_bar_follows_a_running_import_and_stops_polling_when_done(
    page: Page,
    book: Book,
    sign_in_as: SignIn,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    settings: Any,
) -> None:
    """The bar, speed and time left move with each committed batch; done swaps the result in."""
    settings.DATA_DIR = tmp_path
    job = create_job(
        actor=book.owner,
        kind="accounts",
        file_name="big.csv",
        stream=io.BytesIO(b"Company name\nAcme\n"),
    )
    jobs = ImportJob.objects.filter(pk=job.pk)
    # A worker is part-way through a large file (as each committed batch leaves the row).
    jobs.update(
        status=ImportStatus.RUNNING,
        started_at=timezone.now(),
        total_rows=100_000,
        total_is_exact=True,
        processed_rows=40_000,
        created_count=39_990,
        rejected_count=10,
        rows_per_second=20_000.0,
    )
    polls: list[str] = []

    def count_poll(route: Any) -> None:
        polls.append(route.request.url)
        route.continue_()

    page.route(re.compile(r"/imports/\d+/progress/"), count_poll)
    sign_in_as(book.owner)
    page.goto(f"/imports/{job.pk}/")
    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "40")
    expect(page.locator("#progress-rows")).to_have_text("40,000 of 100,000 rows")
    expect(page.locator("#progress-speed")).to_have_text("20,000 rows/s")
    expect(page.locator("#progress-eta")).to_have_text("about 3 s left")
    expect(page.locator("[data-counts=run] [data-count=created]")).to_have_text("39,990")
    shot(page, request, "running")

    jobs.update(processed_rows=80_000, created_count=79_980, rejected_count=20)
    expect(bar).to_have_attribute("aria-valuenow", "80")
    expect(page.locator("#progress-eta")).to_have_text("about 1 s left")
    expect(page.locator("[data-counts=run] [data-count=rejected]")).to_have_text("20")

    jobs.update(
        status=ImportStatus.DONE,
        processed_rows=100_000,
        created_count=99_980,
        finished_at=timezone.now(),
        run_seconds=5.0,
    )
    status = page.locator("#import-status")
    expect(status).to_have_attribute("data-status", "done")
    expect(bar).to_have_count(0)
    expect(page.locator("#result-message")).to_contain_text("100,000 rows accounted for in 5 s")
    shot(page, request, "done")
    # Finished: the page stops asking.
    seen = len(polls)
    assert seen >= 2
    page.wait_for_timeout(2_500)
    assert len(polls) == seen
