"""Exporting the contact list: columns and types, visible accounts only, filters, query counts."""

from __future__ import annotations

import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from cartera.contacts import selectors
from cartera.contacts.models import Contact, ContactAccount
from cartera.contacts.services import create_contact, update_contact
from cartera.core.testing import Book, fresh
from cartera.core.tests.test_export import as_dicts, read_csv, read_xlsx

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")


def _export(client: Client, fmt: str, **query: Any) -> list[list[Any]]:
    response = client.get(reverse("contacts:export"), {**query, "format": fmt})
    return read_csv(response) if fmt == "csv" else read_xlsx(response)


def _detailed(book: Book) -> Contact:
    contact = update_contact(
        actor=book.owner,
        contact=book.contact,
        changes={
            "job_title": "Jefe de compras",
            "secondary_email": "jose.perez@example.org",
            "mobile": "+34 600 000 000",
            "buying_role": "decision_maker",
            "preferred_channel": "phone",
            "report_preference": "detailed",
            "do_not_contact": True,
            "language": "es",
            "special_requests": "Llamar por la mañana",
        },
        expected_version=book.contact.version,
    )
    Contact.objects.filter(pk=contact.pk).update(external_id="SF-003")
    return Contact.objects.get(pk=contact.pk)


def test_csv_has_every_column(client: Client, book: Book) -> None:
    contact = _detailed(book)
    client.force_login(book.owner)
    rows = as_dicts(_export(client, "csv"))
    assert rows == [
        {
            "First name": "José",
            "Last name": "Pérez",
            "Job title": "Jefe de compras",
            "Email": "jose@munoz.example",
            "Secondary email": "jose.perez@example.org",
            "Phone": "",
            "Mobile": "'+34600000000",
            "Buying role": "Decision maker",
            "Preferred channel": "Phone",
            "Report preference": "Detailed report",
            "Do not contact": "Yes",
            "Accounts": "Muñoz Logística",
            "Updated": contact.updated_at.astimezone(MADRID).strftime("%Y-%m-%d %H:%M"),
            "Language": "es",
            "Special requests and preferences": "Llamar por la mañana",
            "Created": contact.created_at.astimezone(MADRID).strftime("%Y-%m-%d %H:%M"),
            "External id": "SF-003",
        }
    ]


