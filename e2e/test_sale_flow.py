"""The whole sale in the browser, one story through the UI (issue 5).

A prospect sends the public web form; the rep a rule assigned it to converts it; the rep drags
the new deal on the board; builds a quote with a catalogue line and a discount that needs
approval; the manager approves it in a browser of their own; the rep sends it; the client opens
the emailed link in a fresh browser with no cookies and accepts; the deal is won and the forecast
and the reports count it. Only the setup (people, pipeline, catalogue, rules) uses the services:
every step of the story is a click or a keystroke, and every step is checked by what the page
shows. Screenshots of each step land in ``var/screenshots/sale_flow_*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.utils import formats, timezone
from playwright.sync_api import Browser, BrowserContext, Page, Request, Response, expect
from pytest_django.live_server_helper import LiveServer

from cartera.catalog.models import PriceList, Product
from cartera.catalog.services import create_price_list, create_product, set_price
from cartera.core.testing import Book
from cartera.leads.models import Lead
from cartera.leads.services import save_assignment_rule, save_scoring_rule, save_web_form
from cartera.quotes.models import Quote, QuoteStatus
from cartera.sales.models import Opportunity, Stage, StageKind
from cartera.sales.services import ensure_default_pipeline
from e2e.helpers import drag, sign_in_with_form

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
# A long story on a shared machine: allow slow answers (each step is still checked).
WAIT_MS = 20_000

# The figures of the story, and what they come to.
ESTIMATE = Decimal("20000")  # the rep's guess when converting the lead
QUANTITY = 10
LIST_PRICE = Decimal("1200.00")  # the price list's price of the product
QUOTE_DISCOUNT = Decimal("20")  # above the 15 % approval threshold
TAX_RATE = Decimal("21")
SUBTOTAL = QUANTITY * LIST_PRICE  # 12,000.00
DISCOUNT = SUBTOTAL * QUOTE_DISCOUNT / 100  # 2,400.00
NET = SUBTOTAL - DISCOUNT  # 9,600.00: what the client buys, before tax
TAX = NET * TAX_RATE / 100  # 2,016.00
TOTAL = NET + TAX  # 11,616.00


def euros(amount: Decimal) -> str:
    """``amount`` as the English pages write euros: ``€9,600.00``."""
    return f"€{amount:,.2f}"


@pytest.fixture(autouse=True)
def _story_settings(settings: Any) -> None:
    """Emails go out at once (the quote link is read from the outbox); the web form's rate
    limit counts in memory, not in the shared cache on disk."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "e2e"},
    }


@dataclass
class Catalogue:
    product: Product
    price_list: PriceList


@pytest.fixture
def catalogue(book: Book) -> Catalogue:
    """The setup an administrator has done: pipeline, web form, rules, one priced product."""
    ensure_default_pipeline()
    save_web_form(
        actor=book.admin,
        data={"name": "Contact us", "slug": "contact", "thank_you_text": "Thanks, talk soon!"},
    )
    save_assignment_rule(
        actor=book.admin,
        data={
            "name": "Spain software",
            "country": "ES",
            "industry": "software",
            "user": book.owner.pk,
        },
    )
    save_scoring_rule(
        actor=book.admin, data={"kind": "industry", "value": "software", "points": 20}
    )
    product = create_product(
        actor=book.admin,
        data={"sku": "FT-100", "name": "Fleet tracker", "unit": "licence", "tax_rate": TAX_RATE},
    )
    price_list = create_price_list(actor=book.admin, data={"name": "Euro list", "currency": "EUR"})
    set_price(actor=book.admin, price_list=price_list, product=product, unit_price=LIST_PRICE)
    return Catalogue(product=product, price_list=price_list)


