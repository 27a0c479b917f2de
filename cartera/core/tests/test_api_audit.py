"""The audit API: everyone reads the trail of what they can see, directors read it all."""

from __future__ import annotations

from typing import Any

import pytest

from cartera.accounts.models import Account
from cartera.accounts.services import update_account
from cartera.core.testing import EXPECTED_ACCESS, PERSONAS, Book, client_for
from cartera.users.models import User


def entries(user: User, **query: Any) -> list[dict[str, Any]]:
    """The audit entries ``user`` reads with ``query``."""
    response = client_for(user).get("/api/v1/audit", {"limit": 200, **query})
    assert response.status_code == 200, response.content
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.mark.parametrize("persona", PERSONAS)
def test_account_trail_is_read_by_who_sees_the_account(book: Book, persona: str) -> None:
    found = entries(book.persona(persona), object_type="account", object_id=book.account.pk)
    if EXPECTED_ACCESS[persona][0]:
        assert [(e["action"], e["object_repr"]) for e in found] == [("create", "Muñoz Logística")]
        assert found[0]["actor"] == {"pk": book.owner.pk, "full_name": "Olga Owner"}
    else:
        assert found == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_related_trails_follow_the_account(book: Book, persona: str) -> None:
    types = {e["object_type"] for e in entries(book.persona(persona))}
    book_types = {"account", "accountteammember", "contact", "contactaccount", "interaction"}
    if EXPECTED_ACCESS[persona][0]:
        assert book_types <= types
    else:
        # The outsider reads only the trail of their own account.
        assert types == {"account"}
        own = entries(book.outsider)
        assert [e["object_id"] for e in own] == [book.outsider_account.pk]


@pytest.mark.parametrize("persona", PERSONAS)
def test_people_and_teams_trail_is_for_directors_and_admins(book: Book, persona: str) -> None:
    found = entries(book.persona(persona), object_type="user")
    if persona in {"admin", "director"}:
        assert {e["object_repr"] for e in found} >= {"Olga Owner", "Oscar Outsider"}
    else:
        assert found == []


def test_changes_show_before_and_after(book: Book) -> None:
    update_account(
        actor=book.manager,
        account=book.account,
        changes={"status": "at_risk"},
        expected_version=1,
    )
    latest = entries(book.owner, object_type="account", object_id=book.account.pk)[0]
    assert latest["action"] == "update"
    assert latest["changes"]["status"] == ["active", "at_risk"]
    assert latest["actor"]["pk"] == book.manager.pk
    by_actor = entries(book.director, actor=book.manager.pk, object_type="account")
    assert [e["pk"] for e in by_actor] == [latest["pk"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("object_type=password", "object_type"),
        ("object_id=abc", "object_id"),
        ("object_id=0", "object_id"),
        (f"object_id={2**70}", "object_id"),
        ("actor=me", "actor"),
        ("cursor=%FF", "cursor"),
    ],
)
def test_bad_filters_are_field_errors(book: Book, query: str, field: str) -> None:
    response = client_for(book.owner).get(f"/api/v1/audit?{query}")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]


@pytest.mark.parametrize("persona", ["owner", "director"])
def test_audit_query_count_does_not_grow(
    book: Book, persona: str, django_assert_num_queries: Any
) -> None:
    client = client_for(book.persona(persona))
    address = f"/api/v1/audit?object_type=account&object_id={book.account.pk}"
    client.get(address)  # content types cached
    # session, user, entries with actor and content type (visibility is a subquery); a scoped
    # person also reads the ids of the accounts they see once (deal visibility)
    expected = 3 if persona == "director" else 4
    with django_assert_num_queries(expected):
        assert len(client.get(address).json()["items"]) == 1
    for index in range(49):
        account = Account.objects.get(pk=book.account.pk)
        update_account(
            actor=book.owner,
            account=account,
            changes={"city": f"City {index}"},
            expected_version=account.version,
        )
    with django_assert_num_queries(expected):
        assert len(client.get(address).json()["items"]) == 50


def test_deal_history_is_readable_by_who_sees_the_deal(book: Book) -> None:
    from cartera.sales.services import create_opportunity, ensure_default_pipeline

    ensure_default_pipeline()
    deal = create_opportunity(
        actor=book.owner, data={"name": "Renewal 2027", "account": book.account, "amount": "100"}
    )
    address = f"/api/v1/audit?object_type=opportunity&object_id={deal.pk}"
    for persona, seen in [("owner", 1), ("manager", 1), ("teammate", 1), ("outsider", 0)]:
        items = client_for(book.persona(persona)).get(address).json()["items"]
        assert len(items) == seen, persona
