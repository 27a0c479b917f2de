"""The reports API: the same reports and filters as the pages, problems for bad input."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from cartera.core.testing import PERSONAS, PROBLEM, client_for, fresh
from cartera.reports.selectors import REPORTS

from .conftest import Deals

pytestmark = pytest.mark.django_db

API = "/api/v1/reports"


def test_list_of_reports(deals: Deals) -> None:
    response = client_for(deals.book.owner).get(API)
    assert response.status_code == 200
    assert [item["name"] for item in response.json()] == list(REPORTS)
    assert response.json()[2]["breakdown"] is True


def test_anonymous_gets_401(db: None) -> None:
    response = Client().get(f"{API}/win-rate")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_report_rows_with_decimal_strings(deals: Deals) -> None:
    response = client_for(deals.book.director).get(f"{API}/deal-size", {"by": "team"})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "deal-size"
    assert [column["key"] for column in body["columns"]] == [
        "label",
        "currency",
        "deals",
        "total",
        "average",
    ]
    assert {
        "key": deals.book.team.pk,
        "label": "Iberia",
        "currency": "USD",
        "deals": 1,
        "total": "250.50",
        "average": "250.50",
    } in body["rows"]
    assert body["chart"]["type"] == "bar"


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_reports_cover_only_visible_deals(deals: Deals, persona: str) -> None:
    body = client_for(deals.book.persona(persona)).get(f"{API}/win-rate").json()
    owners = {row["label"] for row in body["rows"]}
    assert ("Oscar Outsider" in owners) == (persona in {"outsider", "director", "admin"})
    assert ("Olga Owner" in owners) == (persona != "outsider")


def test_filters_as_lists(deals: Deals) -> None:
    client = client_for(deals.book.director)
    book = deals.book
    response = client.get(f"{API}/win-rate?owner={book.owner.pk},{book.outsider.pk}")
    assert {row["label"] for row in response.json()["rows"]} == {"Olga Owner", "Oscar Outsider"}
    response = client.get(f"{API}/revenue-by-period?period=quarter&currency=USD")
    assert [(row["label"], row["revenue"]) for row in response.json()["rows"]] == [
        ("2026 Q2", "250.50")
    ]


@pytest.mark.parametrize(
    "query",
    ["by=colour", "date_from=2026-05-01&date_to=2026-01-01", "owner=0", "date_from=never"],
)
def test_bad_filters_are_422_problems(deals: Deals, query: str) -> None:
    response = client_for(deals.book.owner).get(f"{API}/win-rate?{query}")
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM


def test_unknown_report_is_404(deals: Deals) -> None:
    client = client_for(deals.book.owner)
    assert client.get(f"{API}/nope").status_code == 404
    assert client.get(f"{API}/nope/export").status_code == 404


def test_export_through_the_api(deals: Deals) -> None:
    response = client_for(deals.book.director).get(
        f"{API}/sales-cycle/export", {"by": "team", "format": "csv"}
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body))) == [
        ["Team", "Closed deals", "Average days to close", "Won deals", "Average days to win"],
        ["Iberia", "3", "30.0", "2", "35.0"],
        ["Nordics", "1", "10.0", "1", "10.0"],
    ]


def test_api_query_count(deals: Deals, django_assert_num_queries: Any) -> None:
    client = client_for(fresh(deals.book.director))
    client.get(f"{API}/win-rate")
    # session, user, the report's aggregate
    with django_assert_num_queries(3):
        assert client.get(f"{API}/win-rate?by=product").status_code == 200
