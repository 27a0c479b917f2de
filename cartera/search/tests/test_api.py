"""The search API: scoped results, hostile terms as plain text, constant queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cartera.accounts.models import Account
from cartera.contacts.models import Contact, ContactAccount
from cartera.core.testing import EXPECTED_ACCESS, PERSONAS, Book, client_for


@pytest.mark.parametrize("persona", PERSONAS)
def test_search_finds_only_what_the_persona_sees(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).get("/api/v1/search", {"q": "munoz"})
    assert response.status_code == 200
    body = response.json()
    can_see = EXPECTED_ACCESS[persona][0]
    assert [a["name"] for a in body["accounts"]] == (["Muñoz Logística"] if can_see else [])
    assert [c["full_name"] for c in body["contacts"]] == (["José Pérez"] if can_see else [])


def test_search_result_shape(book: Book) -> None:
    body = client_for(book.owner).get("/api/v1/search", {"q": "Muñoz"}).json()
    assert body["query"] == "Muñoz"
    assert body["accounts"] == [
        {
            "pk": book.account.pk,
            "name": "Muñoz Logística",
            "city": "",
            "country": "ES",
            "status": "active",
            "owner": {"pk": book.owner.pk, "full_name": "Olga Owner"},
        }
    ]
    assert body["contacts"][0]["email"] == "jose@munoz.example"


@pytest.mark.parametrize(
    "q", ["%", "_", "%%", "' OR '1'='1", '"', "mu_oz", "\\", "a:b", "(", "*", "NOT"]
)
def test_hostile_terms_are_plain_text(book: Book, q: str) -> None:
    response = client_for(book.director).get("/api/v1/search", {"q": q})
    assert response.status_code == 200
    body = response.json()
    assert body["accounts"] == []
    assert body["contacts"] == []


def test_empty_search_finds_nothing(book: Book) -> None:
    body = client_for(book.director).get("/api/v1/search").json()
    assert body == {"query": "", "accounts": [], "contacts": []}


@pytest.mark.parametrize(
    ("query", "field"),
    [("q=" + "x" * 201, "q"), ("q=a%00", "q"), ("limit=0", "limit"), ("limit=51", "limit")],
)
def test_bad_parameters_are_field_errors(book: Book, query: str, field: str) -> None:
    response = client_for(book.owner).get(f"/api/v1/search?{query}")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [field]


def test_unauthenticated_search_is_401(book: Book) -> None:
    assert Client().get("/api/v1/search", {"q": "munoz"}).status_code == 401


def test_search_query_count_does_not_grow(book: Book) -> None:
    def add(count: int, start: int) -> None:
        accounts = Account.objects.bulk_create(
            [
                Account(
                    name=f"Zeta {i}",
                    name_key=f"zeta {i}",
                    search_text=f"zeta {i}",
                    owner=book.owner,
                )
                for i in range(start, start + count)
            ]
        )
        contacts = Contact.objects.bulk_create(
            [
                Contact(first_name=f"Zeta{i}", name_key=f"zeta{i}", search_text=f"zeta{i}")
                for i in range(start, start + count)
            ]
        )
        ContactAccount.objects.bulk_create(
            [ContactAccount(contact=c, account=accounts[0]) for c in contacts]
        )

    def queries() -> tuple[int, dict[str, Any]]:
        with CaptureQueriesContext(connection) as context:
            body = client.get("/api/v1/search", {"q": "zeta", "limit": 50}).json()
        return len(context.captured_queries), body

    add(2, 0)
    client = client_for(book.owner)
    few, body = queries()
    assert (len(body["accounts"]), len(body["contacts"])) == (2, 2)
    add(48, 2)
    many, body = queries()
    assert (len(body["accounts"]), len(body["contacts"])) == (50, 50)
    # Session and user, then per group at most: the names starting with the word, the
    # full-text probe (SQLite), the other matches and (PostgreSQL) their rows.
    assert many <= few <= 2 + 2 * 3
