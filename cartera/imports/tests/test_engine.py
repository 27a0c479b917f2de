"""Importing accounts: upsert, match order, dedupe, access, audit and hostile cells."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from cartera.accounts.models import Account
from cartera.accounts.services import create_account
from cartera.activities.models import Interaction
from cartera.core.errors import Forbidden, InvalidInput
from cartera.core.testing import Book
from cartera.imports.models import ImportRowIssue

from .support import counts, csv_bytes, error_csv, run_import, upload, uploads, xlsx_bytes

__all__ = ["uploads"]

HEADER = ["External ID", "Company name", "NIF/CIF", "Website", "Email", "City", "País"]


def accounts_csv(*rows: list[str], header: list[str] = HEADER, **options: str) -> bytes:
    return csv_bytes([header, *rows], **options)


def imported(book: Book) -> Account:
    """The one account the test imported (not the book's own)."""
    return Account.objects.exclude(pk__in=[book.account.pk, book.outsider_account.pk]).get()


# --- creating and updating --------------------------------------------------------------------


def test_new_rows_are_created_with_their_values_and_derived_columns(
    book: Book, uploads: Path
) -> None:
    content = accounts_csv(
        ["A-1", "Ferretería Núñez", "ES-B 12.345.678", "www.nunez.example/es", "Info@Nunez.Example",
         "Málaga", "España"],
    )  # fmt: skip

    job = run_import(book.owner, content)

    assert counts(job) == (1, 0, 0, 0)
    account = imported(book)
    assert account.name == "Ferretería Núñez"
    assert account.external_id == "A-1"
    assert account.tax_id == "ES-B 12.345.678"
    assert account.tax_id_key == "B12345678"
    assert account.website == "https://www.nunez.example/es"
    assert account.domain == "nunez.example"
    assert account.email == "Info@nunez.example"
    assert account.country.code == "ES"
    assert account.name_key == "ferreteria nunez"
    assert "malaga" in account.search_text
    assert account.owner == book.owner
    assert account.version == 1


def test_the_same_file_again_is_a_no_op(book: Book, uploads: Path) -> None:
    content = accounts_csv(
        ["A-1", "Acme", "B11111111", "acme.example", "hi@acme.example", "Madrid", "ES"],
        ["A-2", "Beta", "B22222222", "beta.example", "hi@beta.example", "Vigo", "ES"],
    )
    run_import(book.owner, content)
    before = list(Account.objects.order_by("pk").values_list("pk", "version", "updated_at"))
    entries = LogEntry.objects.count()

    again = run_import(book.owner, content)

    assert counts(again) == (0, 0, 2, 0)
    assert list(Account.objects.order_by("pk").values_list("pk", "version", "updated_at")) == before
    assert LogEntry.objects.count() == entries


def test_only_mapped_non_empty_cells_change_a_record(book: Book, uploads: Path) -> None:
    account = book.account
    account.city, account.tax_id, account.description = "Madrid", "B12345678", "Keep me"
    account.save()
    content = csv_bytes(
        [["Nombre", "NIF", "Población", "Teléfono"], ["", "B12345678", "", "912 345 678"]]
    )

    job = run_import(
        book.owner, content, mapping={"Nombre": "name", "NIF": "tax_id", "Teléfono": "phone"}
    )

    assert counts(job) == (0, 1, 0, 0)
    account.refresh_from_db()
    assert account.city == "Madrid"
    assert account.description == "Keep me"
    assert account.name == "Muñoz Logística"
    assert str(account.phone.as_e164) == "+34912345678"


def test_an_update_bumps_the_version_and_is_audited_as_the_importer(
    book: Book, uploads: Path
) -> None:
    account = book.account
    version = account.version
    content = csv_bytes([["Name", "City", "Status"], ["Muñoz Logística", "Sevilla", "Customer"]])

    job = run_import(book.manager, content)

    assert counts(job) == (0, 1, 0, 0)
    account.refresh_from_db()
    assert account.city == "Sevilla"
    assert account.status == "active"
    assert account.version == version + 1
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Account), object_id=account.pk
    ).latest("pk")
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.actor == book.manager
    assert entry.actor_email == book.manager.email
    assert entry.additional_data == {"import_job": job.pk}
    assert entry.changes == {"city": ["", "Sevilla"]}


