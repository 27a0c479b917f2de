"""The contacts API: access by persona, filters, pages, entity tags and refusals of bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from cartera.accounts.models import Account
from cartera.contacts.models import Contact, ContactAccount
from cartera.core.testing import (
    EXPECTED_ACCESS,
    JSON,
    PERSONAS,
    Book,
    client_for,
    read_status,
    write_status,
)


def url(contact: Contact, suffix: str = "") -> str:
    """The API address of ``contact``."""
    return f"/api/v1/contacts/{contact.pk}{suffix}"


def make_contacts(account: Account, count: int, prefix: str = "Bulk") -> list[Contact]:
    """``count`` contacts at ``account``, fast (bulk; sort keys filled in by hand)."""
    contacts = Contact.objects.bulk_create(
        [
            Contact(first_name=f"{prefix}{index:03}", name_key=f"{prefix.lower()}{index:03}")
            for index in range(count)
        ]
    )
    ContactAccount.objects.bulk_create(
        [ContactAccount(contact=contact, account=account) for contact in contacts]
    )
    return contacts


def snapshot(contact: Contact) -> tuple[Any, ...]:
    """What a denied write must leave untouched."""
    row = Contact.objects.get(pk=contact.pk)
    links = sorted(row.account_links.values_list("account_id", flat=True))
    return (row.first_name, row.email, row.version, row.deleted_at, links)


@pytest.mark.parametrize("persona", PERSONAS)
def test_read_contact_by_persona(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).get(url(book.contact))
    assert response.status_code == read_status(persona)
    if response.status_code == 200:
        body = response.json()
        assert body["full_name"] == "José Pérez"
        assert body["accounts"] == [
            {"account": {"pk": book.account.pk, "name": "Muñoz Logística"}, "is_primary": True}
        ]
        assert response["ETag"] == f'"{book.contact.pk}-1"'


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_shows_the_contact_only_to_who_sees_it(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).get("/api/v1/contacts")
    assert response.status_code == 200
    names = [item["full_name"] for item in response.json()["items"]]
    assert ("José Pérez" in names) is EXPECTED_ACCESS[persona][0]


def test_if_none_match_gives_304(book: Book) -> None:
    client = client_for(book.owner)
    etag = client.get(url(book.contact))["ETag"]
    assert client.get(url(book.contact), headers={"If-None-Match": etag}).status_code == 304


def test_list_filters(book: Book) -> None:
    make_contacts(book.outsider_account, 1, prefix="Nord")
    client = client_for(book.director)
    by_account = client.get("/api/v1/contacts", {"account": book.account.pk}).json()["items"]
    assert [c["full_name"] for c in by_account] == ["José Pérez"]
    searched = client.get("/api/v1/contacts", {"q": "jose"}).json()["items"]
    assert [c["full_name"] for c in searched] == ["José Pérez"]
    channel = client.get("/api/v1/contacts?preferred_channel=email,phone").json()["items"]
    assert len(channel) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("buying_role=king", "buying_role"),
        ("account=abc", "account"),
        ("do_not_contact=perhaps", "do_not_contact"),
        ("sort=random", "sort"),
        ("q=%00", "q"),
        ("cursor=%%%", "cursor"),
        ("limit=-5", "limit"),
    ],
)
def test_bad_list_parameters_are_field_errors(book: Book, query: str, field: str) -> None:
    response = client_for(book.owner).get(f"/api/v1/contacts?{query}")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]


def test_list_query_count_does_not_grow(book: Book, django_assert_num_queries: Any) -> None:
    make_contacts(book.account, 1)
    client = client_for(book.owner)
    # session, user, contacts page, their links to visible accounts (prefetch)
    with django_assert_num_queries(4):
        assert len(client.get("/api/v1/contacts").json()["items"]) == 2
    make_contacts(book.account, 48, prefix="More")
    with django_assert_num_queries(4):
        assert len(client.get("/api/v1/contacts").json()["items"]) == 50


def test_trash_list_query_count_does_not_grow(book: Book, django_assert_num_queries: Any) -> None:
    contacts = make_contacts(book.account, 50)
    Contact.objects.filter(pk__in=[c.pk for c in contacts[:2]]).update(deleted_at=timezone.now())
    client = client_for(book.owner)
    # session, user, trashed contacts page, their links to visible accounts (prefetch)
    with django_assert_num_queries(4):
        assert len(client.get("/api/v1/contacts/trash").json()["items"]) == 2
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(deleted_at=timezone.now())
    with django_assert_num_queries(4):
        assert len(client.get("/api/v1/contacts/trash").json()["items"]) == 50


@pytest.mark.parametrize("persona", PERSONAS)
def test_create_by_persona(book: Book, persona: str) -> None:
    before = Contact.objects.count()
    response = client_for(book.persona(persona)).post(
        "/api/v1/contacts",
        {"first_name": "Ana", "accounts": [book.account.pk]},
        content_type=JSON,
    )
    if persona == "read_only":
        expected = 403
    elif not EXPECTED_ACCESS[persona][0]:
        expected = 422  # the account named in the body is not one they can use
    else:
        expected = 201
    assert response.status_code == expected
    assert Contact.objects.count() == before + (1 if expected == 201 else 0)
    if expected == 201:
        assert response["Location"] == f"/api/v1/contacts/{response.json()['pk']}"
    if expected == 422:
        assert list(response.json()["errors"]) == ["accounts"]


def test_create_with_every_field(book: Book) -> None:
    response = client_for(book.owner).post(
        "/api/v1/contacts",
        {
            "first_name": "Lucía",
            "last_name": "Gómez",
            "email": "lucia@munoz.example",
            "secondary_email": "lucia@home.example",
            "phone": "912 345 678",
            "mobile": "+34 600 111 222",
            "job_title": "CFO",
            "buying_role": "decision_maker",
            "preferred_channel": "video",
            "report_preference": "detailed",
            "language": "es",
            "special_requests": "Calls after 10:00 only",
            "do_not_contact": False,
            "accounts": [book.account.pk],
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == "+34912345678"
    assert body["mobile"] == "+34600111222"
    assert body["buying_role"] == "decision_maker"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"accounts": [1]}, "first_name"),
        ({"first_name": "A"}, "accounts"),
        ({"first_name": "A", "accounts": []}, "accounts"),
        ({"first_name": "A", "accounts": ["one"]}, "accounts"),
        ({"first_name": "A", "accounts": 1}, "accounts"),
        ({"first_name": "A", "accounts": [987654]}, "accounts"),
        ({"first_name": "A", "accounts": [2**70]}, "accounts"),
        ({"first_name": "", "accounts": [1]}, "first_name"),
        ({"first_name": "x" * 101, "accounts": [1]}, "first_name"),
        ({"first_name": "A\x00", "accounts": [1]}, "first_name"),
        ({"first_name": "A", "accounts": [1], "email": "nope"}, "email"),
        ({"first_name": "A", "accounts": [1], "phone": "12"}, "phone"),
        ({"first_name": "A", "accounts": [1], "buying_role": "king"}, "buying_role"),
        (
            {"first_name": "A", "accounts": [1], "special_requests": "x" * 100_000},
            "special_requests",
        ),
        ({"first_name": "A", "accounts": [1], "do_not_contact": "sometimes"}, "do_not_contact"),
        ({"first_name": "A", "accounts": [1], "deleted_at": None}, "deleted_at"),
    ],
)
def test_create_refuses_bad_input_by_field(book: Book, payload: dict[str, Any], field: str) -> None:
    if payload.get("accounts") == [1]:
        payload = {**payload, "accounts": [book.account.pk]}
    before = Contact.objects.count()
    response = client_for(book.owner).post("/api/v1/contacts", payload, content_type=JSON)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert Contact.objects.count() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_update_by_persona(book: Book, persona: str) -> None:
    before = snapshot(book.contact)
    response = client_for(book.persona(persona)).patch(
        url(book.contact),
        {"job_title": "CEO"},
        content_type=JSON,
        headers={"If-Match": book.contact.etag},
    )
    assert response.status_code == write_status(persona)
    if response.status_code == 200:
        assert response.json()["job_title"] == "CEO"
        assert response["ETag"] == f'"{book.contact.pk}-2"'
    else:
        assert snapshot(book.contact) == before


def test_update_preconditions(book: Book) -> None:
    client = client_for(book.owner)
    etag = client.get(url(book.contact))["ETag"]
    assert (
        client.patch(url(book.contact), {"email": "a@b.example"}, content_type=JSON).status_code
        == 428
    )
    ok = client.patch(
        url(book.contact), {"email": "a@b.example"}, content_type=JSON, headers={"If-Match": etag}
    )
    assert ok.status_code == 200
    before = snapshot(book.contact)
    stale = client.patch(
        url(book.contact), {"email": "c@d.example"}, content_type=JSON, headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert snapshot(book.contact) == before


def test_update_cannot_link_to_a_hidden_account(book: Book) -> None:
    before = snapshot(book.contact)
    response = client_for(book.owner).patch(
        url(book.contact),
        {"accounts": [book.account.pk, book.outsider_account.pk]},
        content_type=JSON,
        headers={"If-Match": book.contact.etag},
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["accounts"]
    assert snapshot(book.contact) == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_trash_and_restore_by_persona(book: Book, persona: str) -> None:
    client = client_for(book.persona(persona))
    before = snapshot(book.contact)
    response = client.delete(url(book.contact), headers={"If-Match": book.contact.etag})
    assert response.status_code == write_status(persona, success=204)
    if response.status_code != 204:
        assert snapshot(book.contact) == before
        return
    trashed = client.get("/api/v1/contacts/trash").json()["items"]
    assert [c["pk"] for c in trashed] == [book.contact.pk]
    assert client.get(url(book.contact)).status_code == 404
    restored = client.post(url(book.contact, "/restore"))
    assert restored.status_code == 200
    assert Contact.objects.get(pk=book.contact.pk).deleted_at is None


def test_read_only_cannot_restore(book: Book) -> None:
    owner = client_for(book.owner)
    assert (
        owner.delete(url(book.contact), headers={"If-Match": book.contact.etag}).status_code == 204
    )
    response = client_for(book.read_only).post(url(book.contact, "/restore"))
    assert response.status_code == 403
    assert Contact.objects.get(pk=book.contact.pk).deleted_at is not None
    outsider = client_for(book.outsider).post(url(book.contact, "/restore"))
    assert outsider.status_code == 404


@pytest.mark.parametrize("persona", PERSONAS)
def test_history_by_persona(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).get(url(book.contact, "/history"))
    assert response.status_code == read_status(persona)
    if response.status_code == 200:
        kinds = [entry["object_type"] for entry in response.json()["items"]]
        assert sorted(kinds) == ["contact", "contactaccount"]


def test_history_query_count_does_not_grow(book: Book, django_assert_num_queries: Any) -> None:
    client = client_for(book.owner)
    client.get(url(book.contact, "/history"))  # content types cached
    # session, user, contact (access), its visible account links, entries with actor and type
    with django_assert_num_queries(5):
        assert len(client.get(url(book.contact, "/history")).json()["items"]) == 2
    for index in range(48):
        contact = Contact.objects.get(pk=book.contact.pk)
        client.patch(
            url(contact),
            {"job_title": f"Job {index}"},
            content_type=JSON,
            headers={"If-Match": contact.etag},
        )
    with django_assert_num_queries(5):
        assert len(client.get(url(book.contact, "/history")).json()["items"]) == 50
