"""The home page: the signed-in person's book at a glance."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from cartera.accounts.services import create_account, update_account
from cartera.activities.services import log_interaction
from cartera.core.testing import Book, fresh

URL = reverse("core:home")


def test_home_needs_sign_in(client: Client, db: None) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_home_counts_visible_accounts_by_status(client: Client, book: Book) -> None:
    create_account(actor=book.owner, data={"name": "Prospecto", "status": "prospect"})
    create_account(actor=book.owner, data={"name": "En riesgo", "status": "at_risk"})
    client.force_login(book.owner)
    response = client.get(URL)
    assert response.status_code == 200
    totals = {row["value"]: row["total"] for row in response.context["by_status"]}
    assert totals == {"prospect": 1, "onboarding": 0, "active": 1, "at_risk": 1, "churned": 0}
    assert response.context["total_accounts"] == 3
    assert 'data-status="at_risk">1<' in response.content.decode()


def test_outsider_home_shows_nothing_of_the_book(client: Client, book: Book) -> None:
    client.force_login(book.outsider)
    body = client.get(URL).content.decode()
    assert "Muñoz Logística" not in body
    assert "Kick-off call" not in body
    assert "Nordic Fisk AB" in body


def test_home_shows_key_and_recent_accounts_and_interactions(client: Client, book: Book) -> None:
    update_account(
        actor=book.owner,
        account=book.account,
        changes={"is_key_account": True},
        expected_version=book.account.version,
    )
    client.force_login(book.teammate)
    response = client.get(URL)
    assert [a.name for a in response.context["key_accounts"]] == ["Muñoz Logística"]
    assert [a.name for a in response.context["recent_accounts"]] == ["Muñoz Logística"]
    subjects = [i.subject for i in response.context["recent_interactions"]]
    assert subjects == ["Kick-off call"]
    body = response.content.decode()
    assert reverse("accounts:detail", args=[book.account.pk]) in body


def test_home_in_spanish(client: Client, book: Book) -> None:
    owner = fresh(book.owner)
    owner.language = "es"
    owner.save(update_fields=["language"])
    client.force_login(owner)
    assert '<html lang="es"' in client.get(URL).content.decode()


@pytest.mark.parametrize("extra", [1, 30])
def test_home_query_count_does_not_grow_with_accounts(
    client: Client, book: Book, extra: int, django_assert_num_queries: Any
) -> None:
    for index in range(extra):
        account = create_account(
            actor=book.owner,
            data={"name": f"Cuenta {index:02d}", "is_key_account": True, "tags": ["x"]},
        )
        log_interaction(actor=book.owner, account=account, data={"kind": "note", "subject": "Hola"})
    client.force_login(book.owner)
    # session, user, counts by status, key accounts, recent accounts (owners joined; the home
    # page shows no tags), recent interactions (author, contact and account joined).
    with django_assert_num_queries(6):
        response = client.get(URL)
    assert response.context["total_accounts"] == extra + 1


def test_server_error_page_needs_no_database_or_user() -> None:
    # No ``db`` fixture: any query here would fail the test.
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "Sign out" not in body


def test_unknown_page_gets_the_friendly_404_inside_the_app_shell(
    client: Client, book: Book
) -> None:
    client.force_login(book.owner)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body and "Sign out" in body


def test_forbidden_action_gets_the_friendly_403(client: Client, book: Book) -> None:
    client.force_login(book.read_only)
    response = client.get(reverse("accounts:create"))
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_bad_request_page_renders(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.get(reverse("accounts:export"), {"status": "asleep"})
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()
