"""The kanban board: drag a deal to the next stage, a stale board, dropping on a lost stage."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect

from cartera.core.testing import Book
from cartera.sales.models import LossReason, Opportunity, Stage, StageChange
from cartera.sales.services import create_opportunity, ensure_default_pipeline, lost_stage
from e2e.helpers import SignIn, drag, shot

pytestmark = pytest.mark.browser

# The board's scripts are deferred, so they have run at DOMContentLoaded; not waiting for the
# full "load" (fonts, icons) keeps the tests steady on a busy machine.


def make_deal(book: Book, name: str = "Fleet renewal") -> Opportunity:
    ensure_default_pipeline()
    return create_opportunity(
        actor=book.owner,
        data={
            "name": name,
            "account": book.account,
            "amount": Decimal("12000.00"),
            "currency": "EUR",
            "expected_close_date": "2027-01-15",
        },
    )


def card(page: Page, deal: Opportunity) -> Locator:
    return page.locator(f'li.board-card[data-deal="{deal.pk}"]')


def column(page: Page, stage: Stage) -> Locator:
    return page.locator(f"#column-{stage.pk}")


def test_drag_a_deal_to_the_next_stage_saves_it(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """The move goes through the API; totals and counts follow; the history records it."""
    deal = make_deal(book)
    stages = list(Stage.objects.filter(pipeline=deal.pipeline).order_by("position"))
    first, second = stages[0], stages[1]
    sign_in_as(book.owner)
    page.goto("/deals/board/", wait_until="domcontentloaded")
    expect(card(page, deal)).to_be_visible()
    expect(column(page, first).locator("[data-count]")).to_have_text("1")
    shot(page, request, "before")

    with page.expect_response(re.compile(rf"/api/v1/opportunities/{deal.pk}/move")) as answer:
        drag(page, card(page, deal), column(page, second).locator(".board-cards"))
    assert answer.value.status == 200

    expect(column(page, second).locator(f'[data-deal="{deal.pk}"]')).to_be_visible()
    expect(column(page, second).locator("[data-count]")).to_have_text("1")
    expect(column(page, first).locator("[data-count]")).to_have_text("0")
    expect(column(page, second)).to_contain_text("€12,000.00")
    expect(page.locator("#board-message")).to_contain_text("Deal moved")
    deal.refresh_from_db()
    assert deal.stage == second and deal.probability == second.probability
    assert StageChange.objects.filter(opportunity=deal, to_stage=second).exists()
    shot(page, request, "after")


def test_a_stale_board_says_so_and_refreshes(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """Someone changes the deal after the board was drawn: 412, a message, nothing moved."""
    deal = make_deal(book)
    stages = list(Stage.objects.filter(pipeline=deal.pipeline).order_by("position"))
    sign_in_as(book.owner)
    page.goto("/deals/board/", wait_until="domcontentloaded")
    expect(card(page, deal)).to_be_visible()

    # Another person edits the deal through the API in the meantime.
    from cartera.core.testing import client_for

    other = client_for(book.teammate)
    response = other.patch(
        f"/api/v1/opportunities/{deal.pk}",
        {"amount": "15000.00"},
        content_type="application/json",
        headers={"If-Match": f'"{deal.pk}-{deal.version}"'},
    )
    assert response.status_code == 200

    with page.expect_response(re.compile(rf"/api/v1/opportunities/{deal.pk}/move")) as answer:
        drag(page, card(page, deal), column(page, stages[2]).locator(".board-cards"))
    assert answer.value.status == 412
    message = page.locator("#board-message")
    expect(message).to_contain_text(
        "This deal was changed by someone else; the board has been refreshed."
    )
    # The refreshed board shows the deal where it really is, with the other person's amount.
    expect(column(page, stages[0]).locator(f'[data-deal="{deal.pk}"]')).to_be_visible()
    expect(column(page, stages[0])).to_contain_text("€15,000.00")
    expect(column(page, stages[2]).locator("[data-count]")).to_have_text("0")
    deal.refresh_from_db()
    assert deal.stage == stages[0]
    shot(page, request, "stale")


def test_dropping_on_lost_asks_for_the_reason(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """Cancelling the modal puts the card back; choosing a reason marks the deal lost."""
    deal = make_deal(book)
    lost = lost_stage(deal.pipeline)
    first = Stage.objects.filter(pipeline=deal.pipeline).order_by("position").first()
    sign_in_as(book.owner)
    # Wide enough for every column: the drag needs the lost column on screen with the card.
    page.set_viewport_size({"width": 1900, "height": 900})
    page.goto("/deals/board/", wait_until="domcontentloaded")

    drag(page, card(page, deal), column(page, lost).locator(".board-cards"))
    modal = page.locator("#loss-modal")
    expect(modal).to_be_visible()
    modal.get_by_role("button", name="Cancel").first.click()
    expect(modal).to_be_hidden()
    expect(column(page, first).locator(f'[data-deal="{deal.pk}"]')).to_be_attached()
    deal.refresh_from_db()
    assert deal.status == "open"

    drag(page, card(page, deal), column(page, lost).locator(".board-cards"))
    expect(modal).to_be_visible()
    modal.get_by_role("button", name="Mark as lost").click()
    expect(modal.locator("#loss-reason")).to_have_class(re.compile("is-invalid"))
    reason = LossReason.objects.filter(is_active=True).first()
    assert reason is not None
    modal.locator("#loss-reason").select_option(str(reason.pk))
    expect(modal.locator("#loss-reason")).not_to_have_class(re.compile("is-invalid"))
    modal.locator("#loss-note").fill("Chose a cheaper vendor")
    shot(page, request, "reason")
    with page.expect_response(re.compile(rf"/api/v1/opportunities/{deal.pk}/move")) as answer:
        modal.get_by_role("button", name="Mark as lost").click()
    assert answer.value.status == 200
    expect(column(page, lost).locator(f'[data-deal="{deal.pk}"]')).to_be_visible()
    deal.refresh_from_db()
    assert deal.status == "lost" and deal.loss_reason == reason
    assert deal.loss_note == "Chose a cheaper vendor"


def test_forecast_figure_lists_its_deals(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """A commit figure of the forecast opens the deal list behind it."""
    from django.utils import timezone

    from cartera.sales.services import update_opportunity

    deal = make_deal(book)
    make_deal(book, "Not committed")
    update_opportunity(
        actor=book.owner,
        opportunity=deal,
        changes={"expected_close_date": timezone.localdate(), "forecast_category": "commit"},
        expected_version=deal.version,
    )
    sign_in_as(book.owner)
    page.goto("/deals/forecast/?period=quarter&periods=2", wait_until="domcontentloaded")
    table = page.locator("#forecast-table")
    expect(table).to_contain_text("Olga Owner")
    shot(page, request, "forecast")
    table.locator("tbody a[href*='forecast_category=commit']").first.click()
    expect(page).to_have_url(re.compile(r"/deals/\?"))
    results = page.locator("#deal-results")
    expect(results).to_contain_text("Fleet renewal")
    expect(results).not_to_contain_text("Not committed")


def test_show_more_appends_cards_that_can_be_dragged(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """A column shows 20 cards; "Show more" adds the next ones, which move like the others."""
    deals = [make_deal(book, f"Deal {index:02}") for index in range(23)]
    stages = list(Stage.objects.filter(pipeline=deals[0].pipeline).order_by("position"))
    first, second = stages[0], stages[1]
    sign_in_as(book.owner)
    page.goto("/deals/board/", wait_until="domcontentloaded")
    cards = column(page, first).locator("li.board-card")
    expect(cards).to_have_count(20)
    expect(column(page, first)).to_contain_text("Showing 20 of 23")
    last = deals[-1]  # same close day: the highest id comes last
    expect(card(page, last)).to_have_count(0)

    column(page, first).get_by_role("button", name="Show more").click()
    expect(cards).to_have_count(23)
    expect(column(page, first)).to_contain_text("Showing 23 of 23")
    expect(column(page, first).get_by_role("button", name="Show more")).to_have_count(0)
    shot(page, request, "more")

    with page.expect_response(re.compile(rf"/api/v1/opportunities/{last.pk}/move")) as answer:
        drag(page, card(page, last), column(page, second).locator(".board-cards"))
    assert answer.value.status == 200
    expect(column(page, second).locator(f'[data-deal="{last.pk}"]')).to_be_visible()
    expect(column(page, first).locator("[data-count]")).to_have_text("22")
    # The refreshed column starts again at 20 cards, with a working "Show more".
    expect(cards).to_have_count(20)
    column(page, first).get_by_role("button", name="Show more").click()
    expect(cards).to_have_count(22)
