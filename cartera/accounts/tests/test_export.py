"""Exporting the account list: columns and types, filters, hostile cells, links, query counts."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from cartera.accounts import selectors
from cartera.accounts.models import Account, Tag
from cartera.accounts.services import create_account, trash_account, update_account
from cartera.core.testing import Book, fresh
from cartera.core.tests.test_export import as_dicts, read_csv, read_xlsx
from cartera.users.models import User

MEXICO = zoneinfo.ZoneInfo("America/Mexico_City")


def _export(client: Client, fmt: str, **query: Any) -> list[list[Any]]:
    response = client.get(reverse("accounts:export"), {**query, "format": fmt})
    return read_csv(response) if fmt == "csv" else read_xlsx(response)


def _in_mexico(user: User) -> User:
    user = fresh(user)
    user.time_zone = "America/Mexico_City"
    user.save(update_fields=["time_zone"])
    return user


def _full_account(book: Book) -> Account:
    parent = create_account(actor=book.owner, data={"name": "Grupo Muñoz"})
    account = update_account(
        actor=book.owner,
        account=book.account,
        changes={
            "legal_name": "Muñoz Logística, S.L.",
            "tax_id": "B12345678",
            "is_key_account": True,
            "industry": "logistics",
            "size": "51-200",
            "website": "https://munoz.example",
            "email": "hola@munoz.example",
            "phone": "+34 944 000 000",
            "street": "Calle Mayor 1",
            "postal_code": "48001",
            "city": "Bilbao",
            "region": "Bizkaia",
            "annual_revenue": Decimal("1234567.50"),
            "currency": "EUR",
            "parent": parent,
            "tags": ["norte", "vip"],
        },
        expected_version=book.account.version,
    )
    Account.objects.filter(pk=account.pk).update(external_id="HS-1001")
    return Account.objects.get(pk=account.pk)


def test_csv_has_every_column_as_text(client: Client, book: Book) -> None:
    account = _full_account(book)
    client.force_login(_in_mexico(book.owner))
    rows = as_dicts(_export(client, "csv", q="munoz logistica"))
    assert len(rows) == 1
    created = account.created_at.astimezone(MEXICO).strftime("%Y-%m-%d %H:%M")
    assert rows[0] == {
        "Name": "Muñoz Logística",
        "Legal name": "Muñoz Logística, S.L.",
        "Tax id": "B12345678",
        "Status": "Active",
        "Tier": "Tier A",
        "Key account": "Yes",
        "Owner": "Olga Owner",
        "Industry": "Transport and logistics",
        "Size": "51-200 employees",
        "Website": "https://munoz.example",
        "Email": "hola@munoz.example",
        "Phone": "'+34944000000",  # stored E.164; a leading "+" is neutralised like any formula
        "Street address": "Calle Mayor 1",
        "Postal code": "48001",
        "City": "Bilbao",
        "Region / province": "Bizkaia",
        "Country": "ES",
        "Annual revenue": "1234567.50",
        "Currency": "EUR",
        "Parent account": "Grupo Muñoz",
        "Tags": "norte, vip",
        "Created": created,
        "Updated": account.updated_at.astimezone(MEXICO).strftime("%Y-%m-%d %H:%M"),
        "External id": "HS-1001",
    }


def test_xlsx_has_the_same_columns_with_typed_cells(client: Client, book: Book) -> None:
    account = _full_account(book)
    client.force_login(_in_mexico(book.owner))
    csv_header = _export(client, "csv")[0]
    rows = _export(client, "xlsx", q="munoz logistica")
    assert rows[0] == csv_header
    row = as_dicts(rows)[0]
    assert row["Annual revenue"] == 1234567.5
    assert row["Key account"] is True
    local = account.created_at.astimezone(MEXICO).replace(tzinfo=None, microsecond=0)
    assert row["Created"] == local
    assert isinstance(row["Created"], dt.datetime)
    assert (row["Name"], row["Tags"], row["Country"]) == ("Muñoz Logística", "norte, vip", "ES")
    assert row["Industry"] == "Transport and logistics"


def test_empty_values_are_empty_cells(client: Client, book: Book) -> None:
    create_account(actor=book.owner, data={"name": "Bare"})
    client.force_login(book.owner)
    csv_row = as_dicts(_export(client, "csv", q="bare"))[0]
    assert csv_row["Annual revenue"] == csv_row["Parent account"] == csv_row["Industry"] == ""
    assert csv_row["Key account"] == "No"
    xlsx_row = as_dicts(_export(client, "xlsx", q="bare"))[0]
    assert xlsx_row["Annual revenue"] is None and xlsx_row["Industry"] is None
    assert xlsx_row["Key account"] is False


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_hostile_cells_are_neutralised(client: Client, book: Book, fmt: str) -> None:
    create_account(
        actor=book.owner,
        data={
            "name": '=HYPERLINK("http://x","y")',
            "legal_name": "@SUM(A1)",
            "city": "-2+3",
            "tier": "b",
        },
    )
    client.force_login(book.owner)
    row = as_dicts(_export(client, fmt, tier="b"))[0]
    assert row["Name"] == '\'=HYPERLINK("http://x","y")'
    assert row["Legal name"] == "'@SUM(A1)"
    assert row["City"] == "'-2+3"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_accents_and_emoji_survive_the_round_trip(client: Client, book: Book, fmt: str) -> None:
    name = "Café Ñandú 🚀 Zürich — «ĳ» 東京"
    create_account(actor=book.owner, data={"name": name, "city": "São Paulo"})
    client.force_login(book.owner)
    row = as_dicts(_export(client, fmt, q="zurich"))[0]
    assert (row["Name"], row["City"]) == (name, "São Paulo")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_filters_and_sort_of_the_list_apply(client: Client, book: Book, fmt: str) -> None:
    for name, status in [("Beta", "prospect"), ("Alfa", "prospect"), ("Gamma", "churned")]:
        create_account(actor=book.owner, data={"name": f"{name} Export", "status": status})
    client.force_login(book.owner)
    rows = _export(client, fmt, status="prospect", q="export", sort="-name")
    assert [row[0] for row in rows[1:]] == ["Beta Export", "Alfa Export"]
    both = _export(client, fmt, status="prospect,churned", q="export")
    assert [row[0] for row in both[1:]] == ["Alfa Export", "Beta Export", "Gamma Export"]


def test_tag_and_owner_filters_apply(client: Client, book: Book) -> None:
    create_account(actor=book.owner, data={"name": "Tagged", "tags": ["export-me"]})
    client.force_login(book.manager)
    rows = _export(client, "csv", tag="export-me", owner=str(book.owner.pk))
    assert [row[0] for row in rows[1:]] == ["Tagged"]


@pytest.mark.parametrize(
    "query", [{"status": "asleep"}, {"format": "pdf"}, {"bogus": "1"}, {"owner": "x"}]
)
def test_bad_filters_or_format_are_a_400_page(client: Client, book: Book, query: dict) -> None:
    client.force_login(book.owner)
    response = client.get(reverse("accounts:export"), query)
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


def test_spanish_reader_gets_a_spanish_sheet(client: Client, book: Book) -> None:
    owner = fresh(book.owner)
    owner.language = "es"
    owner.save(update_fields=["language"])
    client.force_login(owner)
    response = client.get(reverse("accounts:export"), {"format": "xlsx"})
    assert response["Content-Disposition"].startswith('attachment; filename="cartera-accounts-')
    rows = read_xlsx(response)
    assert rows[0][:2] == ["Nombre", "Razón social"]
    assert rows[1][3:5] == ["Activa", "Nivel A"]
    assert rows[1][5] is False


def test_trashed_accounts_are_not_exported(client: Client, book: Book) -> None:
    doomed = create_account(actor=book.owner, data={"name": "Doomed"})
    trash_account(actor=book.owner, account=doomed, expected_version=doomed.version)
    client.force_login(book.owner)
    assert [row[0] for row in _export(client, "csv")[1:]] == ["Muñoz Logística"]


# --- query counts ----------------------------------------------------------------------------


def _make_accounts(owner: User, count: int) -> None:
    rows = [
        Account(name=f"Bulk {n:03}", name_key=f"bulk {n:03}", owner=owner) for n in range(count)
    ]
    accounts = Account.objects.bulk_create(rows)
    tag, _created = Tag.objects.get_or_create(name="bulk")
    Account.tags.through.objects.bulk_create(
        [Account.tags.through(account_id=a.pk, tag_id=tag.pk) for a in accounts]
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("extra", "chunks"), [(3, 1), (24, 3)])
def test_queries_do_not_grow_with_rows_beyond_one_per_chunk(
    client: Client,
    book: Book,
    django_assert_num_queries: Any,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    extra: int,
    chunks: int,
) -> None:
    monkeypatch.setattr(selectors, "CHUNK_SIZE", 10)
    _make_accounts(book.owner, extra)
    client.force_login(book.owner)
    # session, user, the accounts (owner and parent joined, one query however many rows),
    # then the tags of each chunk of 10 accounts.
    with django_assert_num_queries(3 + chunks):
        rows = _export(client, fmt)
    assert len(rows) == extra + 2
    assert as_dicts(rows)[0]["Tags"] == "bulk"


# --- the list page's buttons ------------------------------------------------------------------


def test_list_offers_both_formats_for_exactly_the_current_filters(
    client: Client, book: Book
) -> None:
    _make_accounts(book.owner, 60)
    client.force_login(book.owner)
    first = client.get(reverse("accounts:list"), {"status": "prospect", "sort": "-name"})
    cursor = first.context["page"].next_cursor
    assert cursor
    # On the second page: the export is still every matching row, not that page.
    response = client.get(
        reverse("accounts:list"), {"status": "prospect", "sort": "-name", "cursor": cursor}
    )
    body = response.content.decode()
    base = reverse("accounts:export")
    assert f'href="{base}?status=prospect&amp;sort=-name"' in body
    assert f'href="{base}?status=prospect&amp;sort=-name&amp;format=xlsx"' in body
    assert "Export CSV" in body and "Export Excel" in body
    assert len(read_csv(client.get(base, {"status": "prospect", "sort": "-name"}))) == 61


def test_htmx_results_carry_the_new_filters_in_their_links(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.get(reverse("accounts:list"), {"tier": "a"}, HTTP_HX_REQUEST="true")
    assert (
        f'href="{reverse("accounts:export")}?tier=a&amp;format=xlsx"' in response.content.decode()
    )


@pytest.mark.parametrize(("persona", "shown"), [("owner", True), ("read_only", False)])
def test_import_button_for_people_who_write(
    client: Client, book: Book, persona: str, shown: bool
) -> None:
    client.force_login(book.persona(persona))
    body = client.get(reverse("accounts:list")).content.decode()
    try:
        target = f'href="{reverse("imports:new")}?kind=accounts"'
    except NoReverseMatch:  # the import pages are not installed yet: no dead button
        assert "?kind=accounts" not in body
        return
    assert (target in body) is shown
