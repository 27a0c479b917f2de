"""Each kind, format and persona: an export holds exactly what the person sees, page and API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cartera.core.export import CONTENT_TYPES
from cartera.core.testing import EXPECTED_ACCESS, PERSONAS, PROBLEM, Book, client_for
from cartera.core.tests.test_export import read_csv, read_xlsx
from cartera.users.services import create_api_token

#: kind → (page route, API path, the column that names a row).
KINDS: dict[str, tuple[str, str, int]] = {
    "accounts": ("accounts:export", "/api/v1/accounts/export", 0),
    "contacts": ("contacts:export", "/api/v1/contacts/export", 1),
    "interactions": ("activities:export", "/api/v1/interactions/export", 3),
}
FORMATS = ["csv", "xlsx"]


def expected(kind: str, persona: str) -> list[str]:
    """What ``persona`` finds in the export of ``kind``, in list order."""
    sees_book = EXPECTED_ACCESS[persona][0]
    if kind == "accounts":
        names = ["Muñoz Logística"] if sees_book else []
        if persona in {"admin", "director", "outsider"}:
            names.append("Nordic Fisk AB")
        return names
    if kind == "contacts":
        return ["Pérez"] if sees_book else []
    return ["Kick-off call"] if sees_book else []


def names(rows: list[list[Any]], kind: str) -> list[str]:
    column = KINDS[kind][2]
    return [str(row[column]) for row in rows[1:]]


def read(response: Any, fmt: str) -> list[list[Any]]:
    return read_csv(response) if fmt == "csv" else read_xlsx(response)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_page_export_holds_exactly_what_the_persona_sees(
    book: Book, kind: str, fmt: str, persona: str
) -> None:
    client = client_for(book.persona(persona))
    response = client.get(reverse(KINDS[kind][0]), {"format": fmt})
    assert names(read(response, fmt), kind) == expected(kind, persona)


@pytest.mark.parametrize("persona", ["read_only", "outsider", "director"])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_api_export_holds_exactly_what_the_persona_sees(
    book: Book, kind: str, fmt: str, persona: str
) -> None:
    _token, secret = create_api_token(
        actor=book.persona(persona), user=book.persona(persona), name="export", expires_at=None
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.get(KINDS[kind][1], {"format": fmt})
    assert response["Content-Disposition"].startswith(f'attachment; filename="cartera-{kind}-')
    assert names(read(response, fmt), kind) == expected(kind, persona)


@pytest.mark.parametrize("kind", KINDS)
def test_page_export_needs_sign_in(client: Client, book: Book, kind: str) -> None:
    response = client.get(reverse(KINDS[kind][0]), {"format": "xlsx"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("kind", KINDS)
def test_api_export_needs_authentication(client: Client, book: Book, kind: str) -> None:
    for response in [
        client.get(KINDS[kind][1]),
        client.get(KINDS[kind][1], HTTP_AUTHORIZATION="Bearer crt_not-a-token"),
    ]:
        assert response.status_code == 401
        assert response["Content-Type"] == PROBLEM
        assert response.json()["status"] == 401


@pytest.mark.parametrize("kind", KINDS)
def test_api_export_defaults_to_csv_and_takes_the_session(book: Book, kind: str) -> None:
    response = client_for(book.owner).get(KINDS[kind][1])
    assert response["Content-Type"] == CONTENT_TYPES["csv"]
    assert names(read_csv(response), kind) == expected(kind, "owner")


@pytest.mark.parametrize(
    ("kind", "query", "field"),
    [
        ("accounts", {"format": "pdf"}, "format"),
        ("accounts", {"status": "asleep"}, "status"),
        ("contacts", {"buying_role": "emperor"}, "buying_role"),
        ("interactions", {"kind": "party"}, "kind"),
        ("interactions", {"account": "-1"}, "account"),
    ],
)
def test_api_export_refuses_bad_input_with_a_problem(
    book: Book, kind: str, query: dict[str, str], field: str
) -> None:
    response = client_for(book.owner).get(KINDS[kind][1], query)
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert field in response.json()["errors"]


def test_api_export_applies_the_list_filters(book: Book) -> None:
    client = client_for(book.director)
    response = client.get(KINDS["accounts"][1], {"format": "xlsx", "q": "nordic"})
    assert names(read_xlsx(response), "accounts") == ["Nordic Fisk AB"]
    response = client.get(KINDS["accounts"][1], {"status": "active,prospect", "sort": "-name"})
    assert names(read_csv(response), "accounts") == ["Nordic Fisk AB", "Muñoz Logística"]


@pytest.mark.parametrize("kind", KINDS)
def test_export_operations_are_documented_as_binary_downloads(client: Client, kind: str) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"][KINDS[kind][1]]["get"]
    parameters = {parameter["name"] for parameter in operation["parameters"]}
    assert "format" in parameters
    assert parameters - {"format"}  # the list's own filters come alongside
    content = operation["responses"]["200"]["content"]
    assert set(content) == {"text/csv", CONTENT_TYPES["xlsx"]}
    assert content["text/csv"]["schema"] == {"type": "string", "format": "binary"}
    assert set(operation["responses"]) == {"200", "401", "422"}