def test_a_status_change_goes_on_the_timeline_as_the_service_does(
    book: Book, uploads: Path
) -> None:
    content = csv_bytes([["Name", "Status"], ["Muñoz Logística", "churned"]])

    run_import(book.owner, content)

    change = Interaction.objects.filter(account=book.account, kind="status_change").get()
    assert change.subject == "Status changed from Active to Churned"
    assert change.author == book.owner


def test_creates_are_audited_in_bulk_with_their_values(book: Book, uploads: Path) -> None:
    content = accounts_csv(
        ["A-1", "Acme", "", "", "", "Madrid", "ES"], ["A-2", "Beta", "", "", "", "Vigo", "ES"]
    )

    job = run_import(book.owner, content)

    entries = LogEntry.objects.filter(additional_data__import_job=job.pk).order_by("object_repr")
    assert [(e.object_repr, e.action, e.actor_id) for e in entries] == [
        ("Acme", LogEntry.Action.CREATE, book.owner.pk),
        ("Beta", LogEntry.Action.CREATE, book.owner.pk),
    ]
    assert entries[0].changes["name"] == ["None", "Acme"]
    assert entries[0].changes["city"] == ["None", "Madrid"]
    assert entries[0].changes["owner"] == ["None", str(book.owner.pk)]
    assert "search_text" not in entries[0].changes and "domain" not in entries[0].changes


def test_new_accounts_go_to_the_chosen_owner(book: Book, uploads: Path) -> None:
    content = csv_bytes(
        [
            ["Name", "Owner"],
            ["Acme", ""],
            ["Beta", "Olga Owner"],
            ["Gamma", "teammate@example.com"],
            ["Delta", "Oscar Outsider"],
        ]
    )

    job = run_import(book.manager, content, default_owner=book.teammate)

    owners = dict(Account.objects.values_list("name", "owner__email"))
    assert owners["Acme"] == "teammate@example.com"
    assert owners["Beta"] == "owner@example.com"
    assert owners["Gamma"] == "teammate@example.com"
    assert "Delta" not in owners
    assert counts(job) == (3, 0, 0, 1)
    issue = ImportRowIssue.objects.get(job=job)
    assert (issue.row_number, issue.column, issue.field) == (5, "Owner", "owner")
    assert "Oscar Outsider" in issue.reason


# --- matching ---------------------------------------------------------------------------------


def existing(book: Book, **values: str) -> Account:
    external_id = values.pop("external_id", "")
    account = create_account(actor=book.owner, data={"name": "Existing", **values})
    if external_id:  # not editable through the account service (set by imports)
        account.external_id = external_id
        account.save()
    return account


@pytest.mark.parametrize(
    ("stored", "row"),
    [
        ({"external_id": "CRM-9"}, ["CRM-9", "Renamed", "", "", "", "", ""]),
        ({"tax_id": "B-12345678"}, ["", "Renamed", "ESB12345678", "", "", "", ""]),
        ({"website": "https://www.acme.example"}, ["", "Renamed", "", "acme.example/", "", "", ""]),
        ({"email": "Hola@Acme.example"}, ["", "Renamed", "", "", "hola@acme.EXAMPLE", "", ""]),
    ],
)  # fmt: skip
def test_each_key_finds_the_existing_account(
    book: Book, uploads: Path, stored: dict[str, str], row: list[str]
) -> None:
    account = existing(book, **stored)

    job = run_import(book.owner, accounts_csv(row))

    assert counts(job) == (0, 1, 0, 0)
    account.refresh_from_db()
    assert account.name == "Renamed"


