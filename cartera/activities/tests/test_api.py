"""The timeline API: interactions by persona, timelines, entity tags and refusals of bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cartera.accounts.models import Account
from cartera.activities.models import Interaction
from cartera.core.testing import (
    EXPECTED_ACCESS,
    JSON,
    PERSONAS,
    PROBLEM,
    Book,
    client_for,
    read_status,
)


def edit_status(persona: str, success: int = 200) -> int:
    """What a change to the book's interaction (logged by the owner) answers this persona.

    Only its author and administrators may correct or remove an entry.
    """
    can_see, _ = EXPECTED_ACCESS[persona]
    if not can_see:
        return 404
    return success if persona in {"owner", "admin"} else 403


def url(interaction: Interaction) -> str:
    """The API address of ``interaction``."""
    return f"/api/v1/interactions/{interaction.pk}"


def make_interactions(book: Book, count: int) -> None:
    """``count`` notes on the book's account, by its owner, about its contact (bulk)."""
    now = timezone.now()
    Interaction.objects.bulk_create(
        [
            Interaction(
                account=book.account,
                contact=book.contact,
                author=book.owner,
                kind="note",
                subject=f"Note {index}",
                occurred_at=now - timedelta(minutes=index + 1),
            )
            for index in range(count)
        ]
    )


def snapshot(interaction: Interaction) -> tuple[Any, ...] | None:
    """What a denied write must leave untouched (None once deleted)."""
    row = Interaction.objects.filter(pk=interaction.pk).first()
    return None if row is None else (row.subject, row.kind, row.version)


@pytest.mark.parametrize("persona", PERSONAS)
def test_read_interaction_by_persona(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).get(url(book.interaction))
    assert response.status_code == read_status(persona)
    if response.status_code == 200:
        body = response.json()
        assert body["subject"] == "Kick-off call"
        assert body["account"] == {"pk": book.account.pk, "name": "Muñoz Logística"}
        assert body["contact"] == {"pk": book.contact.pk, "full_name": "José Pérez"}
        assert body["author"] == {"pk": book.owner.pk, "full_name": "Olga Owner"}
        assert response["ETag"] == f'"{book.interaction.pk}-1"'


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("timeline", ["interactions", "account", "contact"])
def test_timelines_by_persona(book: Book, persona: str, timeline: str) -> None:
    address = {
        "interactions": "/api/v1/interactions",
        "account": f"/api/v1/accounts/{book.account.pk}/timeline",
        "contact": f"/api/v1/contacts/{book.contact.pk}/timeline",
    }[timeline]
    response = client_for(book.persona(persona)).get(address)
    can_see = EXPECTED_ACCESS[persona][0]
    if timeline == "interactions":
        assert response.status_code == 200
        subjects = [item["subject"] for item in response.json()["items"]]
        assert ("Kick-off call" in subjects) is can_see
    else:
        assert response.status_code == read_status(persona)
        if can_see:
            assert [i["subject"] for i in response.json()["items"]] == ["Kick-off call"]


def test_timeline_filters_by_kind(book: Book) -> None:
    make_interactions(book, 2)
    client = client_for(book.owner)
    notes = client.get(f"/api/v1/accounts/{book.account.pk}/timeline", {"kind": "note"})
    assert [i["subject"] for i in notes.json()["items"]] == ["Note 0", "Note 1"]
    calls = client.get("/api/v1/interactions?kind=call,meeting").json()["items"]
    assert [i["subject"] for i in calls] == ["Kick-off call"]
    bad = client.get("/api/v1/interactions", {"kind": "telepathy"})
    assert bad.status_code == 422
    assert list(bad.json()["errors"]) == ["kind"]


@pytest.mark.parametrize(
    "address",
    [
        "/api/v1/interactions",
        "/api/v1/accounts/{account}/timeline",
        "/api/v1/contacts/{contact}/timeline",
    ],
)
def test_timeline_query_count_does_not_grow(
    book: Book, address: str, django_assert_num_queries: Any
) -> None:
    address = address.format(account=book.account.pk, contact=book.contact.pk)
    make_interactions(book, 1)
    client = client_for(book.owner)
    extra = 0 if address == "/api/v1/interactions" else 1
    # session, user, [the account or contact (access)], [its visible account links (contact)],
    # interactions with author, contact and account
    expected = 3 + extra + (1 if "contacts" in address else 0)
    with django_assert_num_queries(expected):
        assert len(client.get(address).json()["items"]) == 2
    make_interactions(book, 48)
    with django_assert_num_queries(expected):
        assert len(client.get(address).json()["items"]) == 50


@pytest.mark.parametrize("persona", PERSONAS)
def test_log_interaction_by_persona(book: Book, persona: str) -> None:
    before = Interaction.objects.count()
    response = client_for(book.persona(persona)).post(
        "/api/v1/interactions",
        {
            "account": book.account.pk,
            "kind": "meeting",
            "subject": "QBR",
            "contact": book.contact.pk,
        },
        content_type=JSON,
    )
    can_see, can_write = EXPECTED_ACCESS[persona]
    expected = 201 if can_write and can_see else 403 if can_see else 422
    assert response.status_code == expected
    assert Interaction.objects.count() == before + (1 if expected == 201 else 0)
    if expected == 201:
        assert response.json()["author"]["pk"] == book.persona(persona).pk
    if expected == 422:
        assert list(response.json()["errors"]) == ["account"]


