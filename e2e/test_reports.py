"""Browser flows of the reports: a report's chart and table, and its CSV export."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from cartera.reports.tests.conftest import Deals, deals
from e2e.helpers import SignIn, shot

pytestmark = pytest.mark.browser

__all__ = ["deals"]


def test_win_rate_report_draws_its_chart_and_exports_the_table(
    page: Page, deals: Deals, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    sign_in_as(deals.book.director)
    page.goto("/reports/")
    page.get_by_role("link", name="Win rate").first.click()
    expect(page.get_by_role("heading", name="Win rate")).to_be_visible()

    page.get_by_label("Per").select_option("team")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"[?&]by=team"))

    table = page.locator("#report-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("Iberia")
    expect(table).to_contain_text("66.67 %")
    # Chart.js drew on the canvas: it attached its chart object with our labels.
    canvas = page.locator("#report-chart")
    expect(canvas).to_be_visible()
    page.wait_for_function("() => document.getElementById('report-chart').chart !== undefined")
    labels = page.evaluate("() => document.getElementById('report-chart').chart.data.labels")
    assert labels == ["Iberia", "Nordics"]
    shot(page, request, "win-rate")

    with page.expect_download() as download_info:
        page.locator("#export-csv").click()
    download = download_info.value
    assert download.suggested_filename.startswith("cartera-report-win-rate-")
    path = download.path()
    assert path is not None
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows == [
        ["Team", "Won", "Lost", "Closed", "Win rate (%)"],
        ["Iberia", "2", "1", "3", "66.67"],
        ["Nordics", "1", "0", "1", "100.00"],
    ]


def test_manager_sets_a_target_and_sees_the_leaderboard(
    page: Page, deals: Deals, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    book = deals.book
    sign_in_as(book.manager)
    page.goto("/targets/?period_kind=quarter&period=2026-02-01")
    form = page.locator("#target-form")
    form.get_by_label("For").select_option(label="Olga Owner")
    form.get_by_label("Period", exact=True).select_option("quarter")
    form.get_by_label("Period starts").fill("2026-01-01")
    form.get_by_label("Metric").select_option("won_amount")
    form.get_by_label("Target").fill("4000")
    form.get_by_label("Currency").fill("EUR")
    form.get_by_role("button", name="Save target").click()

    board = page.locator("#leaderboard")
    expect(board).to_contain_text("Olga Owner")
    expect(board).to_contain_text("25.00 %")  # 1,000 won of 4,000
    expect(board).to_contain_text("€3,000.00")  # the shortage
    page.wait_for_function("() => document.getElementById('report-chart').chart !== undefined")
    shot(page, request, "leaderboard")
