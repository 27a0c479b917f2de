"""The accounts API: who may do what, filters, pages, entity tags and refusals of bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from cartera.accounts.models import Account, AccountTeamMember, Tag
from cartera.core.testing import (
    EXPECTED_ACCESS,
    JSON,
    PERSONAS,
    PROBLEM,
    Book,
    client_for,
    read_status,
    write_status,
)
from cartera.users.models import User


def url(account: Account, suffix: str = "") -> str:
    """The API address of ``account``."""
    return f"/api/v1/accounts/{account.pk}{suffix}"


def make_accounts(owner: User, count: int, prefix: str = "Bulk") -> list[Account]:
    """``count`` accounts owned by ``owner``, fast (bulk; sort keys filled in by hand)."""
    rows = [
        Account(name=f"{prefix} {index:03}", name_key=f"{prefix.lower()} {index:03}", owner=owner)
        for index in range(count)
    ]
    accounts = Account.objects.bulk_create(rows)
    tag, _created = Tag.objects.get_or_create(name="bulk")
    Account.tags.through.objects.bulk_create(
        [Account.tags.through(account_id=a.pk, tag_id=tag.pk) for a in accounts]
    )
    return accounts


def snapshot(account: Account) -> tuple[Any, ...]:
    """What a denied write must leave untouched."""
    row = Account.objects.get(pk=account.pk)
    return (row.name, row.status, row.version, row.deleted_at, row.owner_id)


# --- reads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_read_account_by_persona(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).get(url(book.account))
    assert response.status_code == read_status(persona)
    if response.status_code == 200:
        assert response.json()["name"] == "Muñoz Logística"
        assert response["ETag"] == f'"{book.account.pk}-1"'
    else:
        assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_shows_the_account_only_to_who_sees_it(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).get("/api/v1/accounts")
    assert response.status_code == 200
    names = {item["name"] for item in response.json()["items"]}
    assert ("Muñoz Logística" in names) is EXPECTED_ACCESS[persona][0]


def test_account_output_uses_codes_e164_and_decimal_strings(book: Book) -> None:
    client = client_for(book.owner)
    etag = client.get(url(book.account))["ETag"]
    response = client.patch(
        url(book.account),
        {"phone": "911 23 45 67", "annual_revenue": "1250000.50", "tags": ["vip", "iberia"]},
        content_type=JSON,
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["phone"] == "+34911234567"
    assert body["annual_revenue"] == "1250000.50"
    assert body["currency"] == "EUR"
    assert body["country"] == "ES"
    assert body["owner"] == {"pk": book.owner.pk, "full_name": "Olga Owner"}
    assert body["tags"] == ["iberia", "vip"]
    assert body["team"] == [
        {"user": {"pk": book.teammate.pk, "full_name": "Tomás Teammate"}, "role": "coordinator"}
    ]


def test_missing_account_is_404_like_a_hidden_one(book: Book) -> None:
    client = client_for(book.owner)
    missing = client.get("/api/v1/accounts/987654")
    hidden = client.get(url(book.outsider_account))
    assert missing.status_code == hidden.status_code == 404
    assert missing.json() == hidden.json()


@pytest.mark.parametrize("pk", ["abc", "-1", "1.5", str(2**70)])
def test_malformed_or_huge_pk_is_a_clear_error(book: Book, pk: str) -> None:
    response = client_for(book.owner).get(f"/api/v1/accounts/{pk}")
    assert response.status_code in {404, 422}
    assert response["Content-Type"] == PROBLEM


def test_if_none_match_gives_304(book: Book) -> None:
    client = client_for(book.owner)
    etag = client.get(url(book.account))["ETag"]
    response = client.get(url(book.account), headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    stale = client.get(url(book.account), headers={"If-None-Match": '"1-999"'})
    assert stale.status_code == 200


# --- list: filters, pages, queries ----------------------------------------------------------------


def test_list_filters_like_the_list_page(book: Book) -> None:
    client = client_for(book.director)
    active = client.get("/api/v1/accounts", {"status": "active"}).json()["items"]
    assert [a["name"] for a in active] == ["Muñoz Logística"]
    both = client.get("/api/v1/accounts?status=active,prospect&sort=-name").json()["items"]
    assert [a["name"] for a in both] == ["Nordic Fisk AB", "Muñoz Logística"]
    repeated = client.get("/api/v1/accounts?status=active&status=prospect").json()["items"]
    assert len(repeated) == 2
    searched = client.get("/api/v1/accounts", {"q": "MUNOZ"}).json()["items"]
    assert [a["name"] for a in searched] == ["Muñoz Logística"]
    by_country = client.get("/api/v1/accounts", {"country": "se"}).json()["items"]
    assert [a["name"] for a in by_country] == ["Nordic Fisk AB"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("tier=z", "tier"),
        ("owner=abc", "owner"),
        ("is_key_account=maybe", "is_key_account"),
        ("sort=DROP%20TABLE", "sort"),
        ("q=" + "x" * 201, "q"),
        ("q=a%00b", "q"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=" + "A" * 2000, "cursor"),
    ],
)
def test_bad_list_parameters_are_field_errors(book: Book, query: str, field: str) -> None:
    response = client_for(book.owner).get(f"/api/v1/accounts?{query}")
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert list(response.json()["errors"]) == [field]


@pytest.mark.parametrize("q", ["%", "_", "' OR 1=1 --", '"quoted"', "a AND b", "\\", "*", "é%_"])
def test_search_terms_are_plain_text(book: Book, q: str) -> None:
    response = client_for(book.director).get("/api/v1/accounts", {"q": q})
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_pages_follow_cursors_both_ways(book: Book) -> None:
    make_accounts(book.owner, 5)
    client = client_for(book.owner)
    first = client.get("/api/v1/accounts", {"limit": 2}).json()
    assert [a["name"] for a in first["items"]] == ["Bulk 000", "Bulk 001"]
    assert first["previous_cursor"] is None
    second = client.get("/api/v1/accounts", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [a["name"] for a in second["items"]] == ["Bulk 002", "Bulk 003"]
    back = client.get("/api/v1/accounts", {"limit": 2, "cursor": second["previous_cursor"]})
    assert [a["name"] for a in back.json()["items"]] == ["Bulk 000", "Bulk 001"]


def test_list_query_count_does_not_grow(book: Book, django_assert_num_queries: Any) -> None:
    make_accounts(book.owner, 1)
    client = client_for(book.owner)
    # session, user, accounts page, their tags (prefetch)
    with django_assert_num_queries(4):
        response = client.get("/api/v1/accounts")
    assert len(response.json()["items"]) == 2
    make_accounts(book.owner, 48, prefix="More")
    with django_assert_num_queries(4):
        response = client.get("/api/v1/accounts")
    assert len(response.json()["items"]) == 50


def test_trash_list_query_count_does_not_grow(book: Book, django_assert_num_queries: Any) -> None:
    accounts = make_accounts(book.owner, 50)
    Account.objects.filter(pk__in=[a.pk for a in accounts[:2]]).update(deleted_at=timezone.now())
    client = client_for(book.owner)
    # session, user, trashed accounts page, their tags (prefetch)
    with django_assert_num_queries(4):
        assert len(client.get("/api/v1/accounts/trash").json()["items"]) == 2
    Account.objects.filter(pk__in=[a.pk for a in accounts]).update(deleted_at=timezone.now())
    with django_assert_num_queries(4):
        assert len(client.get("/api/v1/accounts/trash").json()["items"]) == 50


# --- create ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_create_by_persona(book: Book, persona: str) -> None:
    before = Account.objects.count()
    response = client_for(book.persona(persona)).post(
        "/api/v1/accounts", {"name": "Nueva Cuenta SL"}, content_type=JSON
    )
    expected = 403 if persona == "read_only" else 201
    assert response.status_code == expected
    if expected == 201:
        body = response.json()
        assert body["owner"]["pk"] == book.persona(persona).pk
        assert response["ETag"] == f'"{body["pk"]}-1"'
        assert response["Location"] == f"/api/v1/accounts/{body['pk']}"
        assert Account.objects.count() == before + 1
    else:
        assert Account.objects.count() == before


def test_create_with_every_field(book: Book) -> None:
    parent = book.account
    response = client_for(book.owner).post(
        "/api/v1/accounts",
        {
            "name": "Hija SA",
            "legal_name": "Hija Sociedad Anónima",
            "tax_id": "A12345678",
            "industry": "logistics",
            "size": "51-200",
            "website": "https://hija.example",
            "phone": "+34 600 000 000",
            "email": "info@hija.example",
            "city": "Sevilla",
            "country": "ES",
            "tier": "b",
            "is_key_account": True,
            "status": "onboarding",
            "annual_revenue": "99.99",
            "currency": "usd",
            "description": "<b>bold</b> text",
            "owner": book.owner.pk,
            "parent": parent.pk,
            "tags": ["north", "north", " "],
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["parent"] == {"pk": parent.pk, "name": "Muñoz Logística"}
    assert body["currency"] == "USD"
    assert body["tags"] == ["north"]
    assert body["is_key_account"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"name": 42}, "name"),
        ({"name": ["a"]}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "ok", "description": "x" * 100_000}, "description"),
        ({"name": "ok", "bogus": 1}, "bogus"),
        ({"name": "ok", "id": 5}, "id"),
        ({"name": "ok", "version": 9}, "version"),
        ({"name": "ok", "status": "deleted"}, "status"),
        ({"name": "ok", "tier": "<script>"}, "tier"),
        ({"name": "ok", "country": "XX"}, "country"),
        ({"name": "ok", "country": "ESP"}, "country"),
        ({"name": "ok", "currency": "EURO"}, "currency"),
        ({"name": "ok", "currency": "ZZZ"}, "currency"),
        ({"name": "ok", "email": "not an email"}, "email"),
        ({"name": "ok", "website": "javascript:alert(1)"}, "website"),
        ({"name": "ok", "phone": "call me maybe"}, "phone"),
        ({"name": "ok", "annual_revenue": "lots"}, "annual_revenue"),
        ({"name": "ok", "annual_revenue": "1.234"}, "annual_revenue"),
        ({"name": "ok", "annual_revenue": "1e30"}, "annual_revenue"),
        ({"name": "ok", "is_key_account": "perhaps"}, "is_key_account"),
        ({"name": "ok", "owner": 987654}, "owner"),
        ({"name": "ok", "owner": "me"}, "owner"),
        ({"name": "ok", "owner": 2**70}, "owner"),
        ({"name": "ok", "parent": 2**70}, "parent"),
        ({"name": "ok", "parent": -1}, "parent"),
        ({"name": "ok", "industry": "piracy"}, "industry"),
        ({"name": "ok", "size": "huge"}, "size"),
        ({"name": "ok", "parent": 987654}, "parent"),
        ({"name": "ok", "tags": "one"}, "tags"),
        ({"name": "ok", "tags": ["x" * 51]}, "tags"),
        ({"name": "ok", "tags": [f"t{i}" for i in range(51)]}, "tags"),
        ({"name": "ok", "tags": ["a\x00"]}, "tags"),
    ],
)
def test_create_refuses_bad_input_by_field(book: Book, payload: dict[str, Any], field: str) -> None:
    before = Account.objects.count()
    response = client_for(book.owner).post("/api/v1/accounts", payload, content_type=JSON)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM
    assert field in response.json()["errors"]
    assert Account.objects.count() == before


def test_create_cannot_give_accounts_to_people_out_of_scope(book: Book) -> None:
    response = client_for(book.owner).post(
        "/api/v1/accounts", {"name": "Regalo", "owner": book.outsider.pk}, content_type=JSON
    )
    assert response.status_code == 422
    assert "owner" in response.json()["errors"]


def test_create_cannot_hang_an_account_under_a_hidden_parent(book: Book) -> None:
    response = client_for(book.owner).post(
        "/api/v1/accounts",
        {"name": "Hija", "parent": book.outsider_account.pk},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert "parent" in response.json()["errors"]


def test_hostile_text_is_stored_as_text(book: Book) -> None:
    hostile = '<img src=x onerror=alert(1)> \'; DROP TABLE accounts; -- "ñ"'
    response = client_for(book.owner).post(
        "/api/v1/accounts", {"name": hostile, "city": "Robert'); --"}, content_type=JSON
    )
    assert response.status_code == 201
    assert Account.objects.get(pk=response.json()["pk"]).name == hostile


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"null", b"\xff\xfe"])
def test_create_with_malformed_body_is_a_problem(book: Book, body: bytes) -> None:
    before = Account.objects.count()
    response = client_for(book.owner).post("/api/v1/accounts", body, content_type=JSON)
    assert response.status_code in {400, 422}
    assert response["Content-Type"] == PROBLEM
    assert Account.objects.count() == before


# --- update (PATCH with If-Match) ---------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_update_by_persona(book: Book, persona: str) -> None:
    before = snapshot(book.account)
    response = client_for(book.persona(persona)).patch(
        url(book.account),
        {"name": "Renamed"},
        content_type=JSON,
        headers={"If-Match": book.account.etag},
    )
    assert response.status_code == write_status(persona)
    if response.status_code == 200:
        assert response.json()["name"] == "Renamed"
        assert response["ETag"] == f'"{book.account.pk}-2"'
    else:
        assert response["Content-Type"] == PROBLEM
        assert snapshot(book.account) == before


def test_update_with_current_etag_then_stale_etag(book: Book) -> None:
    client = client_for(book.owner)
    etag = client.get(url(book.account))["ETag"]
    first = client.patch(
        url(book.account), {"status": "at_risk"}, content_type=JSON, headers={"If-Match": etag}
    )
    assert first.status_code == 200
    assert first["ETag"] != etag
    before = snapshot(book.account)
    second = client.patch(
        url(book.account), {"name": "Overwrite"}, content_type=JSON, headers={"If-Match": etag}
    )
    assert second.status_code == 412
    assert second["Content-Type"] == PROBLEM
    assert "changed" in second.json()["detail"]
    assert snapshot(book.account) == before


def test_update_without_if_match_is_428(book: Book) -> None:
    before = snapshot(book.account)
    response = client_for(book.owner).patch(url(book.account), {"name": "X"}, content_type=JSON)
    assert response.status_code == 428
    assert response["Content-Type"] == PROBLEM
    assert snapshot(book.account) == before


@pytest.mark.parametrize("if_match", ['"999-1"', "garbage", 'W/"1-1"', '"1-"'])
def test_update_with_a_foreign_or_malformed_etag_is_412(book: Book, if_match: str) -> None:
    before = snapshot(book.account)
    response = client_for(book.owner).patch(
        url(book.account), {"name": "X"}, content_type=JSON, headers={"If-Match": if_match}
    )
    assert response.status_code == 412
    assert snapshot(book.account) == before


def test_update_refuses_bad_input_and_changes_nothing(book: Book) -> None:
    before = snapshot(book.account)
    response = client_for(book.owner).patch(
        url(book.account),
        {"name": "", "status": "nope", "extra": True},
        content_type=JSON,
        headers={"If-Match": book.account.etag},
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"status", "extra"}
    response = client_for(book.owner).patch(
        url(book.account),
        {"name": "", "email": "nope"},
        content_type=JSON,
        headers={"If-Match": book.account.etag},
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"name", "email"}
    assert snapshot(book.account) == before


def test_account_cannot_become_its_own_parent(book: Book) -> None:
    response = client_for(book.owner).patch(
        url(book.account),
        {"parent": book.account.pk},
        content_type=JSON,
        headers={"If-Match": book.account.etag},
    )
    assert response.status_code == 422
    assert "parent" in response.json()["errors"]


# --- trash and restore ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_trash_by_persona(book: Book, persona: str) -> None:
    before = snapshot(book.account)
    response = client_for(book.persona(persona)).delete(
        url(book.account), headers={"If-Match": book.account.etag}
    )
    assert response.status_code == write_status(persona, success=204)
    if response.status_code == 204:
        assert Account.objects.get(pk=book.account.pk).deleted_at is not None
    else:
        assert snapshot(book.account) == before


def test_trash_needs_if_match(book: Book) -> None:
    client = client_for(book.owner)
    assert client.delete(url(book.account)).status_code == 428
    assert client.delete(url(book.account), headers={"If-Match": '"1-7"'}).status_code == 412
    assert Account.objects.get(pk=book.account.pk).deleted_at is None


@pytest.mark.parametrize("persona", PERSONAS)
def test_restore_by_persona(book: Book, persona: str) -> None:
    owner = client_for(book.owner)
    assert (
        owner.delete(url(book.account), headers={"If-Match": book.account.etag}).status_code == 204
    )
    trashed = owner.get("/api/v1/accounts/trash").json()["items"]
    assert [a["pk"] for a in trashed] == [book.account.pk]
    assert owner.get(url(book.account)).status_code == 404
    response = client_for(book.persona(persona)).post(url(book.account, "/restore"))
    assert response.status_code == write_status(persona)
    restored = Account.objects.get(pk=book.account.pk).deleted_at is None
    assert restored is (response.status_code == 200)


# --- account team ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_set_team_member_by_persona(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).put(
        url(book.account, f"/team/{book.manager.pk}"), {"role": "kam"}, content_type=JSON
    )
    assert response.status_code == write_status(persona)
    exists = AccountTeamMember.objects.filter(account=book.account, user=book.manager).exists()
    assert exists is (response.status_code == 200)
    if response.status_code == 200:
        assert response.json() == {
            "user": {"pk": book.manager.pk, "full_name": "Manu Manager"},
            "role": "kam",
        }


@pytest.mark.parametrize("persona", PERSONAS)
def test_remove_team_member_by_persona(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).delete(
        url(book.account, f"/team/{book.teammate.pk}")
    )
    assert response.status_code == write_status(persona, success=204)
    exists = AccountTeamMember.objects.filter(account=book.account, user=book.teammate).exists()
    assert exists is (response.status_code != 204)


def test_team_member_bad_input(book: Book) -> None:
    client = client_for(book.owner)
    bad_role = client.put(
        url(book.account, f"/team/{book.manager.pk}"), {"role": "boss"}, content_type=JSON
    )
    assert bad_role.status_code == 422
    assert list(bad_role.json()["errors"]) == ["role"]
    nobody = client.put(url(book.account, "/team/987654"), {"role": "kam"}, content_type=JSON)
    assert nobody.status_code == 404
    not_member = client.delete(url(book.account, f"/team/{book.manager.pk}"))
    assert not_member.status_code == 404
    assert AccountTeamMember.objects.filter(account=book.account).count() == 1


# --- history --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_history_by_persona(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).get(url(book.account, "/history"))
    assert response.status_code == read_status(persona)
    if response.status_code == 200:
        entries = response.json()["items"]
        created = [e for e in entries if e["object_type"] == "account"]
        assert created[0]["action"] == "create"
        assert created[0]["actor"] == {"pk": book.owner.pk, "full_name": "Olga Owner"}
        assert created[0]["changes"]["name"][1] == "Muñoz Logística"


def test_history_query_count_does_not_grow(book: Book, django_assert_num_queries: Any) -> None:
    client = client_for(book.owner)

    def rename(times: int) -> None:
        for index in range(times):
            account = Account.objects.get(pk=book.account.pk)
            client.patch(
                url(account),
                {"city": f"City {index}"},
                content_type=JSON,
                headers={"If-Match": account.etag},
            )

    client.get(url(book.account, "/history"))  # content types cached
    # session, user, account (access), entries with actor and content type
    with django_assert_num_queries(4):
        small = client.get(url(book.account, "/history")).json()["items"]
    assert len(small) == 3
    rename(47)
    with django_assert_num_queries(4):
        large = client.get(url(book.account, "/history")).json()["items"]
    assert len(large) == 50
