"""Catalogue services and API: who manages it, bad input, concurrency, export."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cartera.catalog.models import PriceList, Product
from cartera.catalog.services import create_price_list, create_product, set_price
from cartera.core.errors import Conflict, Forbidden, InvalidInput
from cartera.core.testing import JSON, PERSONAS, PROBLEM, Book, client_for

pytestmark = pytest.mark.django_db

MANAGERS = {"admin", "director"}


@pytest.fixture
def catalog(book: Book) -> tuple[Product, PriceList]:
    product = create_product(
        actor=book.admin,
        data={"sku": "crm-pro", "name": "CRM Pro", "tax_rate": Decimal("21"), "unit": "licence"},
    )
    plist = create_price_list(actor=book.admin, data={"name": "EUR list", "currency": "eur"})
    set_price(actor=book.admin, price_list=plist, product=product, unit_price="49.90")
    return product, plist


def test_services_normalise_and_validate(book: Book, catalog: tuple[Product, PriceList]) -> None:
    product, plist = catalog
    assert product.sku == "CRM-PRO"
    assert plist.currency == "EUR"
    with pytest.raises(InvalidInput) as error:
        create_product(actor=book.admin, data={"sku": "CRM-PRO", "name": "Dup"})
    assert "sku" in error.value.field_errors
    with pytest.raises(InvalidInput):
        create_price_list(actor=book.admin, data={"name": "Bad", "currency": "XXQ"})
    with pytest.raises(InvalidInput):
        set_price(actor=book.admin, price_list=plist, product=product, unit_price="-1")
    with pytest.raises(InvalidInput):
        set_price(actor=book.admin, price_list=plist, product=product, unit_price="abc")


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admins_and_directors_manage(persona: str, book: Book) -> None:
    actor = book.persona(persona)
    if persona in MANAGERS:
        assert create_product(actor=actor, data={"sku": f"S-{persona}", "name": "X"}).pk
    else:
        with pytest.raises(Forbidden):
            create_product(actor=actor, data={"sku": f"S-{persona}", "name": "X"})


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_permission_matrix(
    persona: str, book: Book, catalog: tuple[Product, PriceList]
) -> None:
    product, plist = catalog
    client = client_for(book.persona(persona))
    listing = client.get("/api/v1/products")
    assert listing.status_code == 200
    assert [row["sku"] for row in listing.json()["items"]] == ["CRM-PRO"]
    detail = client.get(f"/api/v1/products/{product.pk}")
    assert detail.status_code == 200
    assert detail.json()["prices"][0]["unit_price"] == "49.90"
    created = client.post(
        "/api/v1/products", {"sku": f"N-{persona}", "name": "New"}, content_type=JSON
    )
    assert created.status_code == (201 if persona in MANAGERS else 403)
    priced = client.put(
        f"/api/v1/price-lists/{plist.pk}/prices/{product.pk}",
        {"unit_price": "39.00"},
        content_type=JSON,
    )
    assert priced.status_code == (200 if persona in MANAGERS else 403)


def test_api_price_lookup_and_lists(book: Book, catalog: tuple[Product, PriceList]) -> None:
    product, plist = catalog
    client = client_for(book.owner)
    answer = client.get(f"/api/v1/products/{product.pk}/price?currency=EUR&segment=a").json()
    assert answer["unit_price"] == "49.90"
    assert (
        client.get(f"/api/v1/products/{product.pk}/price?currency=USD").json()["unit_price"] is None
    )
    lists = client.get("/api/v1/price-lists").json()
    assert [row["name"] for row in lists] == ["EUR list"]
    detail = client.get(f"/api/v1/price-lists/{plist.pk}").json()
    assert detail["items"][0]["product"]["sku"] == "CRM-PRO"
    assert client.get("/api/v1/products/999999").status_code == 404


def test_api_bad_input_is_422(book: Book) -> None:
    client = client_for(book.admin)
    response = client.post(
        "/api/v1/products", {"sku": "X", "name": "X", "tax_rate": "150"}, content_type=JSON
    )
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert "tax_rate" in response.json()["errors"]
    response = client.post(
        "/api/v1/price-lists", {"name": "P", "currency": "ZZZ"}, content_type=JSON
    )
    assert response.status_code == 422


def test_api_stale_version_is_412(book: Book, catalog: tuple[Product, PriceList]) -> None:
    product, _plist = catalog
    client = client_for(book.admin)
    etag = client.get(f"/api/v1/products/{product.pk}")["ETag"]
    first = client.patch(
        f"/api/v1/products/{product.pk}",
        {"name": "A"},
        content_type=JSON,
        headers={"If-Match": etag},
    )
    assert first.status_code == 200
    second = client.patch(
        f"/api/v1/products/{product.pk}",
        {"name": "B"},
        content_type=JSON,
        headers={"If-Match": etag},
    )
    assert second.status_code == 412
    assert (
        client.patch(f"/api/v1/products/{product.pk}", {"name": "C"}, content_type=JSON).status_code
        == 428
    )
    from cartera.catalog.services import update_product

    with pytest.raises(Conflict):
        update_product(actor=book.admin, product=product, changes={"name": "D"}, expected_version=1)


def test_list_filters_and_export(book: Book, catalog: tuple[Product, PriceList]) -> None:
    create_product(
        actor=book.admin,
        data={"sku": "SUP-1", "name": "Support", "family": "svc", "is_active": False},
    )
    client = client_for(book.owner)
    skus = lambda q: [r["sku"] for r in client.get(f"/api/v1/products?{q}").json()["items"]]  # noqa: E731
    assert skus("q=support") == ["SUP-1"]
    assert skus("is_active=true") == ["CRM-PRO"]
    assert skus("family=svc") == ["SUP-1"]
    assert skus("sort=-sku") == ["SUP-1", "CRM-PRO"]
    csv = b"".join(client.get("/api/v1/products/export").streaming_content).decode("utf-8-sig")
    assert "CRM-PRO" in csv and "SUP-1" in csv
    xlsx = client.get("/api/v1/products/export?format=xlsx")
    assert xlsx.status_code == 200
    assert b"".join(xlsx.streaming_content)[:2] == b"PK"


def test_list_query_count(
    book: Book, catalog: tuple[Product, PriceList], django_assert_num_queries
) -> None:
    for n in range(5):
        create_product(actor=book.admin, data={"sku": f"P-{n}", "name": f"P {n}"})
    client = client_for(book.owner)
    client.get("/api/v1/products")
    # session, user, the page of products
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/products").json()["items"]) == 6