def test_logged_html_is_sanitised(book: Book) -> None:
    response = client_for(book.owner).post(
        "/api/v1/interactions",
        {
            "account": book.account.pk,
            "kind": "note",
            "subject": "<script>alert(1)</script>",
            "body": '<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:x">l</a></p>',
        },
        content_type=JSON,
    )
    assert response.status_code == 201
    body = response.json()
    assert "script" not in body["body"]
    assert "onclick" not in body["body"]
    assert "javascript" not in body["body"]
    assert body["subject"] == "<script>alert(1)</script>"  # plain text, escaped where shown


CALL = {"account": "{account}", "kind": "call", "subject": "x"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "call", "subject": "x"}, "account"),
        ({**CALL, "account": "abc"}, "account"),
        ({**CALL, "account": 987654}, "account"),
        ({**CALL, "account": 0}, "account"),
        ({**CALL, "account": 2**70}, "account"),
        ({"account": "{account}", "subject": "x"}, "kind"),
        ({**CALL, "kind": "status_change"}, "kind"),
        ({**CALL, "kind": "fax"}, "kind"),
        ({"account": "{account}", "kind": "call"}, "subject"),
        ({**CALL, "subject": ""}, "subject"),
        ({**CALL, "subject": "x" * 201}, "subject"),
        ({**CALL, "body": "y" * 100_000}, "body"),
        ({**CALL, "body": "a\x00"}, "body"),
        ({**CALL, "occurred_at": "yesterday"}, "occurred_at"),
        ({**CALL, "duration_minutes": -5}, "duration_minutes"),
        ({**CALL, "duration_minutes": "long"}, "duration_minutes"),
        ({**CALL, "contact": 987654}, "contact"),
        ({**CALL, "author": 1}, "author"),
    ],
)
def test_log_refuses_bad_input_by_field(book: Book, payload: dict[str, Any], field: str) -> None:
    payload = {k: book.account.pk if v == "{account}" else v for k, v in payload.items()}
    before = Interaction.objects.count()
    response = client_for(book.owner).post("/api/v1/interactions", payload, content_type=JSON)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM
    assert field in response.json()["errors"]
    assert Interaction.objects.count() == before


def test_cannot_name_a_contact_of_another_account(book: Book) -> None:
    other = client_for(book.outsider).post(
        "/api/v1/contacts",
        {"first_name": "Sven", "accounts": [book.outsider_account.pk]},
        content_type=JSON,
    )
    assert other.status_code == 201
    response = client_for(book.director).post(
        "/api/v1/interactions",
        {"account": book.account.pk, "kind": "call", "subject": "x", "contact": other.json()["pk"]},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["contact"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_update_by_persona(book: Book, persona: str) -> None:
    before = snapshot(book.interaction)
    response = client_for(book.persona(persona)).patch(
        url(book.interaction),
        {"subject": "Kick-off call (moved)"},
        content_type=JSON,
        headers={"If-Match": book.interaction.etag},
    )
    assert response.status_code == edit_status(persona)
    if response.status_code == 200:
        assert response.json()["subject"] == "Kick-off call (moved)"
        assert response["ETag"] == f'"{book.interaction.pk}-2"'
    else:
        assert snapshot(book.interaction) == before


def test_update_preconditions(book: Book) -> None:
    client = client_for(book.owner)
    etag = client.get(url(book.interaction))["ETag"]
    missing = client.patch(url(book.interaction), {"subject": "A"}, content_type=JSON)
    assert missing.status_code == 428
    ok = client.patch(
        url(book.interaction), {"subject": "A"}, content_type=JSON, headers={"If-Match": etag}
    )
    assert ok.status_code == 200
    before = snapshot(book.interaction)
    stale = client.patch(
        url(book.interaction), {"subject": "B"}, content_type=JSON, headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert snapshot(book.interaction) == before


def test_status_changes_cannot_be_edited(book: Book) -> None:
    owner = client_for(book.owner)
    account = Account.objects.get(pk=book.account.pk)
    owner.patch(
        f"/api/v1/accounts/{account.pk}",
        {"status": "at_risk"},
        content_type=JSON,
        headers={"If-Match": account.etag},
    )
    change = Interaction.objects.get(account=account, kind="status_change")
    response = owner.patch(
        url(change),
        {"subject": "Nothing happened"},
        content_type=JSON,
        headers={"If-Match": change.etag},
    )
    assert response.status_code == 403
    assert Interaction.objects.get(pk=change.pk).subject.startswith("Status changed")


@pytest.mark.parametrize("persona", PERSONAS)
def test_delete_by_persona(book: Book, persona: str) -> None:
    before = snapshot(book.interaction)
    response = client_for(book.persona(persona)).delete(
        url(book.interaction), headers={"If-Match": book.interaction.etag}
    )
    assert response.status_code == edit_status(persona, success=204)
    if response.status_code == 204:
        assert snapshot(book.interaction) is None
    else:
        assert snapshot(book.interaction) == before


def test_delete_preconditions(book: Book) -> None:
    client = client_for(book.owner)
    assert client.delete(url(book.interaction)).status_code == 428
    assert client.delete(url(book.interaction), headers={"If-Match": '"1-9"'}).status_code == 412
    assert snapshot(book.interaction) is not None
