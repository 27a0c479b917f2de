"""The New quote page: the price list chosen on the form is the quote's."""

from __future__ import annotations

from typing import Any

import pytest

from cartera.catalog.models import PriceList, Product
from cartera.core.testing import Book, client_for
from cartera.quotes.models import Quote

pytestmark = pytest.mark.django_db


def test_new_quote_with_the_chosen_price_list(
    book: Book, deal: Any, products: dict[str, Product]
) -> None:
    """The form knows the deal's price lists before it is validated (it used to refuse them)."""
    chosen = PriceList.objects.get(name="EUR")
    client = client_for(book.owner)
    page = client.get(f"/quotes/new/?opportunity={deal.pk}")
    assert page.status_code == 200
    assert f'<option value="{chosen.pk}">EUR (EUR)</option>' in page.content.decode()

    response = client.post(
        f"/quotes/new/?opportunity={deal.pk}",
        {
            "opportunity": deal.pk,
            "language": "en",
            "price_list": chosen.pk,
            "discount_percent": "0",
        },
    )

    assert response.status_code == 302
    quote = Quote.objects.get(opportunity=deal)
    assert response["Location"] == f"/quotes/{quote.pk}/"
    assert quote.price_list == chosen


def test_new_quote_refuses_a_price_list_in_another_currency(
    book: Book, deal: Any, products: dict[str, Product]
) -> None:
    dollars = PriceList.objects.create(name="USD", currency="USD")
    client = client_for(book.owner)

    response = client.post(
        f"/quotes/new/?opportunity={deal.pk}",
        {"opportunity": deal.pk, "language": "en", "price_list": dollars.pk},
    )

    assert response.status_code == 422
    assert "Select a valid choice." in response.content.decode()
    assert not Quote.objects.filter(opportunity=deal).exists()