def test_names_match_whatever_their_accents_and_case(book: Book, uploads: Path) -> None:
    job = run_import(book.owner, accounts_csv(["", "MUNOZ LOGISTICA", "", "", "", "Bilbao", ""]))

    assert counts(job) == (0, 1, 0, 0)
    book.account.refresh_from_db()
    assert book.account.city == "Bilbao"


@pytest.mark.parametrize(
    ("order", "winner"), [(["email", "tax_id"], "By email"), (["tax_id", "email"], "By tax id")]
)
def test_match_order_decides_which_key_wins(
    book: Book, uploads: Path, order: list[str], winner: str
) -> None:
    create_account(actor=book.owner, data={"name": "By tax id", "tax_id": "B11111111"})
    create_account(actor=book.owner, data={"name": "By email", "email": "x@y.example"})
    content = csv_bytes(
        [["Name", "NIF", "Email", "City"], ["", "B11111111", "x@y.example", "Soria"]]
    )

    job = run_import(book.owner, content, match_order=order)

    assert counts(job) == (0, 1, 0, 0)
    assert Account.objects.get(city="Soria").name == winner


def test_without_match_keys_every_row_creates(book: Book, uploads: Path) -> None:
    content = accounts_csv(["", "Muñoz Logística", "", "", "", "", ""])

    job = run_import(book.owner, content, match_order=[])

    assert counts(job) == (1, 0, 0, 0)
    assert Account.objects.filter(name="Muñoz Logística").count() == 2


def test_a_weaker_key_never_merges_two_different_external_ids(book: Book, uploads: Path) -> None:
    acme = existing(book, external_id="SF-1")
    acme.name = "Acme"
    acme.save()

    job = run_import(book.owner, accounts_csv(["SF-2", "Acme", "", "", "", "Lyon", ""]))

    assert counts(job) == (1, 0, 0, 0)
    acme.refresh_from_db()
    assert (acme.external_id, acme.city) == ("SF-1", "")


def test_a_key_shared_by_several_records_is_reported(book: Book, uploads: Path) -> None:
    create_account(actor=book.owner, data={"name": "Twin"})
    create_account(actor=book.owner, data={"name": "Twin"})

    job = run_import(book.owner, accounts_csv(["", "twin", "", "", "", "Oslo", ""]))

    assert counts(job) == (0, 0, 0, 1)
    (issue,) = ImportRowIssue.objects.filter(job=job)
    assert issue.field == "name" and issue.column == "Company name"
    assert "2 existing records have this name" in issue.reason


def test_the_same_key_twice_in_a_file_updates_instead_of_duplicating(
    book: Book, uploads: Path
) -> None:
    content = accounts_csv(
        ["A-1", "Acme", "", "", "", "Madrid", ""],
        ["a-2", "Beta", "", "", "", "", ""],
        ["A-1", "Acme Ibérica", "", "", "", "", "ES"],
        ["", "BETA", "", "beta.example", "", "", ""],
    )

    job = run_import(book.owner, content)

    assert counts(job) == (2, 2, 0, 0)
    acme = Account.objects.get(external_id="A-1")
    assert (acme.name, acme.city, acme.country.code) == ("Acme Ibérica", "Madrid", "ES")
    beta = Account.objects.get(external_id="a-2")
    assert beta.domain == "beta.example"
    creates = LogEntry.objects.filter(additional_data__import_job=job.pk)
    assert creates.count() == 2  # one entry per record, with its final values
    assert creates.get(object_id=acme.pk).changes["name"] == ["None", "Acme Ibérica"]


