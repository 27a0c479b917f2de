"""Quote pages: builder, approval, sending, versions, PDF, and the public link."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from cartera.core.testing import PERSONAS, Book, client_for, read_status
from cartera.quotes import services
from cartera.quotes.models import Quote, QuoteStatus
from cartera.sales.models import StageKind

from .conftest import public_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def quote(book: Book, deal: Any) -> Quote:
    quote = services.create_quote(
        actor=book.owner,
        opportunity=deal,
        data={"language": "en", "discount_percent": Decimal("5")},
    )
    services.add_line(
        actor=book.owner,
        quote=quote,
        data={
            "description": "Tracking licence",
            "quantity": "12",
            "unit_price": "1234.56",
            "tax_rate": "21",
        },
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    return quote


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.parametrize("persona", PERSONAS)
def test_detail_permission_matrix(persona: str, book: Book, quote: Quote) -> None:
    client = client_for(book.persona(persona))
    response = client.get(f"/quotes/{quote.pk}/")
    assert response.status_code == read_status(persona)
    if persona in {"read_only", "outsider"}:  # (rendering a PDF takes a while)
        assert client.get(f"/quotes/{quote.pk}/pdf/").status_code == read_status(persona)
    listing = client.get("/quotes/")
    assert listing.status_code == 200
    assert (quote.number in listing.content.decode()) == (persona != "outsider")
    added = client.post(
        f"/quotes/{quote.pk}/lines/",
        {"description": "x", "unit_price": "1", "version": quote.version},
    )
    expected = {"read_only": 403, "outsider": 404}.get(persona, 302)
    assert added.status_code == expected


def test_builder_adds_and_updates_lines_with_live_totals(
    book: Book, quote: Quote, products: Any
) -> None:
    client = client_for(book.owner)
    page = client.get(f"/quotes/{quote.pk}/").content.decode()
    assert 'id="quote-builder"' in page and "Tracking licence" in page
    response = client.post(
        f"/quotes/{quote.pk}/lines/",
        {"product": products["setup"].pk, "quantity": "1", "version": quote.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="row g-4" id="quote-workspace">')
    quote.refresh_from_db()
    # 12 x 1234.56 = 14814.72 + 800 = 15614.72; -5 % = 780.74 ; tax on 14833.98 @ 21 %
    assert quote.subtotal == Decimal("15614.72")
    assert quote.discount_amount == Decimal("780.74")
    assert "€15,614.72" in html
    line = quote.lines.get(product=products["setup"])
    response = client.post(
        f"/quotes/{quote.pk}/lines/{line.pk}/",
        {
            "quantity": "2",
            "unit_price": "800",
            "discount_percent": "0",
            "tax_rate": "21",
            "description": "Setup",
            "unit": "day",
            "version": quote.version,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    quote.refresh_from_db()
    assert quote.subtotal == Decimal("16414.72")
    # a stale builder shows the conflict instead of overwriting
    stale = client.post(
        f"/quotes/{quote.pk}/lines/{line.pk}/",
        {"quantity": "3", "version": quote.version - 1},
        HTTP_HX_REQUEST="true",
    )
    assert "Someone else changed" in stale.content.decode()
    bad = client.post(
        f"/quotes/{quote.pk}/lines/{line.pk}/",
        {"quantity": "lots", "version": quote.version},
        HTTP_HX_REQUEST="true",
    )
    assert "Enter a number" in bad.content.decode()
    response = client.post(
        f"/quotes/{quote.pk}/lines/{line.pk}/delete/",
        {"version": quote.version},
        HTTP_HX_REQUEST="true",
    )
    quote.refresh_from_db()
    assert quote.lines.count() == 1
    response = client.post(
        f"/quotes/{quote.pk}/terms/",
        {"discount_percent": "0", "notes": "Thanks", "version": quote.version},
        HTTP_HX_REQUEST="true",
    )
    quote.refresh_from_db()
    assert (quote.discount_percent, quote.notes) == (Decimal("0.00"), "Thanks")


def test_new_quote_page(book: Book, deal: Any) -> None:
    client = client_for(book.owner)
    assert client.get(f"/quotes/new/?opportunity={deal.pk}").status_code == 200
    response = client.post(
        f"/quotes/new/?opportunity={deal.pk}",
        {"language": "es", "title": "Propuesta", "discount_percent": "2"},
    )
    assert response.status_code == 302
    quote = Quote.objects.get(title="Propuesta")
    assert quote.language == "es"
    assert client_for(book.outsider).get(f"/quotes/new/?opportunity={deal.pk}").status_code == 404
    assert client_for(book.read_only).get(f"/quotes/new/?opportunity={deal.pk}").status_code == 403
    assert client.get("/quotes/new/?opportunity=abc").status_code == 404


def test_approve_send_accept_through_the_pages(book: Book, quote: Quote, client: Any) -> None:
    owner = client_for(book.owner)
    line = quote.lines.get()
    owner.post(
        f"/quotes/{quote.pk}/lines/{line.pk}/", {"discount_percent": "25", "version": quote.version}
    )
    quote.refresh_from_db()
    page = owner.get(f"/quotes/{quote.pk}/").content.decode()
    assert "Request approval" in page
    response = owner.post(
        f"/quotes/{quote.pk}/send/",
        {"recipient_email": "b@x.example", "version": quote.version},
        follow=True,
    )
    assert "a manager must approve it first" in response.content.decode()
    owner.post(f"/quotes/{quote.pk}/request-approval/", {"version": quote.version, "note": "pls"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL
    own = owner.post(
        f"/quotes/{quote.pk}/decide/",
        {"decision": "approve", "version": quote.version},
        follow=True,
    )
    assert "cannot approve your own request" in own.content.decode()
    manager = client_for(book.manager)
    assert "Approve" in manager.get(f"/quotes/{quote.pk}/").content.decode()
    manager.post(
        f"/quotes/{quote.pk}/decide/",
        {"decision": "approve", "comment": "ok", "version": quote.version},
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    owner.post(
        f"/quotes/{quote.pk}/send/",
        {"recipient_email": "b@x.example", "name": "Bea", "version": quote.version},
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT


def _send(book: Book, quote: Quote) -> str:
    _quote, link = services.send_quote(
        actor=book.owner, quote=quote, recipient_email="b@x.example", expected_version=quote.version
    )
    return public_token(link)


def test_public_page_accept_once(book: Book, quote: Quote, client: Any, deal: Any) -> None:
    token = _send(book, quote)
    page = client.get(f"/quotes/public/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tracking licence" in html and "Accept the quote" in html
    pdf = client.get(f"/quotes/public/{token}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    missing_name = client.post(f"/quotes/public/{token}/", {"decision": "accepted", "name": ""})
    assert missing_name.status_code == 422
    accepted = client.post(
        f"/quotes/public/{token}/",
        {"decision": "accepted", "name": "Bea Buyer"},
        REMOTE_ADDR="198.51.100.9",
        HTTP_USER_AGENT="TestBrowser",
    )
    assert accepted.status_code == 302
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    assert quote.response.ip_address == "198.51.100.9"
    deal.refresh_from_db()
    assert deal.status == StageKind.WON
    after = client.get(f"/quotes/public/{token}/").content.decode()
    assert "Accepted by Bea Buyer" in after and "answer-form" not in after
    again = client.post(f"/quotes/public/{token}/", {"decision": "declined", "name": "X"})
    assert again.status_code == 412
    assert "already been answered" in again.content.decode()


def test_public_tampered_expired_superseded(book: Book, quote: Quote, client: Any) -> None:
    token = _send(book, quote)
    tampered = client.get(f"/quotes/public/{token[:-2]}xy/")
    assert tampered.status_code == 404
    assert "This link is not valid" in tampered.content.decode()
    assert (
        client.post("/quotes/public/nonsense/", {"decision": "accepted", "name": "X"}).status_code
        == 404
    )
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - dt.timedelta(1))
    expired = client.get(f"/quotes/public/{token}/")
    assert expired.status_code == 410
    assert "expired" in expired.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.EXPIRED
    services.revise_quote(actor=book.owner, quote=quote, expected_version=quote.version)
    superseded = client.get(f"/quotes/public/{token}/")
    assert superseded.status_code == 410
    assert "replaced" in superseded.content.decode()


def test_public_post_is_rate_limited(book: Book, quote: Quote, client: Any, settings: Any) -> None:
    from django.core.cache import caches

    caches["shared"].clear()
    token = _send(book, quote)
    statuses = [
        client.post(
            f"/quotes/public/{token}/",
            {"decision": "accepted", "name": ""},
            REMOTE_ADDR="192.0.2.50",
        ).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [422] * 20
    assert statuses[20] == 429
    caches["shared"].clear()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Quote",
                "Muñoz Logística",
                "€14,814.72",
                "Total",
                "€2,955.54",
                "€17,029.52",
                "Valid until",
            ],
        ),
        (
            "es",
            [
                "Presupuesto",
                "Muñoz Logística",
                "14.814,72",
                "Total",
                "2.955,54",
                "17.029,52",
                " de 20",
            ],
        ),
    ],
)
def test_pdf_text_in_both_languages(
    book: Book, quote: Quote, language: str, expected: list[str]
) -> None:
    services.update_quote(
        actor=book.owner,
        quote=quote,
        changes={"language": language},
        expected_version=quote.version,
    )
    response = client_for(book.owner).get(f"/quotes/{quote.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for snippet in expected:
        assert snippet in text, (snippet, text)
    assert quote.number in text


def test_settings_page(book: Book) -> None:
    assert (
        client_for(book.owner)
        .post("/quotes/settings/", {"approval_threshold": "30", "link_validity_days": "10"})
        .status_code
        == 403
    )
    client = client_for(book.director)
    assert client.get("/quotes/settings/").status_code == 200
    response = client.post(
        "/quotes/settings/", {"approval_threshold": "30", "link_validity_days": "10"}
    )
    assert response.status_code == 302
    row = services.quote_settings()
    assert (row.approval_threshold, row.link_validity_days, row.won_on_accept) == (
        Decimal("30.00"),
        10,
        False,
    )


def test_versions_and_history_pages(book: Book, quote: Quote) -> None:
    token = _send(book, quote)
    assert token
    client = client_for(book.owner)
    quote.refresh_from_db()
    response = client.post(f"/quotes/{quote.pk}/revise/", {"version": quote.version})
    new = Quote.objects.get(number=quote.number, revision=2)
    assert response.url == f"/quotes/{new.pk}/"
    old_page = client.get(f"/quotes/{quote.pk}/").content.decode()
    assert "replaced by a newer one" in old_page
    assert 'id="add-line-form"' not in old_page
    assert client.get(f"/quotes/{quote.pk}/history/").status_code == 200
