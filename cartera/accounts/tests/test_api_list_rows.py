"""The accounts API list, read as ``values()`` rows, answers byte for byte what ``AccountOut`` did.

The reference is the earlier path: ``account_list`` instances validated by
``PageOut[AccountOut]`` and rendered by the API's renderer.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import RequestFactory
from django.utils import timezone

from cartera.accounts import selectors
from cartera.accounts.filters import AccountFilters
from cartera.accounts.models import Account, AccountStatus, Tag
from cartera.accounts.schemas import AccountOut
from cartera.api import api
from cartera.core.api import PageOut, page_out
from cartera.core.testing import PERSONAS, Book, client_for
from cartera.users.models import User


def reference_body(
    user: User, params: dict[str, Any], cursor: str | None, limit: int, *, trashed: bool
) -> bytes:
    """What the list answered before: instances validated field by field by the schema."""
    filters = AccountFilters(**params)
    page = selectors.account_list(user, filters, cursor=cursor, limit=limit, trashed=trashed)
    data = PageOut[AccountOut].model_validate(page_out(page)).model_dump()
    content = api.renderer.render(RequestFactory().get("/"), data, response_status=200)
    return content.encode() if isinstance(content, str) else bytes(content)


@pytest.fixture
def crowded(book: Book) -> Book:
    """The book plus accounts with every kind of value the list shows."""
    owner, outsider = book.owner, book.outsider
    stamp = timezone.now().replace(microsecond=123456)
    rows = [
        Account(
            name=f"Cuenta {index:02}",
            name_key=f"cuenta {index:02}",
            owner=owner,
            legal_name=f"Cuenta {index} S.L." if index % 2 else "",
            tax_id="B12345678" if index % 3 == 0 else "",
            industry="software" if index % 2 else "",
            country=["ES", "PT", "FR", ""][index % 4],
            city="Málaga" if index % 2 else "",
            is_key_account=index % 5 == 0,
            status=[AccountStatus.ACTIVE, AccountStatus.PROSPECT][index % 2],
            annual_revenue=[None, Decimal("1234.50"), Decimal("0.00"), Decimal("99999999.99")][
                index % 4
            ],
            description='Línea «uno»\nlínea dos "citada" ✓' if index % 3 == 1 else "",
        )
        for index in range(14)
    ]
    accounts = Account.objects.bulk_create(rows)
    # Stored phones as they come: E.164, national (parsed with the default region), invalid.
    phones = ["+34911234567", "911234568", "12345", "+1 202-555-0143", "", "+351212345678"]
    for index, account in enumerate(accounts):
        Account.objects.filter(pk=account.pk).update(
            phone=phones[index % len(phones)],
            updated_at=stamp - dt.timedelta(minutes=index % 4),  # ties on the sort key
            created_at=stamp - dt.timedelta(days=index, microseconds=index),
        )
    # Parents: one the owner sees, one only the outsider does (still shown by name).
    Account.objects.filter(pk__in=[a.pk for a in accounts[1:4]]).update(parent=book.account)
    Account.objects.filter(pk=accounts[4].pk).update(parent=book.outsider_account)
    tags = [Tag.objects.create(name=name) for name in ["zeta", "Alfa", "beta", "ñu"]]
    links = [
        Account.tags.through(account_id=account.pk, tag_id=tag.pk)
        for index, account in enumerate(accounts)
        for tag in tags[: index % 5]
    ]
    Account.tags.through.objects.bulk_create(links)
    Account.objects.filter(pk__in=[accounts[6].pk, accounts[7].pk]).update(deleted_at=stamp)
    Account.objects.create(name="Ajena", name_key="ajena", owner=outsider, phone="+34600000000")
    return book


FILTERS: list[dict[str, Any]] = [
    {},
    {"sort": "-name"},
    {"sort": "updated_at"},
    {"sort": "-updated_at"},
    {"sort": "-created_at", "status": ["active"]},
    {"country": ["es", "PT"], "is_key_account": False},
    {"tag": ["beta"], "sort": "created_at"},
    {"q": "cuenta"},
]


def query(params: dict[str, Any], cursor: str | None, limit: int) -> dict[str, Any]:
    """Query string parameters of a list request (lists repeated)."""
    data: dict[str, Any] = {**params, "limit": limit}
    if "is_key_account" in data:
        data["is_key_account"] = str(data["is_key_account"]).lower()
    if cursor:
        data["cursor"] = cursor
    return data


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("params", FILTERS)
def test_list_is_byte_identical_to_the_schema(
    crowded: Book, persona: str, params: dict[str, Any]
) -> None:
    user = crowded.persona(persona)
    client = client_for(user)
    cursor: str | None = None
    pages = 0
    while True:
        response = client.get("/api/v1/accounts", query(params, cursor, 4))
        assert response.status_code == 200
        assert response["Content-Type"] == api.get_content_type()
        assert response.content == reference_body(user, params, cursor, 4, trashed=False)
        pages += 1
        cursor = response.json()["next_cursor"]
        if not cursor:
            break
    # Back one page from the last, through its previous cursor.
    previous = response.json()["previous_cursor"]
    if previous:
        back = client.get("/api/v1/accounts", query(params, previous, 4))
        assert back.content == reference_body(user, params, previous, 4, trashed=False)
    if persona in {"owner", "director"} and "q" not in params:
        assert pages > 1


@pytest.mark.parametrize("persona", ["owner", "director", "outsider", "read_only"])
def test_trash_list_is_byte_identical_to_the_schema(crowded: Book, persona: str) -> None:
    user = crowded.persona(persona)
    response = client_for(user).get("/api/v1/accounts/trash", {"limit": 50})
    assert response.status_code == 200
    assert response.content == reference_body(user, {}, None, 50, trashed=True)
    if persona in {"owner", "director"}:
        assert len(response.json()["items"]) == 2


def test_items_have_the_schemas_fields_in_order(crowded: Book) -> None:
    items = client_for(crowded.director).get("/api/v1/accounts").json()["items"]
    assert items
    for item in items:
        assert list(item) == list(AccountOut.model_fields)
    # The book really holds what the comparison is about.
    phones = {item["phone"] for item in items}
    assert {"+34911234567", "+34911234568", "12345", "+12025550143", ""} <= phones
    assert {"ES", "PT", ""} <= {item["country"] for item in items}
    assert ["Alfa", "beta", "zeta"] in [item["tags"] for item in items]
    assert {"1234.50", "0.00", None} <= {item["annual_revenue"] for item in items}
    assert any(item["parent"] for item in items)


def test_list_queries_do_not_grow_with_rows(
    crowded: Book, django_assert_max_num_queries: Any
) -> None:
    client = client_for(crowded.director)
    client.get("/api/v1/accounts", {"limit": 1})  # warm the session
    # Session, user, then the page and its tags: the same for 50 rows as for one.
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/accounts", {"limit": 50})
    assert len(response.json()["items"]) > 10


def test_empty_list_reads_no_tags(book: Book, django_assert_max_num_queries: Any) -> None:
    client = client_for(book.outsider)
    client.get("/api/v1/accounts", {"limit": 1})
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/accounts", {"status": "churned"})
    assert response.json() == {"items": [], "next_cursor": None, "previous_cursor": None}