def test_duplicates_across_batches(
    book: Book, uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cartera.imports import engine

    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    rows = [[f"E-{i % 3}", f"Company {i % 3}", "", "", "", f"City {i}", ""] for i in range(7)]

    job = run_import(book.owner, accounts_csv(*rows))

    assert counts(job) == (3, 4, 0, 0)
    assert Account.objects.filter(external_id__startswith="E-").count() == 3
    assert Account.objects.get(external_id="E-0").city == "City 6"


# --- access -----------------------------------------------------------------------------------


def test_an_outsider_cannot_update_the_books_account(book: Book, uploads: Path) -> None:
    book.account.tax_id = "B99999999"
    book.account.save()
    content = accounts_csv(
        ["", "Hijacked", "B99999999", "", "", "", ""], ["", "Own new", "", "", "", "", ""]
    )

    job = run_import(book.outsider, content)

    assert counts(job) == (1, 0, 0, 1)
    book.account.refresh_from_db()
    assert book.account.name == "Muñoz Logística"
    issue = ImportRowIssue.objects.get(job=job)
    assert issue.row_number == 2 and issue.column == "NIF/CIF"
    assert "belongs to someone else's book" in issue.reason
    assert Account.objects.get(name="Own new").owner == book.outsider


def test_read_only_people_cannot_import(book: Book, uploads: Path) -> None:
    with pytest.raises(Forbidden):
        upload(book.read_only, accounts_csv(["", "Acme", "", "", "", "", ""]))


def test_a_teammate_updates_the_account_they_are_on_the_team_of(book: Book, uploads: Path) -> None:
    job = run_import(book.teammate, accounts_csv(["", "Muñoz Logística", "", "", "", "León", ""]))

    assert counts(job) == (0, 1, 0, 0)
    book.account.refresh_from_db()
    assert book.account.city == "León"


# --- hostile and broken cells -----------------------------------------------------------------


def test_bad_rows_are_rejected_with_row_column_and_reason_and_good_ones_go_in(
    book: Book, uploads: Path
) -> None:
    content = csv_bytes(
        [
            ["Name", "Email", "Country", "Employees", "Website", "Description"],
            ["Good one", "a@good.example", "ES", "12", "good.example", ""],
            ["Bad mail", "not-an-email", "ES", "", "", ""],
            ["Bad country", "", "Atlantis", "", "", ""],
            ["", "nameless@x.example", "", "", "", ""],
            ["Too short"],
            ["Too long", "", "", "", "", "", "extra"],
            ["Huge", "", "", "", "", "x" * 100_000],
            ["Nul\x00byte", "", "", "", "", ""],
            ["Also good", "", "", "", "", ""],
        ]
    )

    job = run_import(book.owner, content)

    assert counts(job) == (2, 0, 0, 7)
    assert set(Account.objects.values_list("name", flat=True)) >= {"Good one", "Also good"}
    issues = {i.row_number: (i.column, i.reason) for i in ImportRowIssue.objects.filter(job=job)}
    assert issues[3] == ("Email", "Enter a valid email address.")
    assert issues[4] == ("Country", "Unknown country: write its name or ISO code.")
    assert issues[5][1] == "The account's name is empty."
    assert issues[6][1] == "This row has 1 values but the file has 6 columns."
    assert issues[7][1] == "This row has 7 values but the file has 6 columns."
    assert issues[8] == (
        "Description",
        "Too long: at most 10000 characters (this has 100000).",
    )
    assert issues[9] == ("Name", "This text contains a character that is not allowed (NUL).")


def test_formula_and_html_text_is_stored_verbatim_and_neutralised_in_the_error_csv(
    book: Book, uploads: Path
) -> None:
    content = csv_bytes(
        [
            ["Name", "City", "Email"],
            ['=HYPERLINK("http://evil.example","Click")', "<script>alert(1)</script>", ""],
            ["@SUM(A1:A9)", "+34", "-bad"],
        ]
    )

    job = run_import(book.owner, content)

    assert counts(job) == (1, 0, 0, 1)
    account = Account.objects.get(name__startswith="=HYPERLINK")
    assert account.city == "<script>alert(1)</script>"
    report = error_csv(job)
    assert report[0] == ["Name", "City", "Email", "Row", "Column", "Reason"]
    assert report[1][:3] == ["'@SUM(A1:A9)", "'+34", "'-bad"]
    assert report[1][3:5] == ["3", "Email"]


def test_cells_with_bytes_invalid_in_the_files_encoding_reject_only_their_row(
    book: Book, uploads: Path
) -> None:
    good = "Name,City\n" + "".join(f"Café {i},Cádiz\n" for i in range(20000))
    content = good.encode() + b"Bad \xff row,Vigo\nLast,Lugo\n"

    job = run_import(book.owner, content)

    assert counts(job) == (20001, 0, 0, 1)
    issue = ImportRowIssue.objects.get(job=job)
    assert issue.row_number == 20002
    assert "not valid utf-8 text" in issue.reason.lower()
    assert issue.values[1] == "Vigo"


def test_empty_and_binary_files_are_refused_at_upload(book: Book, uploads: Path) -> None:
    for content, message in ((b"", "empty"), (bytes(range(256)) * 40, "not look like")):
        with pytest.raises(InvalidInput) as error:
            upload(book.owner, content)
        assert message in error.value.field_errors["file"][0]
    assert not list((uploads / "imports").rglob("*.csv"))


def test_spanish_windows_1252_semicolon_file(book: Book, uploads: Path) -> None:
    content = csv_bytes(
        [["Razón social", "NIF/CIF", "Población", "Facturación", "Cuenta clave"],
         ["Peña Hermanos, S.A.", "A28000000", "Logroño", "1.250.000,50 €", "sí"]],
        delimiter=";", encoding="cp1252",
    )  # fmt: skip

    job = run_import(book.owner, content)

    assert (job.encoding, job.delimiter) == ("cp1252", ";")
    account = Account.objects.get(tax_id="A28000000")
    assert (account.name, account.city) == ("Peña Hermanos, S.A.", "Logroño")
    assert account.annual_revenue == Decimal("1250000.50")
    assert account.currency == "EUR"
    assert account.is_key_account is True


def test_xlsx_file(book: Book, uploads: Path) -> None:
    content = xlsx_bytes(
        [["Company name", "Number of Employees", "Annual Revenue", "Country/Region"],
         ["Acme GmbH", 250.0, 1234567.5, "Germany"]]
    )  # fmt: skip

    job = run_import(book.owner, content, name="companies.xlsx")

    assert job.format == "xlsx"
    account = Account.objects.get(name="Acme GmbH")
    assert (account.size, account.annual_revenue, account.country.code) == (
        "201-1000",
        Decimal("1234567.50"),
        "DE",
    )


# --- parents ----------------------------------------------------------------------------------


def test_parents_by_name_or_external_id_earlier_or_later_in_the_file(
    book: Book, uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cartera.imports import engine

    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    content = csv_bytes(
        [
            ["ID", "Name", "Parent"],
            ["1", "Child of later", "Holding"],
            ["2", "Child of book", "muñoz logística"],
            ["3", "Holding", ""],
            ["4", "Grandchild", "1"],
            ["5", "Orphan", "Nobody Inc"],
            ["6", "Loop A", "Loop B"],
            ["7", "Loop B", "Loop A"],
            ["8", "Selfish", "Selfish"],
        ]
    )

    job = run_import(book.owner, content, mapping={"ID": "external_id", "Name": "name",
                                                    "Parent": "parent"})  # fmt: skip

    assert counts(job) == (8, 0, 0, 0)
    parent = dict(Account.objects.values_list("name", "parent__name"))
    assert parent["Child of later"] == "Holding"
    assert parent["Child of book"] == "Muñoz Logística"
    assert parent["Grandchild"] == "Child of later"
    assert parent["Orphan"] is None
    assert parent["Selfish"] is None
    assert [parent["Loop A"], parent["Loop B"]].count(None) == 1
    warnings = {i.row_number: i.reason for i in ImportRowIssue.objects.filter(job=job)}
    assert "No account you can see is called Nobody Inc" in warnings[6]
    assert "own parent" in warnings[9]
    assert job.warning_count == len(warnings) == 3
    assert ImportRowIssue.objects.get(job=job, row_number=6).values[1] == "Orphan"
