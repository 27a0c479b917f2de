"""Deals on related pages: the deal page's quotes and the account page's Deals tab."""

from __future__ import annotations

from cartera.core.testing import Book, client_for
from cartera.quotes.services import create_quote
from cartera.sales.models import Opportunity


def test_deal_page_lists_its_quotes(book: Book, deal: Opportunity) -> None:
    quote = create_quote(actor=book.owner, opportunity=deal)
    html = client_for(book.owner).get(f"/deals/{deal.pk}/").content.decode()
    assert f'href="/quotes/{quote.pk}/"' in html
    assert f"{quote.number} v1" in html
    assert f'href="/quotes/new/?opportunity={deal.pk}"' in html


def test_read_only_people_see_quotes_but_cannot_start_one(book: Book, deal: Opportunity) -> None:
    create_quote(actor=book.owner, opportunity=deal)
    html = client_for(book.read_only).get(f"/deals/{deal.pk}/").content.decode()
    assert "/quotes/new/" not in html
    assert " v1</a>" in html


def test_account_page_loads_its_deals_tab(book: Book, deal: Opportunity) -> None:
    client = client_for(book.owner)
    page = client.get(f"/accounts/{book.account.pk}/").content.decode()
    assert f'hx-get="/deals/account/{book.account.pk}/"' in page
    tab = client.get(f"/deals/account/{book.account.pk}/")
    assert tab.status_code == 200
    assert f'href="/deals/{deal.pk}/"' in tab.content.decode()
    assert client_for(book.outsider).get(f"/deals/account/{book.account.pk}/").status_code == 404
