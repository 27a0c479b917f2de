"""API plumbing: authentication, problem documents, languages, CSRF and the OpenAPI schema."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from cartera.core.testing import JSON, PROBLEM, Book, client_for
from cartera.users.models import ApiToken

#: Every operation the API offers; adding one means adding it here (and to its tests).
OPERATIONS = {
    "list_accounts", "create_account", "list_trashed_accounts", "get_account", "update_account",
    "trash_account", "restore_account", "set_team_member", "remove_team_member",
    "list_account_history", "list_contacts", "create_contact", "list_trashed_contacts",
    "get_contact", "update_contact", "trash_contact", "restore_contact", "list_contact_history",
    "list_interactions", "log_interaction", "get_interaction", "update_interaction",
    "delete_interaction", "list_account_timeline", "list_contact_timeline", "search", "get_me",
    "update_me", "list_users", "create_user", "get_user", "update_user", "list_teams",
    "create_team", "get_team", "update_team", "list_tokens", "create_token", "get_token",
    "revoke_token", "list_audit_entries", "export_accounts", "export_contacts",
    "export_interactions", "list_imports", "create_import", "get_import", "preview_import",
    "set_import_mapping", "dry_run_import", "start_import", "cancel_import", "import_errors",
    "add_deal_line", "add_quote_line", "assign_lead", "convert_lead", "count_unread_notifications",
    "create_lead", "create_loss_reason", "create_opportunity", "create_pipeline",
    "create_price_list", "create_product", "create_quote", "create_stage", "create_target",
    "decide_quote_approval", "delete_stage", "delete_target", "export_leads",
    "export_opportunities", "export_products", "export_report", "get_board", "get_forecast",
    "get_lead", "get_leaderboard", "get_opportunity", "get_pipeline", "get_price_list",
    "get_product", "get_product_price", "get_quote", "get_quote_pdf", "get_quote_settings",
    "get_report", "get_target", "get_trend", "list_lead_activities", "list_leads",
    "list_loss_reasons", "list_notifications", "list_opportunities", "list_pipelines",
    "list_price_lists", "list_products", "list_quote_history", "list_quote_versions",
    "list_quotes", "list_reports", "list_stage_history", "list_targets", "log_lead_activity",
    "move_opportunity", "preview_conversion", "read_notifications", "remove_deal_contact",
    "remove_deal_line", "remove_price", "remove_quote_line", "reorder_stages",
    "request_quote_approval", "restore_opportunity", "revise_quote", "send_quote",
    "set_deal_contact", "set_price", "trash_lead", "trash_opportunity", "update_deal_line",
    "update_lead", "update_loss_reason", "update_opportunity", "update_pipeline",
    "update_price_list", "update_product", "update_quote", "update_quote_line",
    "update_quote_settings", "update_stage", "update_target",
    "list_lead_forms", "create_lead_form", "get_lead_form", "update_lead_form", "delete_lead_form",
    "list_assignment_rules", "create_assignment_rule", "get_assignment_rule",
    "update_assignment_rule", "delete_assignment_rule", "list_scoring_rules",
    "create_scoring_rule", "get_scoring_rule", "update_scoring_rule", "delete_scoring_rule",
}  # fmt: skip


def openapi() -> dict[str, Any]:
    """The served OpenAPI document."""
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation in the schema."""
    return [
        (method, path, operation)
        for path, methods in openapi()["paths"].items()
        for method, operation in methods.items()
    ]


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem with ``status``; its document."""
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    document: dict[str, Any] = response.json()
    assert set(document) == {"type", "title", "status", "detail", "errors"}
    assert document["status"] == status
    assert document["type"].startswith("urn:cartera:problem:")
    return document


# --- OpenAPI and docs -------------------------------------------------------------------------


@pytest.mark.django_db
def test_openapi_lists_every_operation_once_with_a_tag() -> None:
    found = operations()
    ids = [operation["operationId"] for _method, _path, operation in found]
    assert sorted(ids) == sorted(OPERATIONS)
    assert all(operation.get("tags") for _method, _path, operation in found)
    assert all(operation.get("description") for _method, _path, operation in found)


@pytest.mark.django_db
def test_openapi_document_is_consistent() -> None:
    document = openapi()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Cartera API"
    schemes = document["components"]["securitySchemes"]
    assert schemes["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionAuth"]["in"] == "cookie"
    text = str(document)
    references = set(re.findall(r"#/components/schemas/([\w\-]+)", text))
    assert references
    assert references <= set(document["components"]["schemas"])
    for _method, path, operation in operations():
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == [PROBLEM]
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path))


@pytest.mark.django_db
def test_docs_are_served_from_our_static_files() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "/api/v1/openapi.json" in html


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_operation_needs_authentication() -> None:
    client = Client()
    for method, path, operation in operations():
        address = re.sub(r"{\w+}", "1", path)
        response = client.generic(method.upper(), address, "{}", content_type=JSON)
        assert response.status_code == 401, operation["operationId"]
        assert response["Content-Type"] == PROBLEM


def test_session_writes_need_the_csrf_token(book: Book) -> None:
    client = client_for(book.owner, enforce_csrf_checks=True)
    refused = client.post("/api/v1/tokens", {"name": "x"}, content_type=JSON)
    assert_problem(refused, 403)
    assert ApiToken.objects.count() == 0
    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    accepted = client.post(
        "/api/v1/tokens", {"name": "x"}, content_type=JSON, headers={"X-CSRFToken": secret}
    )
    assert accepted.status_code == 201
    assert client.get("/api/v1/tokens").status_code == 200  # reads need no token


def test_unauthenticated_problem(db: None) -> None:
    document = assert_problem(Client().get("/api/v1/accounts"), 401)
    assert "Bearer" in document["detail"]


# --- problems -----------------------------------------------------------------------------------


def test_unknown_address_is_a_404_problem(book: Book) -> None:
    assert_problem(client_for(book.owner).get("/api/v1/no/such/thing"), 404)


def test_unsupported_method_is_a_405_problem(book: Book) -> None:
    response = client_for(book.owner).put(f"/api/v1/accounts/{book.account.pk}", {}, JSON)
    assert_problem(response, 405)
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH", "DELETE"}


def test_validation_problem_names_fields(book: Book) -> None:
    response = client_for(book.owner).post(
        "/api/v1/accounts", {"name": "x" * 300, "tier": "z", "nope": 1}, content_type=JSON
    )
    document = assert_problem(response, 422)
    assert document["errors"] == {
        "name": ["This value is too long (at most 200 characters)."],
        "tier": ["Select a valid choice."],
        "nope": ["Unknown field."],
    }


def test_missing_field_message_is_spanish_with_accept_language(book: Book) -> None:
    response = client_for(book.owner).post(
        "/api/v1/contacts",
        {"accounts": [book.account.pk]},
        content_type=JSON,
        headers={"Accept-Language": "es"},
    )
    document = assert_problem(response, 422)
    assert document["errors"]["first_name"] == ["Este campo es obligatorio."]


def test_service_refusal_is_spanish_with_accept_language(book: Book) -> None:
    response = client_for(book.owner).post(
        "/api/v1/accounts",
        {"name": "Acme", "email": "not-an-email"},
        content_type=JSON,
        headers={"Accept-Language": "es"},
    )
    document = assert_problem(response, 422)
    assert document["errors"] == {
        "email": ["Introduzca una dirección de correo electrónico válida."]
    }


@pytest.mark.parametrize(
    "body", [b"{", b"{'single': 'quotes'}", b"\x00", b'{"name": "x"', "ñ".encode("latin-1")]
)
def test_malformed_json_is_a_400_problem(book: Book, body: bytes) -> None:
    response = client_for(book.owner).post("/api/v1/accounts", body, content_type=JSON)
    assert_problem(response, 400)


def test_unexpected_failure_is_a_500_problem_without_traceback(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("cartera.search.api.global_search", explode)
    response = client_for(book.owner).get("/api/v1/search", {"q": "x"})
    document = assert_problem(response, 500)
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert document["errors"] == {}


HUGE = 2**70


@pytest.mark.parametrize(
    "address",
    [
        f"/api/v1/accounts?owner={HUGE}",
        f"/api/v1/accounts?parent={HUGE}",
        f"/api/v1/accounts?owner=-{HUGE}",
        f"/api/v1/contacts?account={HUGE}",
        f"/api/v1/interactions?account={HUGE}&contact={HUGE}",
        f"/api/v1/accounts/{HUGE}",
        f"/api/v1/accounts/{HUGE}/timeline",
        f"/api/v1/tokens/{HUGE}",
    ],
)
def test_huge_ids_never_fail_the_server(book: Book, address: str) -> None:
    response = client_for(book.director).get(address)
    # PostgreSQL answers "nothing matches"; SQLite cannot even bind the number.
    if response.status_code == 200:
        assert response.json()["items"] == []
    else:
        assert response.status_code in {404, 422}
        assert response["Content-Type"] == PROBLEM
