"""The import's fast paths give exactly what the plain ones give: the forked reader, the
precomputed phone texts, the ASCII shortcut of normalising, the case-insensitive key lookups."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.db import connection
from phonenumber_field.phonenumber import PhoneNumber

from cartera.accounts.models import Account
from cartera.contacts.models import Contact
from cartera.core.testing import Book
from cartera.core.text import normalize
from cartera.imports import engine
from cartera.imports import mapping as mp
from cartera.imports.models import ImportRowIssue, ImportStatus

from .support import counts, csv_bytes, error_csv, run_import, uploads

__all__ = ["uploads"]


def accounts_file(rows: int = 12) -> bytes:
    lines: list[list[str]] = [["External ID", "Name", "Email", "Phone", "Country", "Revenue"]]
    for i in range(1, rows + 1):
        email = "broken" if i % 5 == 0 else f"info{i}@Empresa{i}.ES"
        phone = "+34 912 34 56 78" if i % 2 else "(0) 123 45"  # a valid one; an old plan
        lines.append([f"E-{i}", f"Empresa Ñandú {i}", email, phone, "España", "1.234,50 €"])
    return csv_bytes(lines)


def outcome(job: Any) -> tuple[Any, ...]:
    """What a job did, without ids and times."""
    accounts = sorted(
        (a.external_id, a.name, a.email, str(a.phone), a.search_text, a.annual_revenue)
        for a in Account.objects.filter(external_id__startswith="E-")
    )
    issues = sorted(
        (i.row_number, i.column, i.reason)
        for i in ImportRowIssue.objects.filter(job=job, dry_run=False)
    )
    return counts(job), accounts, issues, error_csv(job)


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Read every file in a child process (however small); count the runs that did."""
    runs: list[int] = []
    original = engine.Importer._converted_in_process

    def spy(self: engine.Importer, *args: Any) -> Any:
        runs.append(self.job.pk)
        return original(self, *args)

    monkeypatch.setattr(engine, "CONVERT_PROCESS_MIN_ROWS", 0)
    monkeypatch.setattr(engine, "BATCH_SIZE", 4)
    monkeypatch.setattr(engine.Importer, "_converted_in_process", spy)
    return runs


def test_the_forked_reader_imports_what_the_thread_imports(
    book: Book, uploads: Path, monkeypatch: pytest.MonkeyPatch, forked: list[int]
) -> None:
    with monkeypatch.context() as plain:
        plain.setattr(engine, "CONVERT_PROCESS_MIN_ROWS", None)
        threaded = run_import(book.owner, accounts_file())
        expected = outcome(threaded)
        Account.objects.filter(external_id__startswith="E-").delete()
    assert not forked
    job = run_import(book.owner, accounts_file())
    assert forked == [job.pk]
    assert job.status == ImportStatus.DONE
    assert outcome(job) == expected
    assert counts(job) == (10, 0, 0, 2)
    # Every created account is audited, attributed to the importer and the job.
    entries = LogEntry.objects.filter(additional_data__import_job=job.pk)
    assert entries.filter(action=LogEntry.Action.CREATE).count() == 10
    assert set(entries.values_list("actor_id", flat=True)) == {book.owner.pk}
    # Re-importing through the forked reader changes nothing.
    again = run_import(book.owner, accounts_file())
    assert counts(again) == (0, 0, 10, 2)


def test_a_dry_run_reads_in_the_child_too(book: Book, uploads: Path, forked: list[int]) -> None:
    job = run_import(book.owner, accounts_file(), dry_run=True)
    assert forked == [job.pk]
    assert (job.dry_run_created, job.dry_run_rejected) == (10, 2)
    assert not Account.objects.filter(external_id__startswith="E-").exists()