def test_xlsx_has_typed_cells(client: Client, book: Book) -> None:
    contact = _detailed(book)
    client.force_login(book.owner)
    rows = _export(client, "xlsx")
    assert rows[0] == _export(client, "csv")[0]
    row = as_dicts(rows)[0]
    assert row["Do not contact"] is True
    assert row["Phone"] is None
    assert row["Created"] == contact.created_at.astimezone(MADRID).replace(
        tzinfo=None, microsecond=0
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_accounts_column_lists_only_accounts_the_reader_sees(
    client: Client, book: Book, fmt: str
) -> None:
    # José also works for the outsider's account: each reader sees only their side of it.
    ContactAccount.objects.create(
        contact=book.contact, account=book.outsider_account, is_primary=False
    )
    client.force_login(book.owner)
    assert as_dicts(_export(client, fmt))[0]["Accounts"] == "Muñoz Logística"
    client.force_login(book.outsider)
    assert as_dicts(_export(client, fmt))[0]["Accounts"] == "Nordic Fisk AB"
    client.force_login(book.director)
    assert as_dicts(_export(client, fmt))[0]["Accounts"] == "Muñoz Logística; Nordic Fisk AB"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_hostile_and_unicode_cells(client: Client, book: Book, fmt: str) -> None:
    create_contact(
        actor=book.owner,
        data={
            "first_name": '=HYPERLINK("http://x","y")',
            "last_name": "Ñúñez 🚀",
            "job_title": "@SUM(A1)",
            "special_requests": "-2+3",
            "accounts": [book.account.pk],
        },
    )
    client.force_login(book.owner)
    row = as_dicts(_export(client, fmt, q="nunez"))[0]
    assert row["First name"] == '\'=HYPERLINK("http://x","y")'
    assert row["Last name"] == "Ñúñez 🚀"
    assert row["Job title"] == "'@SUM(A1)"
    assert row["Special requests and preferences"] == "'-2+3"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_filters_and_sort_of_the_list_apply(client: Client, book: Book, fmt: str) -> None:
    for first, role in [("Ana", "gatekeeper"), ("Zoe", "gatekeeper"), ("Luis", "user")]:
        create_contact(
            actor=book.owner,
            data={"first_name": first, "buying_role": role, "accounts": [book.account.pk]},
        )
    create_contact(
        actor=book.outsider,
        data={
            "first_name": "Otto",
            "buying_role": "gatekeeper",
            "accounts": [book.outsider_account.pk],
        },
    )
    client.force_login(book.director)
    rows = _export(
        client, fmt, buying_role="gatekeeper", account=str(book.account.pk), sort="-name"
    )
    assert [row[0] for row in rows[1:]] == ["Zoe", "Ana"]
    assert [row[0] for row in _export(client, fmt, do_not_contact="true")[1:]] == []


@pytest.mark.parametrize("query", [{"buying_role": "emperor"}, {"format": "doc"}, {"x": "1"}])
def test_bad_filters_or_format_are_a_400_page(client: Client, book: Book, query: dict) -> None:
    client.force_login(book.owner)
    assert client.get(reverse("contacts:export"), query).status_code == 400


def test_spanish_reader_gets_spanish_headers_and_labels(client: Client, book: Book) -> None:
    _detailed(book)
    owner = fresh(book.owner)
    owner.language = "es"
    owner.save(update_fields=["language"])
    client.force_login(owner)
    rows = _export(client, "csv")
    assert (rows[0][0], rows[0][10]) == ("Nombre", "No contactar")
    assert rows[1][10] == "Sí"


# --- query counts ----------------------------------------------------------------------------


def _make_contacts(book: Book, count: int) -> None:
    contacts = Contact.objects.bulk_create(
        [Contact(first_name=f"Bulk {n:03}", name_key=f"bulk {n:03}") for n in range(count)]
    )
    ContactAccount.objects.bulk_create(
        [ContactAccount(contact=c, account=book.account) for c in contacts]
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
    _make_contacts(book, extra)
    client.force_login(book.owner)
    # session, user, the contacts (one query however many rows), then the visible account
    # links (with the accounts' names) of each chunk of 10 contacts.
    with django_assert_num_queries(3 + chunks):
        rows = _export(client, fmt)
    assert len(rows) == extra + 2
    assert {row["Accounts"] for row in as_dicts(rows)} == {"Muñoz Logística"}


# --- the list page's buttons ------------------------------------------------------------------


def test_list_offers_both_formats_for_exactly_the_current_filters(
    client: Client, book: Book
) -> None:
    client.force_login(book.owner)
    response = client.get(reverse("contacts:list"), {"q": "jose", "buying_role": "user"})
    body = response.content.decode()
    base = reverse("contacts:export")
    assert f'href="{base}?q=jose&amp;buying_role=user"' in body
    assert f'href="{base}?q=jose&amp;buying_role=user&amp;format=xlsx"' in body
    assert "Export Excel" in body


@pytest.mark.parametrize(("persona", "shown"), [("teammate", True), ("read_only", False)])
def test_import_button_for_people_who_write(
    client: Client, book: Book, persona: str, shown: bool
) -> None:
    client.force_login(book.persona(persona))
    body = client.get(reverse("contacts:list")).content.decode()
    try:
        target = f'href="{reverse("imports:new")}?kind=contacts"'
    except NoReverseMatch:  # the import pages are not installed yet: no dead button
        assert "?kind=contacts" not in body
        return
    assert (target in body) is shown