class Browsers:
    """Fresh browser profiles for the other people in the story, each watched for errors."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.problems: list[str] = []

    def open(self, locale: str = "en-US") -> Page:
        """A new profile (no cookies, no storage) with one tab."""
        context = self.browser.new_context(
            base_url=self.base_url,
            locale=locale,
            timezone_id="Europe/Madrid",
            viewport={"width": 1280, "height": 860},
        )
        context.set_default_timeout(WAIT_MS)
        context.set_default_navigation_timeout(WAIT_MS)
        self.contexts.append(context)
        tab = context.new_page()
        watch(tab, self.problems)
        return tab

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def watch(tab: Page, problems: list[str]) -> None:
    """Note script errors, 5xx answers, broken static files and requests without an answer."""
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))

    def on_response(response: Response) -> None:
        if response.status >= 500 or (response.status >= 400 and "/static/" in response.url):
            problems.append(f"answer {response.status}: {response.url}")

    def on_request_failed(request: Request) -> None:
        if request.failure != "net::ERR_ABORTED":
            problems.append(f"request failed ({request.failure}): {request.url}")

    tab.on("response", on_response)
    tab.on("requestfailed", on_request_failed)


@pytest.fixture
def others(browser: Browser, live_server: LiveServer) -> Iterator[Browsers]:
    people = Browsers(browser, live_server.url)
    yield people
    people.close()
    if people.problems:
        pytest.fail("a page misbehaved:\n" + "\n".join(people.problems), pytrace=False)


class Shots:
    """Numbered full-page screenshots: ``var/screenshots/sale_flow_01_public-form.png``…"""

    def __init__(self) -> None:
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob("sale_flow_*.png"):
            old.unlink()

    def __call__(self, page: Page, step: str) -> None:
        self.count += 1
        path = SCREENSHOTS / f"sale_flow_{self.count:02d}_{step}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")


def test_a_lead_from_the_web_form_becomes_a_won_deal_in_the_forecast_and_reports(
    page: Page, others: Browsers, book: Book, catalogue: Catalogue
) -> None:
    shot = Shots()
    page.set_default_timeout(WAIT_MS)
    page.set_default_navigation_timeout(WAIT_MS)
    today = timezone.localdate()

    # 1. A prospect, not signed in, sends the public web form.
    visitor = others.open()
    visitor.goto("/leads/form/contact/")
    expect(visitor.locator("h1")).to_have_text("Contact us")
    form = visitor.locator("#lead-form")
    form.locator("[name=company]").fill("Robótica Norte SL")
    form.locator("[name=website]").fill("robotica-norte.example")
    form.locator("[name=first_name]").fill("Lucía")
    form.locator("[name=last_name]").fill("Martín")
    form.locator("[name=email]").fill("lucia@robotica-norte.example")
    form.locator("[name=country]").select_option("ES")
    form.locator("[name=industry]").select_option("software")
    form.locator("[name=message]").fill("We need trackers for 10 vans.")
    shot(visitor, "public-form")
    form.get_by_role("button", name="Send").click()
    expect(visitor.locator("#lead-form-thanks")).to_have_text("Thanks, talk soon!")
    shot(visitor, "thanks")

    # 2. The rep the rule chose signs in, sees the notification, opens the lead, converts it.
    sign_in_with_form(page, book.owner.email)
    bell = page.locator("#notification-bell [data-unread]")
    expect(bell).to_have_attribute("data-unread", "1")
    page.locator("#notification-bell").click()
    item = page.locator("#unread-notifications .list-group-item").filter(
        has_text="Lead assigned to you: Lucía Martín (Robótica Norte SL)"
    )
    expect(item).to_contain_text("Robótica Norte SL · Lucía Martín · lucia@robotica-norte.example")
    shot(page, "notification")
    item.get_by_role("button", name="Open").click()
    expect(page).to_have_url(re.compile(r"/leads/\d+/$"))
    expect(page.locator("h1")).to_contain_text("Robótica Norte SL")
    expect(page.locator("#lead-owner")).to_contain_text("Olga Owner")
    expect(page.locator("#lead-score")).to_have_text("20")
    expect(page.locator("#score")).to_contain_text("+20 Industry is Software and SaaS")
    shot(page, "lead")

    page.get_by_role("link", name="Convert").click()
    expect(page.locator("#convert-account")).to_contain_text(
        "A new account “Robótica Norte SL” will be created."
    )
    expect(page.locator("#convert-contact")).to_contain_text(
        "A new contact “Lucía Martín” will be created at the account."
    )
    deal_form = page.locator("#convert-opportunity")
    expect(deal_form.locator("[name=opportunity_name]")).to_have_value("Robótica Norte SL")
    expect(deal_form.locator("[name=currency]")).to_have_value("EUR")
    deal_form.locator("[name=opportunity_name]").fill("Robótica Norte fleet tracking")
    deal_form.locator("[name=amount]").fill(str(ESTIMATE))
    shot(page, "convert")
    page.locator("#confirm-conversion").click()
    expect(page).to_have_url(re.compile(r"/deals/\d+/$"))
    expect(page.locator("h1")).to_have_text("Robótica Norte fleet tracking")
    header = page.locator("h1 + div")
    expect(header).to_contain_text("Open")
    expect(header).to_contain_text("Qualification")
    expect(header).to_contain_text("Robótica Norte SL")
    expect(page.locator("main dl").first).to_contain_text(euros(ESTIMATE))
    shot(page, "deal")

    lead = Lead.objects.get()
    deal = Opportunity.objects.get()
    assert lead.status == "converted" and lead.owner == book.owner
    assert (lead.converted_opportunity, deal.owner) == (deal, book.owner)
    assert deal.account is not None and deal.account.name == "Robótica Norte SL"
    deal_path = f"/deals/{deal.pk}/"
    page.goto(f"/leads/{lead.pk}/")
    links = page.locator("#conversion-links")
    expect(links.get_by_role("link")).to_have_text(
        ["Robótica Norte SL", "Lucía Martín", "Robótica Norte fleet tracking"]
    )

    # 3. On the board the rep drags the deal to the next stage; a reload shows it stayed.
    stages = list(Stage.objects.filter(pipeline=deal.pipeline).order_by("position"))
    first, second = stages[0], stages[1]
    page.goto("/deals/board/", wait_until="domcontentloaded")
    card = page.locator(f'li.board-card[data-deal="{deal.pk}"]')
    first_column, second_column = (
        page.locator(f"#column-{first.pk}"),
        page.locator(f"#column-{second.pk}"),
    )
    expect(first_column.locator(f'[data-deal="{deal.pk}"]')).to_be_visible()
    expect(first_column.locator("[data-count]")).to_have_text("1")
    expect(first_column.locator("[data-total=EUR]")).to_have_text(
        f"{euros(ESTIMATE)} · weighted {euros(ESTIMATE * first.probability / 100)}"
    )
    with page.expect_response(re.compile(rf"/api/v1/opportunities/{deal.pk}/move")) as moved:
        drag(page, card, second_column.locator(".board-cards"))
    assert moved.value.status == 200
    expect(page.locator("#board-message")).to_contain_text("Deal moved")
    # the columns' counts and totals follow at once, without a reload
    expect(second_column.locator("[data-count]")).to_have_text("1")
    expect(first_column.locator("[data-count]")).to_have_text("0")
    shot(page, "board-moved")
    page.reload(wait_until="domcontentloaded")
    expect(second_column.locator(f'[data-deal="{deal.pk}"]')).to_be_visible()
    expect(second_column.locator("h2")).to_have_text("Needs analysis")
    expect(second_column.locator("[data-count]")).to_have_text("1")
    expect(first_column.locator("[data-count]")).to_have_text("0")
    expect(second_column.locator("[data-total=EUR]")).to_have_text(
        f"{euros(ESTIMATE)} · weighted {euros(ESTIMATE * second.probability / 100)}"
    )
    shot(page, "board-reloaded")

    # 4. From the deal page: a new quote, a catalogue line, a discount that needs approval.
    card.get_by_role("link", name="Robótica Norte fleet tracking").click()
    expect(page).to_have_url(re.compile(rf"{deal_path}$"))
    expect(page.locator("h1 + div")).to_contain_text("Needs analysis")
    page.locator("#quotes").get_by_role("link", name="New quote").click()
    expect(page.locator("h1")).to_have_text("New quote")
    expect(page.locator("[name=price_list]")).to_have_value(str(catalogue.price_list.pk))
    page.get_by_role("button", name="Create quote").click()
    expect(page.locator("h1")).to_contain_text(re.compile(r"Q-\d{4}-\d{5} version 1\s+Draft"))
    quote = Quote.objects.get(opportunity=deal)
    quote_path = f"/quotes/{quote.pk}/"

    add = page.locator("#add-line-form")
    add.get_by_label("Product").select_option(label="FT-100 · Fleet tracker")
    add.get_by_label("Qty").fill(str(QUANTITY))
    expect(add.get_by_label("Unit price")).to_have_attribute("placeholder", "from the price list")
    add.get_by_role("button", name="Add").click()
    line = page.locator("tr[data-line]")
    expect(line).to_have_count(1)
    expect(line.locator("[name=description]")).to_have_value("Fleet tracker")
    expect(line.locator("[name=unit_price]")).to_have_value(f"{LIST_PRICE}")
    expect(line.locator("[name=tax_rate]")).to_have_value("21.00")
    expect(line.locator(".line-net")).to_have_text(euros(SUBTOTAL))
    expect(page.locator("[data-total=subtotal]")).to_have_text(euros(SUBTOTAL))
    expect(page.locator("[data-total=effective]")).to_have_text("0.00%")
    assert page.locator("#send-form").count() == 1  # no discount yet: it could go out now

    discount = page.locator("#quote-discount")
    discount.fill(str(QUOTE_DISCOUNT))
    discount.press("Tab")
    expect(page.locator("[data-total=discount]")).to_have_text(f"\N{MINUS SIGN}{euros(DISCOUNT)}")
    expect(page.locator("[data-total=tax]")).to_have_text(euros(TAX))
    expect(page.locator("[data-total=total]")).to_have_text(euros(TOTAL))
    expect(page.locator("[data-total=effective]")).to_have_text("20.00% needs approval")
    expect(page.locator("#quote-totals")).to_contain_text("Discount (20%)")
    expect(page.locator("#send-form")).to_have_count(0)
    expect(page.locator("#quote-workspace")).to_contain_text(
        "The discount (20.00%) is above 15.00%: a manager must approve it before the quote is sent."
    )
    shot(page, "quote-builder")
    page.locator("#approval-note").fill("Two-year commitment on 10 vans.")
    page.get_by_role("button", name="Request approval").click()
    expect(page.locator("h1")).to_contain_text("Pending approval")
    expect(page.locator("#quote-workspace")).to_contain_text(
        "Olga Owner asked to approve a discount of 20.00%."
    )
    expect(page.locator("#decide-form")).to_have_count(0)  # not for the requester
    shot(page, "approval-requested")

    # 5. The manager signs in, in a browser of their own, and approves with a comment.
    manager = others.open()
    sign_in_with_form(manager, book.manager.email)
    manager.locator("#notification-bell").click()
    request_item = manager.locator("#unread-notifications .list-group-item").filter(
        has_text=f"Olga Owner asks you to approve quote {quote.number} v1"
    )
    expect(request_item).to_contain_text(
        f"Discount 20.00% on Robótica Norte fleet tracking (total {euros(TOTAL)})."
    )
    request_item.get_by_role("button", name="Open").click()
    expect(manager).to_have_url(re.compile(rf"{quote_path}$"))
    expect(manager.locator("#quote-workspace")).to_contain_text("Two-year commitment on 10 vans.")
    manager.locator("#decide-comment").fill("Fine for a two-year deal.")
    shot(manager, "manager-approves")
    manager.get_by_role("button", name="Approve").click()
    expect(manager.locator("h1")).to_contain_text("Approved")
    expect(manager.locator("#quote-workspace")).to_contain_text("Fine for a two-year deal.")
    shot(manager, "manager-approved")

    # 6. The rep sends it; the client opens the emailed link in a fresh browser and accepts.
    page.goto(quote_path)
    expect(page.locator("h1")).to_contain_text("Approved")
    send = page.locator("#send-form")
    send.locator("[name=recipient_email]").fill("lucia@robotica-norte.example")
    send.locator("[name=name]").fill("Lucía Martín")
    send.get_by_role("button", name="Send").click()
    expect(page.locator("h1")).to_contain_text("Sent")
    expect(page.locator("#quote-workspace")).to_contain_text("to lucia@robotica-norte.example.")
    shot(page, "quote-sent")
    emails = [m for m in mail.outbox if m.to == ["lucia@robotica-norte.example"]]
    assert len(emails) == 1
    assert emails[0].subject == f"Quote {quote.number} v1 from Cartera"
    assert emails[0].body.startswith("Dear Lucía Martín,")
    link = re.search(r"https?://\S+/quotes/public/\S+/", emails[0].body)
    assert link is not None

    client = others.open()
    assert client.context.cookies() == []
    client.goto(urlparse(link.group(0)).path)
    expect(client.locator("h1")).to_contain_text(f"Quote {quote.number}")
    expect(client.locator("tbody tr").first).to_contain_text("Fleet tracker")
    expect(client.locator("#public-total")).to_have_text(euros(TOTAL))
    client.locator("#answer-name").fill("Lucía Martín")
    shot(client, "client-quote")
    client.get_by_role("button", name="Accept the quote").click()
    answer = client.locator("#quote-answer")
    expect(answer).to_contain_text(re.compile(r"Accepted by Lucía Martín on .+ — thank you!"))
    expect(answer).not_to_contain_text("..")  # an English time ends in "p.m."
    expect(client.locator("#answer-form")).to_have_count(0)
    shot(client, "client-accepted")

    # 7. The deal is won at what the client accepted; the forecast and the reports count it.
    page.goto(deal_path)
    header = page.locator("h1 + div")
    expect(header.locator(".badge").first).to_have_text("Won")
    expect(header).to_contain_text("Won")
    figures = page.locator("main dl").first
    expect(figures).to_contain_text(euros(NET))
    expect(figures).to_contain_text(formats.date_format(today, "DATE_FORMAT"))
    expect(figures).to_contain_text("Amount (before tax)")
    quotes_card = page.locator("#quotes")
    expect(quotes_card).to_contain_text("Accepted")
    expect(quotes_card).to_contain_text(f"Total incl. tax {euros(TOTAL)}")
    # quote sync: the accepted quote's line is now the deal's product
    expect(page.locator("main")).not_to_contain_text("No products on this deal yet")
    expect(page.locator("main")).to_contain_text("Fleet tracker")
    shot(page, "deal-won")
    deal.refresh_from_db()
    assert (deal.status, deal.amount, deal.closed_on) == (StageKind.WON, NET, today)
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.ACCEPTED

    page.goto("/deals/forecast/?period=quarter&periods=1", wait_until="domcontentloaded")
    quarter = f"Q{(today.month - 1) // 3 + 1} {today.year}"
    table = page.locator("#forecast-table")
    expect(table.locator("thead tr").first).to_contain_text(quarter)
    row = table.locator("tbody tr").filter(has=page.locator("th", has_text="Olga Owner"))
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text("EUR")
    expect(cells.nth(1)).to_have_text(euros(NET))  # closed won, this quarter
    expect(cells.nth(1).get_by_role("link")).to_have_attribute("title", "1 deal")
    expect(cells.nth(4)).to_have_text("—")  # nothing left in the pipeline
    expect(cells.nth(6)).to_have_text(euros(NET))  # closed won, total of the window
    shot(page, "forecast")

    page.goto("/reports/")
    page.get_by_role("link", name="Win rate").first.click()
    expect(page.get_by_role("heading", name="Win rate")).to_be_visible()
    report = page.locator("#report-table")
    expect(report.locator("tbody tr")).to_have_count(1)
    expect(report.locator("tbody tr td")).to_have_text(["Olga Owner", "1", "0", "1", "100.00 %"])
    shot(page, "report-win-rate")

    page.goto("/reports/")
    page.get_by_role("link", name="Average deal size").first.click()
    report = page.locator("#report-table")
    expect(report.locator("tbody tr")).to_have_count(1)
    expect(report.locator("tbody tr td")).to_have_text(
        ["Olga Owner", "EUR", "1", euros(NET), euros(NET)]
    )
    shot(page, "report-deal-size")

    # The accepted quote's line is the deal's product: revenue per product names it.
    page.goto("/reports/revenue-by-product/")
    report = page.locator("#report-table")
    expect(report.locator("tbody tr")).to_have_count(1)
    expect(report.locator("tbody tr td")).to_have_text(["Fleet tracker", "EUR", "1", euros(NET)])
    expect(page.locator("#filters-hint")).to_be_visible()
    shot(page, "report-revenue-by-product")
