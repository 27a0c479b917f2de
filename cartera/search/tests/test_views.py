"""Global search pages: the navbar dropdown (htmx) and the full results page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cartera.accounts.services import create_account
from cartera.contacts.services import create_contact
from cartera.core.testing import EXPECTED_ACCESS, Book

URL = reverse("search:results")
HEADERS: list[dict[str, Any]] = [{}, {"HTTP_HX_REQUEST": "true"}]


def test_search_needs_sign_in(client: Client, book: Book) -> None:
    response = client.get(URL, {"q": "munoz"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_dropdown_lists_accounts_then_contacts_as_links(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.get(URL, {"q": "munoz"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    account_link = f'href="{reverse("accounts:detail", args=[book.account.pk])}"'
    contact_link = f'href="{reverse("contacts:detail", args=[book.contact.pk])}"'
    assert account_link in body and contact_link in body  # the contact's email has "munoz"
    assert body.index(account_link) < body.index(contact_link)


def test_full_page_for_a_normal_get(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.get(URL, {"q": "Pérez"})
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en"' in body
    assert reverse("contacts:detail", args=[book.contact.pk]) in body
    assert "No accounts match." in body


@pytest.mark.parametrize("query", ["munoz", "MUÑOZ", "muñoz logistica", "  Munoz  "])
def test_search_ignores_accents_case_and_spaces(client: Client, book: Book, query: str) -> None:
    client.force_login(book.owner)
    body = client.get(URL, {"q": query}, HTTP_HX_REQUEST="true").content.decode()
    assert "Muñoz Logística" in body


@pytest.mark.parametrize("persona", sorted(EXPECTED_ACCESS))
def test_search_only_finds_what_the_persona_sees(client: Client, book: Book, persona: str) -> None:
    can_see, _ = EXPECTED_ACCESS[persona]
    client.force_login(book.persona(persona))
    for headers in HEADERS:
        body = client.get(URL, {"q": "munoz"}, **headers).content.decode()
        assert ("Muñoz Logística" in body) is can_see
        assert ("José Pérez" in body) is can_see


@pytest.mark.parametrize(
    "query",
    ["", "   ", '"', "%", "_", "' OR 1=1 --", "<script>alert(1)</script>", "\\", "x" * 5000],
)
def test_empty_and_hostile_queries_render_fine(client: Client, book: Book, query: str) -> None:
    client.force_login(book.owner)
    for headers in HEADERS:
        response = client.get(URL, {"q": query}, **headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "Muñoz Logística" not in body


def test_percent_and_underscore_are_plain_characters(client: Client, book: Book) -> None:
    create_account(actor=book.owner, data={"name": "100% Natural"})
    create_account(actor=book.owner, data={"name": "1000 Naturales"})
    client.force_login(book.owner)
    body = client.get(URL, {"q": "100%"}, HTTP_HX_REQUEST="true").content.decode()
    assert "100% Natural" in body
    assert "1000 Naturales" not in body


def test_dropdown_query_count_does_not_grow_with_matches(client: Client, book: Book) -> None:
    def dropdown() -> tuple[int, Any]:
        with CaptureQueriesContext(connection) as context:
            response = client.get(URL, {"q": "munoz"}, HTTP_HX_REQUEST="true")
        return len(context.captured_queries), response.context["results"]

    client.force_login(book.owner)
    few, results = dropdown()
    assert len(results.accounts) == 1
    for index in range(49):
        account = create_account(actor=book.owner, data={"name": f"Muñoz Filial {index:02d}"})
        create_contact(
            actor=book.owner,
            data={"first_name": "Ana", "last_name": f"Muñoz {index}", "accounts": [account.pk]},
        )
    many, results = dropdown()
    assert len(results.accounts) == len(results.contacts) == 6
    # Session and user, then per group at most: names starting with the word, the full-text
    # probe (SQLite), the other matches and (PostgreSQL) the estimate of how many there are
    # (planning only, for people whose view is scoped) and their rows.
    assert many <= few <= 2 + 2 * 4
