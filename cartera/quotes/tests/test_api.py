"""The quotes API: build, approve, send, revise, PDF, settings; permissions and concurrency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cartera.core.testing import JSON, PERSONAS, PROBLEM, Book, client_for, read_status
from cartera.quotes.models import Quote

pytestmark = pytest.mark.django_db


def _create(client: Any, deal: Any, **extra: Any) -> Any:
    return client.post("/api/v1/quotes", {"opportunity": deal.pk, **extra}, content_type=JSON)


def test_full_flow_over_the_api(book: Book, deal: Any, products: Any) -> None:
    owner = client_for(book.owner)
    created = _create(owner, deal, language="es", discount_percent="5")
    assert created.status_code == 201, created.content
    body = created.json()
    pk, etag = body["pk"], created["ETag"]
    assert body["currency"] == "EUR" and body["revision"] == 1 and body["status"] == "draft"
    line = owner.post(
        f"/api/v1/quotes/{pk}/lines",
        {"product": products["licence"].pk, "quantity": "10", "discount_percent": "20"},
        content_type=JSON,
        headers={"If-Match": etag},
    )
    assert line.status_code == 201, line.content
    assert line.json()["unit_price"] == "90.00"
    etag = line["ETag"]
    detail = owner.get(f"/api/v1/quotes/{pk}").json()
    assert detail["subtotal"] == "720.00"
    assert detail["discount_amount"] == "36.00"
    assert detail["tax_amount"] == "143.64"
    assert detail["total"] == "827.64"
    assert detail["needs_approval"] is True
    assert detail["effective_discount"] == "24.00"
    # sending is refused until approved
    refused = owner.post(
        f"/api/v1/quotes/{pk}/send",
        {"recipient_email": "c@x.example"},
        content_type=JSON,
        headers={"If-Match": etag},
    )
    assert refused.status_code == 412
    assert refused["Content-Type"] == PROBLEM
    asked = owner.post(
        f"/api/v1/quotes/{pk}/request-approval",
        {"note": "fleet"},
        content_type=JSON,
        headers={"If-Match": etag},
    )
    assert asked.status_code == 201
    etag = owner.get(f"/api/v1/quotes/{pk}")["ETag"]
    selfie = owner.post(
        f"/api/v1/quotes/{pk}/decision",
        {"approve": True},
        content_type=JSON,
        headers={"If-Match": etag},
    )
    assert selfie.status_code == 403
    manager = client_for(book.manager)
    decided = manager.post(
        f"/api/v1/quotes/{pk}/decision",
        {"approve": True, "comment": "ok"},
        content_type=JSON,
        headers={"If-Match": etag},
    )
    assert decided.status_code == 200
    assert decided.json()["approver"]["full_name"] == "Manu Manager"
    etag = owner.get(f"/api/v1/quotes/{pk}")["ETag"]
    sent = owner.post(
        f"/api/v1/quotes/{pk}/send",
        {"recipient_email": "c@x.example", "recipient_name": "Carla"},
        content_type=JSON,
        headers={"If-Match": etag},
    )
    assert sent.status_code == 200
    assert "/quotes/public/" in sent.json()["public_url"]
    assert sent.json()["quote"]["status"] == "sent"
    revised = owner.post(f"/api/v1/quotes/{pk}/revise", headers={"If-Match": sent["ETag"]})
    assert revised.status_code == 201
    assert revised.json()["revision"] == 2
    versions = owner.get(f"/api/v1/quotes/{pk}/versions").json()
    assert [(v["revision"], v["status"]) for v in versions] == [(2, "draft"), (1, "superseded")]
    history = owner.get(f"/api/v1/quotes/{pk}/history").json()
    assert history["items"]
    pdf = owner.get(f"/api/v1/quotes/{pk}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("persona", PERSONAS)
def test_permission_matrix(persona: str, book: Book, deal: Any) -> None:
    quote = _create(client_for(book.owner), deal).json()
    client = client_for(book.persona(persona))
    assert client.get(f"/api/v1/quotes/{quote['pk']}").status_code == read_status(persona)
    listed = [row["pk"] for row in client.get("/api/v1/quotes").json()["items"]]
    assert (quote["pk"] in listed) == (persona != "outsider")
    created = _create(client, deal)
    assert created.status_code == {"read_only": 403, "outsider": 404}.get(persona, 201)
    patched = client.patch(
        f"/api/v1/quotes/{quote['pk']}",
        {"title": "T"},
        content_type=JSON,
        headers={"If-Match": f'"{quote["pk"]}-{quote["version"]}"'},
    )
    assert patched.status_code == {"read_only": 403, "outsider": 404}.get(persona, 200)


def test_bad_input_and_preconditions(book: Book, deal: Any) -> None:
    owner = client_for(book.owner)
    assert _create(owner, deal, discount_percent="150").status_code == 422
    assert _create(owner, deal, bogus=1).status_code == 422
    assert (
        owner.post("/api/v1/quotes", {"opportunity": 999999}, content_type=JSON).status_code == 404
    )
    created = _create(owner, deal)
    pk = created.json()["pk"]
    no_match = owner.post(
        f"/api/v1/quotes/{pk}/lines", {"description": "x", "unit_price": "1"}, content_type=JSON
    )
    assert no_match.status_code == 428
    stale = owner.post(
        f"/api/v1/quotes/{pk}/lines",
        {"description": "x", "unit_price": "1"},
        content_type=JSON,
        headers={"If-Match": f'"{pk}-999"'},
    )
    assert stale.status_code == 412
    bad = owner.post(
        f"/api/v1/quotes/{pk}/lines",
        {"description": "x", "quantity": "0"},
        content_type=JSON,
        headers={"If-Match": created["ETag"]},
    )
    assert bad.status_code == 422
    assert owner.get("/api/v1/quotes/999999").status_code == 404


def test_settings_api(book: Book) -> None:
    assert (
        client_for(book.owner).get("/api/v1/quotes/settings").json()["approval_threshold"]
        == "15.00"
    )
    assert (
        client_for(book.manager)
        .patch("/api/v1/quotes/settings", {"won_on_accept": False}, content_type=JSON)
        .status_code
        == 403
    )
    changed = client_for(book.admin).patch(
        "/api/v1/quotes/settings", {"approval_threshold": "12.5"}, content_type=JSON
    )
    assert changed.status_code == 200
    assert changed.json()["approval_threshold"] == "12.50"


def test_list_query_count_does_not_grow(book: Book, deal: Any, django_assert_num_queries) -> None:
    owner = client_for(book.owner)
    for _ in range(4):
        _create(owner, deal)
    owner.get("/api/v1/quotes")
    # session, user, the accounts the owner sees (deal visibility), the page of quotes with
    # deal, account and owner
    with django_assert_num_queries(4):
        assert len(owner.get("/api/v1/quotes").json()["items"]) == 4
    assert Quote.objects.count() == 4
    assert Decimal(owner.get("/api/v1/quotes").json()["items"][0]["total"]) == Decimal("0")


def test_detail_query_count_does_not_grow_with_lines(book: Book, deal: Any, products: Any) -> None:
    from cartera.quotes import services

    owner = client_for(book.owner)
    pk = _create(owner, deal).json()["pk"]
    quote = Quote.objects.get(pk=pk)

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert owner.get(f"/api/v1/quotes/{pk}").status_code == 200
        return len(queries)

    services.add_line(
        actor=book.owner,
        quote=quote,
        data={"product": products["licence"].pk},
        expected_version=quote.version,
    )
    owner.get(f"/api/v1/quotes/{pk}")
    one = count()
    for _ in range(5):
        quote.refresh_from_db()
        services.add_line(
            actor=book.owner,
            quote=quote,
            data={"product": products["setup"].pk},
            expected_version=quote.version,
        )
    assert count() == one
