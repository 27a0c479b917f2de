"""The people API: the signed-in person, people and teams (admins change them), tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cartera.core.testing import JSON, PERSONAS, Book, client_for
from cartera.users.models import ApiToken, Team, User
from cartera.users.services import create_api_token


def bearer(raw: str) -> dict[str, str]:
    """Headers that authenticate with a personal access token."""
    return {"Authorization": f"Bearer {raw}"}


def make_people(count: int, team: Team | None = None) -> None:
    """``count`` active people, fast (bulk)."""
    User.objects.bulk_create(
        [
            User(email=f"bulk{index}@example.com", full_name=f"Bulk {index:03}", team=team)
            for index in range(count)
        ]
    )


# --- /me ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_me_describes_the_caller(book: Book, persona: str) -> None:
    user = book.persona(persona)
    response = client_for(user).get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["pk"] == user.pk
    assert body["email"] == user.email
    assert body["can_write"] is (persona != "read_only")
    assert body["is_admin"] is (persona == "admin")
    assert response["ETag"]


def test_me_etag_gives_304(book: Book) -> None:
    client = client_for(book.owner)
    etag = client.get("/api/v1/me")["ETag"]
    assert client.get("/api/v1/me", headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("persona", PERSONAS)
def test_everyone_changes_their_own_language(book: Book, persona: str) -> None:
    user = book.persona(persona)
    response = client_for(user).patch("/api/v1/me", {"language": "es"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["language"] == "es"
    assert User.objects.get(pk=user.pk).language == "es"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"language": "klingon"}, "language"),
        ({"language": 5}, "language"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"full_name": "x" * 151}, "full_name"),
        ({"full_name": ""}, "full_name"),
        ({"role": "admin"}, "role"),
        ({"is_active": False}, "is_active"),
        ({"email": "new@example.com"}, "email"),
    ],
)
def test_me_refuses_bad_or_forbidden_changes(
    book: Book, payload: dict[str, Any], field: str
) -> None:
    response = client_for(book.owner).patch("/api/v1/me", payload, content_type=JSON)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    owner = User.objects.get(pk=book.owner.pk)
    assert (owner.language, owner.role, owner.full_name) == ("", "account_manager", "Olga Owner")


def test_saved_language_wins_over_accept_language(book: Book) -> None:
    client = client_for(book.owner)
    client.patch("/api/v1/me", {"language": "es"}, content_type=JSON)
    response = client.post(
        "/api/v1/tokens", {}, content_type=JSON, headers={"Accept-Language": "en"}
    )
    assert response.json()["errors"] == {"name": ["Este campo es obligatorio."]}


# --- people ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_everyone_lists_people(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).get("/api/v1/users")
    assert response.status_code == 200
    names = [item["full_name"] for item in response.json()["items"]]
    assert names == sorted(names)
    assert "Olga Owner" in names
    assert set(response.json()["items"][0]) == {
        "pk",
        "full_name",
        "email",
        "role",
        "team",
        "is_active",
    }


def test_inactive_people_are_listed_for_admins_only(book: Book) -> None:
    User.objects.filter(pk=book.outsider.pk).update(is_active=False)
    admin = [u["pk"] for u in client_for(book.admin).get("/api/v1/users").json()["items"]]
    owner = [u["pk"] for u in client_for(book.owner).get("/api/v1/users").json()["items"]]
    assert book.outsider.pk in admin
    assert book.outsider.pk not in owner


def test_user_list_query_count_does_not_grow(book: Book, django_assert_num_queries: Any) -> None:
    client = client_for(book.owner)
    # session, user, people page with team
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/users?limit=2").json()["items"]) == 2
    make_people(50, team=book.team)
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/users?limit=50").json()["items"]) == 50


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admins_read_a_person(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).get(f"/api/v1/users/{book.owner.pk}")
    assert response.status_code == (200 if persona == "admin" else 404)


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admins_create_people(book: Book, persona: str) -> None:
    before = User.objects.count()
    response = client_for(book.persona(persona)).post(
        "/api/v1/users",
        {
            "email": "New.Person@Example.com",
            "full_name": "New Person",
            "password": "Another-Long-Secret-99",
            "role": "coordinator",
            "team": book.team.pk,
        },
        content_type=JSON,
    )
    assert response.status_code == (201 if persona == "admin" else 403)
    assert User.objects.count() == before + (1 if persona == "admin" else 0)
    if persona == "admin":
        body = response.json()
        assert body["email"] == "new.person@example.com"
        assert body["team"] == {"pk": book.team.pk, "name": "Iberia"}
        assert "password" not in body


PERSON = {"email": "a@example.com", "full_name": "A", "password": "Another-Long-Secret-99"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"full_name": "A", "password": "Another-Long-Secret-99"}, "email"),
        ({**PERSON, "password": "123"}, "password"),
        ({"email": "a@example.com", "full_name": "A"}, "password"),
        ({**PERSON, "email": "bad"}, "email"),
        ({**PERSON, "email": "owner@example.com"}, "email"),
        ({**PERSON, "role": "god"}, "role"),
        ({**PERSON, "team": 987654}, "team"),
        ({**PERSON, "team": 2**70}, "team"),
        ({**PERSON, "is_superuser": True}, "is_superuser"),
        ({**PERSON, "full_name": "x" * 151}, "full_name"),
        ({**PERSON, "email": "a\x00@example.com"}, "email"),
    ],
)
def test_create_person_refuses_bad_input(book: Book, payload: dict[str, Any], field: str) -> None:
    before = User.objects.count()
    response = client_for(book.admin).post("/api/v1/users", payload, content_type=JSON)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert User.objects.count() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admins_change_people(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).patch(
        f"/api/v1/users/{book.teammate.pk}", {"role": "manager"}, content_type=JSON
    )
    assert response.status_code == (200 if persona == "admin" else 404)
    role = User.objects.get(pk=book.teammate.pk).role
    assert role == ("manager" if persona == "admin" else "coordinator")


def test_admin_cannot_demote_themselves(book: Book) -> None:
    response = client_for(book.admin).patch(
        f"/api/v1/users/{book.admin.pk}", {"role": "sales_rep"}, content_type=JSON
    )
    assert response.status_code == 422
    assert User.objects.get(pk=book.admin.pk).role == "admin"


# --- teams ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_everyone_lists_teams(book: Book, persona: str) -> None:
    response = client_for(book.persona(persona)).get("/api/v1/teams")
    assert response.status_code == 200
    assert response.json()["items"][0] == {
        "pk": book.team.pk,
        "name": "Iberia",
        "manager": {"pk": book.manager.pk, "full_name": "Manu Manager"},
        "office": "",
    }


def test_admin_sets_a_team_office(book: Book) -> None:
    client = client_for(book.admin)
    response = client.patch(
        f"/api/v1/teams/{book.team.pk}", {"office": "Central"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["office"] == "Central"
    book.team.refresh_from_db()
    assert book.team.office == "Central"


def test_team_list_query_count_does_not_grow(book: Book, django_assert_num_queries: Any) -> None:
    client = client_for(book.owner)
    # session, user, teams page with manager
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/teams").json()["items"]) == 2
    Team.objects.bulk_create(
        [Team(name=f"Team {index:02}", manager=book.manager) for index in range(48)]
    )
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/teams").json()["items"]) == 50


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admins_create_and_change_teams(book: Book, persona: str) -> None:
    client = client_for(book.persona(persona))
    created = client.post("/api/v1/teams", {"name": "LatAm"}, content_type=JSON)
    changed = client.patch(
        f"/api/v1/teams/{book.team.pk}", {"name": "Iberia Sur"}, content_type=JSON
    )
    read = client.get(f"/api/v1/teams/{book.team.pk}")
    if persona == "admin":
        assert (created.status_code, changed.status_code, read.status_code) == (201, 200, 200)
    else:
        assert (created.status_code, changed.status_code, read.status_code) == (403, 404, 404)
    assert Team.objects.filter(name="LatAm").exists() is (persona == "admin")
    assert Team.objects.get(pk=book.team.pk).name == (
        "Iberia Sur" if persona == "admin" else "Iberia"
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": "Iberia"}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "New", "manager": 987654}, "manager"),
        ({"name": "New", "manager": 2**70}, "manager"),
        ({"name": "New", "manager": "boss"}, "manager"),
    ],
)
def test_create_team_refuses_bad_input(book: Book, payload: dict[str, Any], field: str) -> None:
    response = client_for(book.admin).post("/api/v1/teams", payload, content_type=JSON)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert Team.objects.count() == 2


# --- tokens ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_everyone_manages_their_own_tokens(book: Book, persona: str) -> None:
    user = book.persona(persona)
    client = client_for(user)
    created = client.post("/api/v1/tokens", {"name": "laptop"}, content_type=JSON)
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("crt_")
    assert client.get("/api/v1/me", headers=bearer(raw)).json()["pk"] == user.pk
    listed = client.get("/api/v1/tokens").json()["items"]
    assert [t["name"] for t in listed] == ["laptop"]
    assert "token" not in listed[0]
    revoked = client.delete(f"/api/v1/tokens/{created.json()['pk']}")
    assert revoked.status_code == 200
    assert revoked.json()["is_usable"] is False
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_token_is_stored_hashed(book: Book) -> None:
    response = client_for(book.owner).post("/api/v1/tokens", {"name": "ci"}, content_type=JSON)
    raw = response.json()["token"]
    token = ApiToken.objects.get(pk=response.json()["pk"])
    stored = [str(getattr(token, field.attname)) for field in ApiToken._meta.concrete_fields]
    assert all(raw not in value for value in stored)
    assert raw.split("_", 2)[2] not in " ".join(stored)


def test_someone_elses_token_is_404(book: Book) -> None:
    token, _raw = create_api_token(actor=book.teammate, user=book.teammate, name="theirs")
    client = client_for(book.owner)
    assert client.get(f"/api/v1/tokens/{token.pk}").status_code == 404
    assert client.delete(f"/api/v1/tokens/{token.pk}").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "n\x00"}, "name"),
        ({"name": "a", "expires_at": "soon"}, "expires_at"),
        ({"name": "a", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "a", "user": 1}, "user"),
    ],
)
def test_create_token_refuses_bad_input(book: Book, payload: dict[str, Any], field: str) -> None:
    response = client_for(book.owner).post("/api/v1/tokens", payload, content_type=JSON)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert ApiToken.objects.count() == 0


def test_token_list_query_count_does_not_grow(book: Book, django_assert_num_queries: Any) -> None:
    def add(count: int) -> None:
        for index in range(count):
            create_api_token(actor=book.owner, user=book.owner, name=f"token {index}")

    add(2)
    client = client_for(book.owner)
    # session, user, tokens page
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/tokens").json()["items"]) == 2
    add(48)
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/tokens").json()["items"]) == 50


# --- token authentication -----------------------------------------------------------------------


def test_valid_token_authenticates_without_csrf(book: Book) -> None:
    _token, raw = create_api_token(actor=book.owner, user=book.owner, name="script")
    client = Client(enforce_csrf_checks=True)
    response = client.patch(
        "/api/v1/me", {"full_name": "Olga O."}, content_type=JSON, headers=bearer(raw)
    )
    assert response.status_code == 200
    assert User.objects.get(pk=book.owner.pk).full_name == "Olga O."


def test_expired_token_is_401(book: Book) -> None:
    token, raw = create_api_token(
        actor=book.owner, user=book.owner, name="old", expires_at=timezone.now() + timedelta(days=1)
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get("/api/v1/me", headers=bearer(raw))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_of_a_deactivated_person_is_401(book: Book) -> None:
    _token, raw = create_api_token(actor=book.owner, user=book.owner, name="x")
    User.objects.filter(pk=book.owner.pk).update(is_active=False)
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Bearer crt_garbage",
        "Bearer crt_",
        "Bearer ",
        "Bearer not-even-a-token",
        "Basic b3duZXJAZXhhbXBsZS5jb206cGFzcw==",
        "Token crt_abc",
        "Bearer " + "crt_" + "x" * 10_000,
    ],
)
def test_garbage_credentials_are_401(book: Book, header: str) -> None:
    response = Client().get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_a_wrong_secret_with_a_real_prefix_is_401(book: Book) -> None:
    _token, raw = create_api_token(actor=book.owner, user=book.owner, name="x")
    tampered = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    assert Client().get("/api/v1/me", headers=bearer(tampered)).status_code == 401


def test_a_bad_token_does_not_fall_back_to_the_session(book: Book) -> None:
    client = client_for(book.owner)
    assert client.get("/api/v1/me", headers=bearer("crt_wrong")).status_code == 401


def test_token_user_gets_their_saved_language(book: Book) -> None:
    User.objects.filter(pk=book.owner.pk).update(language="es")
    _token, raw = create_api_token(actor=book.owner, user=book.owner, name="x")
    response = Client().post(
        "/api/v1/tokens",
        {},
        content_type=JSON,
        headers={**bearer(raw), "Accept-Language": "en"},
    )
    assert response.json()["errors"] == {"name": ["Este campo es obligatorio."]}
