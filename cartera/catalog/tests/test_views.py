"""Catalogue pages: list, export, detail, create/edit, price lists."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cartera.catalog.models import PriceList, PriceListItem, Product
from cartera.catalog.services import create_price_list, create_product, set_price
from cartera.core.testing import PERSONAS, Book, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(book: Book) -> Product:
    product = create_product(
        actor=book.admin,
        data={"sku": "CRM", "name": "CRM Suite", "family": "software", "tax_rate": "21"},
    )
    plist = create_price_list(actor=book.admin, data={"name": "EUR", "currency": "EUR"})
    set_price(actor=book.admin, price_list=plist, product=product, unit_price="49.90")
    return product


@pytest.mark.parametrize("persona", PERSONAS)
def test_everyone_reads_managers_write(persona: str, book: Book, product: Product) -> None:
    client = client_for(book.persona(persona))
    listing = client.get("/products/")
    assert listing.status_code == 200 and "CRM Suite" in listing.content.decode()
    detail = client.get(f"/products/{product.pk}/")
    assert "€49.90" in detail.content.decode()
    manager = persona in {"admin", "director"}
    assert client.get("/products/new/").status_code == (200 if manager else 403)
    assert client.get(f"/products/{product.pk}/edit/").status_code == (200 if manager else 403)
    assert client.get("/products/price-lists/").status_code == 200


def test_list_filters_and_htmx(book: Book, product: Product) -> None:
    create_product(actor=book.admin, data={"sku": "SUP", "name": "Support", "is_active": False})
    client = client_for(book.owner)
    html = client.get("/products/?q=support").content.decode()
    assert "Support" in html and "CRM Suite" not in html
    html = client.get("/products/?family=software", HTTP_HX_REQUEST="true").content.decode()
    assert "CRM Suite" in html and '<nav class="navbar' not in html
    assert client.get("/products/?is_active=maybe").status_code == 422
    csv = b"".join(client.get("/products/export/?is_active=true").streaming_content).decode(
        "utf-8-sig"
    )
    assert "CRM" in csv and "SUP" not in csv


def test_create_and_edit_product(book: Book, product: Product) -> None:
    client = client_for(book.director)
    response = client.post(
        "/products/new/",
        {"sku": "new-1", "name": "New", "unit": "hour", "tax_rate": "10", "is_active": "on"},
    )
    assert response.status_code == 302
    assert Product.objects.get(sku="NEW-1").unit == "hour"
    dup = client.post(
        "/products/new/", {"sku": "CRM", "name": "Dup", "unit": "unit", "tax_rate": "0"}
    )
    assert dup.status_code == 422
    edit = client.post(
        f"/products/{product.pk}/edit/",
        {
            "sku": "CRM",
            "name": "CRM Suite 2",
            "unit": "licence",
            "tax_rate": "21",
            "version": product.version,
        },
    )
    assert edit.status_code == 302
    stale = client.post(
        f"/products/{product.pk}/edit/",
        {
            "sku": "CRM",
            "name": "Old",
            "unit": "licence",
            "tax_rate": "21",
            "version": product.version,
        },
    )
    assert stale.status_code == 412
    product.refresh_from_db()
    assert product.name == "CRM Suite 2"


def test_price_list_pages(book: Book, product: Product) -> None:
    client = client_for(book.admin)
    response = client.post(
        "/products/price-lists/new/",
        {"name": "USD A", "currency": "usd", "segment": "a", "is_active": "on"},
    )
    assert response.status_code == 302
    plist = PriceList.objects.get(name="USD A")
    assert plist.currency == "USD"
    saved = client.post(
        f"/products/price-lists/{plist.pk}/", {"product": product.pk, "unit_price": "55.5"}
    )
    assert saved.status_code == 302
    assert PriceListItem.objects.get(price_list=plist).unit_price == Decimal("55.50")
    bad = client.post(
        f"/products/price-lists/{plist.pk}/", {"product": product.pk, "unit_price": "-3"}
    )
    assert bad.status_code == 422
    client.post(
        f"/products/price-lists/{plist.pk}/",
        {"product": product.pk, "unit_price": "", "remove": "1"},
    )
    assert not PriceListItem.objects.filter(price_list=plist).exists()
    assert (
        client_for(book.owner)
        .post(f"/products/price-lists/{plist.pk}/", {"product": product.pk, "unit_price": "1"})
        .status_code
        == 403
    )
