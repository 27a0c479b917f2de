"""The contacts API list, read as ``values()`` rows, answers byte for byte what ``ContactOut`` did.

The reference is the earlier path: ``contact_list`` instances validated by
``PageOut[ContactOut]`` and rendered by the API's renderer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import RequestFactory
from django.utils import timezone

from cartera.accounts.models import Account
from cartera.api import api
from cartera.contacts import selectors
from cartera.contacts.filters import ContactFilters
from cartera.contacts.models import Contact, ContactAccount
from cartera.contacts.schemas import ContactOut
from cartera.core.api import PageOut, page_out
from cartera.core.testing import PERSONAS, Book, client_for
from cartera.users.models import User


def reference_body(
    user: User, params: dict[str, Any], cursor: str | None, limit: int, *, trashed: bool
) -> bytes:
    """What the list answered before: instances validated field by field by the schema."""
    filters = ContactFilters(**params)
    page = selectors.contact_list(user, filters, cursor=cursor, limit=limit, trashed=trashed)
    data = PageOut[ContactOut].model_validate(page_out(page)).model_dump()
    content = api.renderer.render(RequestFactory().get("/"), data, response_status=200)
    return content.encode() if isinstance(content, str) else bytes(content)


@pytest.fixture
def crowded(book: Book) -> Book:
    """The book plus contacts with phones, several accounts (one unseen by most), trash."""
    stamp = timezone.now().replace(microsecond=654321)
    second = Account.objects.create(
        name="Zafiro Ópticas", name_key="zafiro opticas", owner=book.owner
    )
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                first_name=f"Nombre{index:02}",
                last_name=["Pérez", "", 'O\'Neil "Jr"', "Núñez"][index % 4],
                name_key=f"contacto {index:02}",
                email=f"c{index}@example.com" if index % 2 else "",
                job_title="Directora de compras" if index % 3 == 0 else "",
                buying_role="decision_maker" if index % 2 else "",
                special_requests="Sólo por la mañana ✓" if index % 5 == 0 else "",
                do_not_contact=index % 4 == 0,
                language="es" if index % 2 else "",
            )
            for index in range(13)
        ]
    )
    phones = ["+34911234567", "911234568", "12345", "", "+351212345678"]
    for index, contact in enumerate(contacts):
        Contact.objects.filter(pk=contact.pk).update(
            phone=phones[index % len(phones)],
            mobile=phones[(index + 2) % len(phones)],
            updated_at=stamp - dt.timedelta(minutes=index % 3),
        )
    links = []
    for index, contact in enumerate(contacts):
        links.append(ContactAccount(contact=contact, account=crowded_account(book, index)))
        if index % 3 == 0:
            links.append(ContactAccount(contact=contact, account=second, is_primary=False))
        if index % 4 == 1 and index % 6 != 5:
            links.append(
                ContactAccount(contact=contact, account=book.outsider_account, is_primary=False)
            )
    ContactAccount.objects.bulk_create(links)
    Contact.objects.filter(pk=contacts[5].pk).update(deleted_at=stamp)
    return book


def crowded_account(book: Book, index: int) -> Account:
    """Most contacts at the book's account, a few only at the outsider's."""
    return book.outsider_account if index % 6 == 5 else book.account


FILTERS: list[dict[str, Any]] = [
    {},
    {"sort": "-name"},
    {"sort": "updated_at"},
    {"sort": "-updated_at"},
    {"buying_role": ["decision_maker"], "sort": "-name"},
    {"q": "nombre"},
]


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
        data = {**params, "limit": 4, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/contacts", data)
        assert response.status_code == 200
        assert response["Content-Type"] == api.get_content_type()
        assert response.content == reference_body(user, params, cursor, 4, trashed=False)
        pages += 1
        cursor = response.json()["next_cursor"]
        if not cursor:
            break
    previous = response.json()["previous_cursor"]
    if previous:
        back = client.get("/api/v1/contacts", {**params, "limit": 4, "cursor": previous})
        assert back.content == reference_body(user, params, previous, 4, trashed=False)
    if persona in {"owner", "director"} and set(params) <= {"sort"}:
        assert pages > 1


@pytest.mark.parametrize("persona", ["owner", "director", "outsider"])
def test_trash_list_is_byte_identical_to_the_schema(crowded: Book, persona: str) -> None:
    user = crowded.persona(persona)
    response = client_for(user).get("/api/v1/contacts/trash", {"limit": 50})
    assert response.status_code == 200
    assert response.content == reference_body(user, {}, None, 50, trashed=True)


def test_items_have_the_schemas_fields_in_order(crowded: Book) -> None:
    items = client_for(crowded.director).get("/api/v1/contacts", {"limit": 50}).json()["items"]
    for item in items:
        assert list(item) == list(ContactOut.model_fields)
    assert {"+34911234567", "+34911234568", "12345", ""} <= {item["phone"] for item in items}
    assert max(len(item["accounts"]) for item in items) == 3
    owner_items = client_for(crowded.owner).get("/api/v1/contacts", {"limit": 50}).json()
    # The outsider's account is not listed to the owner.
    assert max(len(item["accounts"]) for item in owner_items["items"]) == 2


def test_list_queries_do_not_grow_with_rows(
    crowded: Book, django_assert_max_num_queries: Any
) -> None:
    client = client_for(crowded.director)
    client.get("/api/v1/contacts", {"limit": 1})
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/contacts", {"limit": 50})
    assert len(response.json()["items"]) > 10
