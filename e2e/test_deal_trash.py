"""The deal trash: from the deal list to the trash page, Restore, back on the deal."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from cartera.core.testing import Book
from cartera.sales.services import create_opportunity, ensure_default_pipeline, trash_opportunity
from e2e.helpers import SignIn, shot

pytestmark = pytest.mark.browser


def test_restore_a_trashed_deal(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    ensure_default_pipeline()
    deal = create_opportunity(
        actor=book.owner,
        data={"name": "Fleet renewal", "account": book.account, "amount": Decimal("12000.00")},
    )
    trash_opportunity(actor=book.teammate, opportunity=deal, expected_version=deal.version)
    sign_in_as(book.owner)
    page.goto("/deals/", wait_until="domcontentloaded")
    page.locator("a[href='/deals/trash/']").click()
    expect(page).to_have_url(re.compile(r"/deals/trash/$"))
    row = page.locator(f'#deal-trash-table tr[data-deal="{deal.pk}"]')
    expect(row).to_contain_text("Fleet renewal")
    expect(row).to_contain_text("Tomás Teammate")
    shot(page, request, "trash")

    row.get_by_role("button", name="Restore").click()
    expect(page).to_have_url(re.compile(rf"/deals/{deal.pk}/$"))
    expect(page.locator("body")).to_contain_text("Deal “Fleet renewal” restored.")
    deal.refresh_from_db()
    assert deal.deleted_at is None