def test_an_error_in_the_child_fails_the_job_with_its_message(
    book: Book, uploads: Path, monkeypatch: pytest.MonkeyPatch, forked: list[int]
) -> None:
    original = engine.Importer.convert

    def convert(self: engine.Importer, number: int, values: list[str]) -> Any:
        if number == 7:
            raise RuntimeError("disk went away")
        return original(self, number, values)

    monkeypatch.setattr(engine.Importer, "convert", convert)
    job = run_import(book.owner, accounts_file())
    assert forked == [job.pk]
    assert job.status == ImportStatus.FAILED
    assert "disk went away" in job.error_message
    # The batch before the failing row is in; resuming continues after it.
    assert job.checkpoint_row == 5
    assert Account.objects.filter(external_id__startswith="E-").count() == 4


def test_imported_phone_numbers_show_and_store_as_ordinary_ones() -> None:
    for text, region in [
        ("+34 912 34 56 78", "ES"),
        ("912345678", "ES"),
        ("(212) 555-0123", "US"),
        ("(0) 123 45", "ES"),  # not valid there: kept as written
    ]:
        number, _valid = mp.to_phone(text, region)
        assert isinstance(number, PhoneNumber)
        plain = PhoneNumber()
        plain.merge_from(number)
        assert str(number) == PhoneNumber.__str__(plain)
        assert number == plain
        assert mp.phone_db_value(number) == (plain.as_e164 if plain.is_valid() else plain.raw_input)


@pytest.mark.django_db
def test_contacts_from_an_import_search_like_saved_ones(book: Book, uploads: Path) -> None:
    content = csv_bytes(
        [
            ["First Name", "Last Name", "Email", "Phone", "Company"],
            ["Zoë", "Núñez", "zoe@example.com", "+34 912 34 56 78", book.account.name],
        ]
    )
    job = run_import(book.owner, content, kind="contacts")
    assert counts(job) == (1, 0, 0, 0)
    imported = Contact.objects.get(email="zoe@example.com")
    saved = Contact.objects.get(pk=imported.pk)
    saved.refresh_search_fields()
    assert (imported.search_text, imported.name_key) == (saved.search_text, saved.name_key)
    assert "34 912 34 56 78" in imported.search_text


def test_contacts_match_by_email_whatever_its_case(book: Book, uploads: Path) -> None:
    header = ["First Name", "Email", "Company"]
    first = run_import(
        book.owner,
        csv_bytes([header, ["Ana", "Ana.Lopez@Example.com", book.account.name]]),
        kind="contacts",
    )
    assert counts(first) == (1, 0, 0, 0)
    again = run_import(
        book.owner,
        csv_bytes([header, ["Ana María", "ana.lopez@example.COM", book.account.name]]),
        kind="contacts",
    )
    assert counts(again) == (0, 1, 0, 0)
    assert Contact.objects.filter(email__iexact="ana.lopez@example.com").count() == 1


_SPACES = re.compile(r"\s+")


def reference_normalize(value: str) -> str:
    """``normalize()`` as it was written first (the slow, obviously right way)."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


@pytest.mark.parametrize(
    "text",
    [
        "  Muñoz  Pérez ",
        "ACME\tS.L.\n",
        "Straße ﬁnance",
        "İstanbul Ǆemal",
        "a\x1cb\x85c\u00a0d",
        "plain ascii, 123",
        "",
    ],
)
def test_normalize_keeps_its_results(text: str) -> None:
    assert normalize(text) == reference_normalize(text)
    assert mp.fast_normalize(text) == reference_normalize(text)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN pending lists: PostgreSQL")
def test_an_import_leaves_no_pending_search_index_entries(book: Book, uploads: Path) -> None:
    """New rows go into the GIN indexes' pending lists (searches scan them in full until a
    vacuum); the import merges them when it finishes, so searches are fast at once."""

    def pending_pages() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(gin_clean_pending_list(i.indexrelid)), 0) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
                " WHERE am.amname = 'gin' AND i.indrelid = 'accounts_account'::regclass"
            )
            return int(cursor.fetchone()[0])

    pending_pages()  # whatever the book's own accounts left
    Account.objects.create(name="Pending SL", owner=book.owner)
    assert pending_pages() > 0  # a plain insert leaves its entries pending

    job = run_import(book.owner, accounts_file(30))

    assert job.status == ImportStatus.DONE
    assert pending_pages() == 0
