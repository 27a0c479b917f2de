"""Report pages: index, one page per report with chart and table, and their exports."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from cartera.core.testing import PERSONAS, client_for, fresh
from cartera.reports.selectors import REPORTS

from .conftest import Deals

pytestmark = pytest.mark.django_db


def test_index_lists_every_report(deals: Deals) -> None:
    response = client_for(deals.book.owner).get("/reports/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in REPORTS:
        assert f'href="/reports/{name}/"' in html


def test_anonymous_is_sent_to_sign_in(db: None) -> None:
    from django.test import Client

    response = Client().get("/reports/win-rate/")
    assert response.status_code == 302
    assert "/login" in response["Location"] or "login" in response["Location"]


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_page_has_a_chart_and_a_table(deals: Deals, name: str) -> None:
    response = client_for(deals.book.director).get(f"/reports/{name}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="report-chart"' in html
    assert 'id="report-chart-data"' in html
    assert 'id="report-table"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html


def test_win_rate_page_shows_the_readers_rows(deals: Deals) -> None:
    html = client_for(deals.book.outsider).get("/reports/win-rate/").content.decode()
    assert "Oscar Outsider" in html
    assert "Olga Owner" not in html
    html = client_for(deals.book.director).get("/reports/win-rate/?by=team").content.decode()
    assert "Iberia" in html and "66.67 %" in html


def test_money_is_formatted_per_currency(deals: Deals) -> None:
    html = client_for(deals.book.owner).get("/reports/deal-size/").content.decode()
    assert "€1,000.00" in html
    assert "$250.50" in html


def test_bad_filters_show_errors_not_a_server_error(deals: Deals) -> None:
    response = client_for(deals.book.owner).get(
        "/reports/win-rate/?date_from=2026-05-01&date_to=2026-01-01"
    )
    assert response.status_code == 422
    assert "The first day must be on or before the last day." in response.content.decode()
    response = client_for(deals.book.owner).get("/reports/win-rate/?by=colour")
    assert response.status_code == 422


def test_unknown_report_is_404(deals: Deals) -> None:
    client = client_for(deals.book.owner)
    assert client.get("/reports/nope/").status_code == 404
    assert client.get("/reports/nope/export").status_code == 404


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_csv_export_holds_the_table_with_the_same_filters(deals: Deals) -> None:
    client = client_for(deals.book.director)
    response = client.get("/reports/win-rate/export?by=team&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="cartera-report-win-rate-' in response["Content-Disposition"]
    assert _csv(response) == [
        ["Team", "Won", "Lost", "Closed", "Win rate (%)"],
        ["Iberia", "2", "1", "3", "66.67"],
        ["Nordics", "1", "0", "1", "100.00"],
    ]
    filtered = client.get(f"/reports/win-rate/export?by=team&team={deals.book.other_team.pk}")
    assert [row[0] for row in _csv(filtered)] == ["Team", "Nordics"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_exports_cover_only_what_the_reader_sees(deals: Deals, persona: str) -> None:
    rows = _csv(client_for(deals.book.persona(persona)).get("/reports/win-rate/export"))
    owners = {row[0] for row in rows[1:]}
    assert ("Oscar Outsider" in owners) == (persona in {"outsider", "director", "admin"})
    assert ("Olga Owner" in owners) == (persona != "outsider")


def test_xlsx_export_has_typed_cells(deals: Deals) -> None:
    response = client_for(deals.book.director).get("/reports/deal-size/export?format=xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Owner", "Currency", "Won deals", "Won amount", "Average won deal")
    assert ("Olga Owner", "USD", 1, 250.5, 250.5) in rows


def test_export_refuses_an_unknown_format(deals: Deals) -> None:
    response = client_for(deals.book.owner).get("/reports/win-rate/export?format=pdf")
    assert response.status_code == 400


def test_report_page_query_count(deals: Deals, django_assert_num_queries: Any) -> None:
    client = client_for(fresh(deals.book.director))
    client.get("/reports/win-rate/")  # warm caches (content types, translations)
    # session, user, the report's aggregate; the filter bar's teams, their managers,
    # pipelines and people
    with django_assert_num_queries(7):
        assert client.get("/reports/win-rate/?by=office").status_code == 200
