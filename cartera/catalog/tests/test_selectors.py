"""The price a product is quoted at."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cartera.catalog.models import PriceList, PriceListItem, Product
from cartera.catalog.selectors import price_for, prices_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget() -> Product:
    return Product.objects.create(sku="W-1", name="Widget", tax_rate=Decimal("21"))


def _price(product: Product, name: str, currency: str, segment: str, price: str, **kw) -> None:
    plist = PriceList.objects.create(name=name, currency=currency, segment=segment, **kw)
    PriceListItem.objects.create(price_list=plist, product=product, unit_price=Decimal(price))


def test_segment_list_wins_over_all_customers(widget: Product) -> None:
    _price(widget, "EUR all", "EUR", "", "100.00")
    _price(widget, "EUR tier A", "EUR", "a", "90.00")
    assert price_for(product=widget, currency="EUR", segment="a") == Decimal("90.00")
    assert price_for(product=widget, currency="EUR", segment="b") == Decimal("100.00")
    assert price_for(product=widget, currency="EUR") == Decimal("100.00")
    assert price_for(product=widget.pk, currency="eur", segment="a") == Decimal("90.00")


def test_other_currency_and_inactive_lists_do_not_count(widget: Product) -> None:
    _price(widget, "USD all", "USD", "", "120.00")
    _price(widget, "EUR tier A old", "EUR", "a", "80.00", is_active=False)
    assert price_for(product=widget, currency="EUR", segment="a") is None
    assert price_for(product=widget, currency="USD", segment="a") == Decimal("120.00")
    assert price_for(product=widget, currency="JPY") is None


def test_unpriced_product_is_none(widget: Product) -> None:
    other = Product.objects.create(sku="O-1", name="Other")
    _price(other, "EUR all", "EUR", "", "5.00")
    assert price_for(product=widget, currency="EUR") is None


def test_one_query(widget: Product, django_assert_num_queries) -> None:
    _price(widget, "EUR all", "EUR", "", "100.00")
    with django_assert_num_queries(1):
        price_for(product=widget, currency="EUR", segment="a")


def test_prices_for_many_products(widget: Product, django_assert_num_queries) -> None:
    other = Product.objects.create(sku="O-1", name="Other")
    _price(widget, "EUR all", "EUR", "", "100.00")
    _price(widget, "EUR tier A", "EUR", "a", "90.00")
    plist = PriceList.objects.get(name="EUR all")
    PriceListItem.objects.create(price_list=plist, product=other, unit_price=Decimal("7.50"))
    with django_assert_num_queries(1):
        prices = prices_for(products=[widget.pk, other.pk], currency="EUR", segment="a")
    assert prices == {widget.pk: Decimal("90.00"), other.pk: Decimal("7.50")}
