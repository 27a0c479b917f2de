"""The report selectors: figures, definitions, visibility per persona, filters, query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from cartera.core.errors import InvalidInput, NotFound
from cartera.core.filters import parse_filters
from cartera.core.testing import PERSONAS, fresh
from cartera.reports import selectors
from cartera.reports.filters import ReportFilters
from cartera.sales.models import Opportunity, OpportunityLine
from cartera.sales.services import trash_opportunity
from cartera.users.services import update_team

from .conftest import Deals, close, make_deal

pytestmark = pytest.mark.django_db


def _filters(**values: Any) -> ReportFilters:
    return ReportFilters.model_validate(values)


def _by_label(rows: list[dict[str, Any]], *keys: str) -> dict[Any, Any]:
    return {
        (row["label"], row["currency"]) if "currency" in row else row["label"]: tuple(
            row[key] for key in keys
        )
        for row in rows
    }


def test_win_rate_counts_won_against_won_plus_lost(deals: Deals) -> None:
    report = selectors.win_rate(deals.book.director, _filters(by="team"))
    assert _by_label(report.rows, "won", "lost", "win_rate") == {
        "Iberia": (2, 1, Decimal("66.67")),
        "Nordics": (1, 0, Decimal("100.00")),
    }


def test_win_rate_per_manager_office_and_owner(deals: Deals) -> None:
    update_team(actor=deals.book.admin, team=deals.book.team, changes={"office": "Madrid"})
    director = deals.book.director
    manager = selectors.win_rate(director, _filters(by="manager"))
    assert _by_label(manager.rows, "won", "lost") == {
        "Manu Manager": (2, 1),
        "No manager": (1, 0),
    }
    office = selectors.win_rate(director, _filters(by="office"))
    assert _by_label(office.rows, "won", "lost") == {"Madrid": (2, 1), "No office": (1, 0)}
    owner = selectors.win_rate(director, _filters(by="owner"))
    assert _by_label(owner.rows, "win_rate") == {
        "Olga Owner": (Decimal("100.00"),),
        "Oscar Outsider": (Decimal("100.00"),),
        "Tomás Teammate": (Decimal("0.00"),),
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_reports_cover_only_the_deals_the_reader_sees(deals: Deals, persona: str) -> None:
    reader = fresh(deals.book.persona(persona))
    owners = {row["label"] for row in selectors.win_rate(reader, _filters()).rows}
    # The owner sees their own deals; the teammate also the deal on the account they work on
    # (won_big), not the owner's deal without an account; the team's manager and read-only
    # member see the team's; the outsider only theirs.
    expected = {
        "owner": {"Olga Owner"},
        "teammate": {"Olga Owner", "Tomás Teammate"},
        "manager": {"Olga Owner", "Tomás Teammate"},
        "read_only": {"Olga Owner", "Tomás Teammate"},
        "director": {"Olga Owner", "Tomás Teammate", "Oscar Outsider"},
        "admin": {"Olga Owner", "Tomás Teammate", "Oscar Outsider"},
        "outsider": {"Oscar Outsider"},
    }[persona]
    assert owners == expected
    revenue = selectors.revenue_by_period(reader, _filters())
    total_eur = sum(row["revenue"] for row in revenue.rows if row["currency"] == "EUR")
    assert total_eur == {
        "outsider": Decimal("700.00"),
        "director": Decimal("1700.00"),
        "admin": Decimal("1700.00"),
    }.get(persona, Decimal("1000.00"))


def test_trashed_deals_are_left_out(deals: Deals) -> None:
    trash_opportunity(
        actor=deals.book.outsider,
        opportunity=deals.outsider_won,
        expected_version=deals.outsider_won.version,
    )
    owners = {row["label"] for row in selectors.win_rate(deals.book.director, _filters()).rows}
    assert "Oscar Outsider" not in owners


def test_amounts_are_never_added_across_currencies(deals: Deals) -> None:
    report = selectors.deal_size(deals.book.director, _filters(by="owner"))
    assert _by_label(report.rows, "deals", "total", "average") == {
        ("Olga Owner", "EUR"): (1, Decimal("1000.00"), Decimal("1000.00")),
        ("Olga Owner", "USD"): (1, Decimal("250.50"), Decimal("250.50")),
        ("Oscar Outsider", "EUR"): (1, Decimal("700.00"), Decimal("700.00")),
    }
    only_usd = selectors.deal_size(deals.book.director, _filters(currency=["usd"]))
    assert [row["currency"] for row in only_usd.rows] == ["USD"]


def test_average_deal_size_rounds_half_up_to_the_currency(deals: Deals) -> None:
    owner = deals.book.owner
    won = deals.won_usd.stage
    for amount in ("0.01", "0.02"):
        deal = make_deal(owner, created=dt.date(2026, 3, 1), amount=amount, currency="USD")
        close(owner, deal, won, dt.date(2026, 4, 11))
    report = selectors.deal_size(owner, _filters(currency=["USD"]))
    # (250.50 + 0.01 + 0.02) / 3 = 83.51 exactly; and one more cent makes 62.6325 → 62.63
    assert report.rows[0]["average"] == Decimal("83.51")
    deal = make_deal(owner, created=dt.date(2026, 3, 1), amount="0.00", currency="USD")
    close(owner, deal, won, dt.date(2026, 4, 12))
    report = selectors.deal_size(owner, _filters(currency=["USD"]))
    assert report.rows[0]["total"] == Decimal("250.53")
    assert report.rows[0]["average"] == Decimal("62.63")  # 62.6325 half-up


def test_sales_cycle_counts_days_from_creation_to_close(deals: Deals) -> None:
    report = selectors.sales_cycle(deals.book.director, _filters(by="team"))
    assert _by_label(report.rows, "deals", "average_days", "won_deals", "average_days_won") == {
        "Iberia": (3, Decimal("30.0"), 2, Decimal("35.0")),  # (30 + 40 + 20) / 3; (30 + 40) / 2
        "Nordics": (1, Decimal("10.0"), 1, Decimal("10.0")),
    }


def test_revenue_per_product_splits_deals_with_several_lines(deals: Deals) -> None:
    report = selectors.revenue_by_product(deals.book.director, _filters())
    assert _by_label(report.rows, "deals", "revenue") == {
        ("Gadget", "EUR"): (1, Decimal("400.00")),  # 500 less 20 %
        ("Widget", "EUR"): (1, Decimal("600.00")),
        ("Widget", "USD"): (1, Decimal("250.50")),  # its only line: the whole amount
        ("No product", "EUR"): (1, Decimal("700.00")),
    }


def test_a_deal_with_one_line_counts_its_whole_won_amount(deals: Deals) -> None:
    # A single line worth less than the deal (the amount was set by hand afterwards).
    Opportunity.objects.filter(pk=deals.won_usd.pk).update(amount=Decimal("300.00"))
    assert OpportunityLine.objects.filter(opportunity=deals.won_usd).count() == 1
    report = selectors.revenue_by_product(deals.book.director, _filters(currency=["USD"]))
    assert _by_label(report.rows, "revenue") == {("Widget", "USD"): (Decimal("300.00"),)}


def test_revenue_per_month_and_quarter(deals: Deals) -> None:
    director = deals.book.director
    months = selectors.revenue_by_period(director, _filters(period="month"))
    assert _by_label(months.rows, "deals", "revenue") == {
        ("2026-01", "EUR"): (1, Decimal("700.00")),
        ("2026-02", "EUR"): (1, Decimal("1000.00")),
        ("2026-04", "USD"): (1, Decimal("250.50")),
    }
    quarters = selectors.revenue_by_period(director, _filters(period="quarter"))
    assert _by_label(quarters.rows, "revenue") == {
        ("2026 Q1", "EUR"): (Decimal("1700.00"),),
        ("2026 Q2", "USD"): (Decimal("250.50"),),
    }
    assert quarters.rows[0]["period_start"] == dt.date(2026, 1, 1)


def test_period_filters_closed_on_inclusively(deals: Deals) -> None:
    report = selectors.revenue_by_period(
        deals.book.director, _filters(date_from="2026-02-04", date_to="2026-04-10")
    )
    assert [row["label"] for row in report.rows] == ["2026-02", "2026-04"]


def test_filters_by_owner_team_manager_office_and_pipeline(deals: Deals) -> None:
    book = deals.book
    update_team(actor=book.admin, team=book.team, changes={"office": "Madrid"})
    director = book.director

    def owners(**values: Any) -> set[str]:
        return {row["label"] for row in selectors.win_rate(director, _filters(**values)).rows}

    everyone = {"Olga Owner", "Tomás Teammate", "Oscar Outsider"}
    assert owners(owner=[book.owner.pk]) == {"Olga Owner"}
    assert owners(team=[book.other_team.pk]) == {"Oscar Outsider"}
    assert owners(manager=[book.manager.pk]) == {"Olga Owner", "Tomás Teammate"}
    assert owners(office=["Madrid"]) == {"Olga Owner", "Tomás Teammate"}
    assert owners(pipeline=[deals.pipeline.pk]) == everyone
    assert owners(pipeline=[deals.pipeline.pk + 100]) == set()


def test_pipeline_by_stage_sums_open_deals_and_weights_them(deals: Deals) -> None:
    report = selectors.pipeline_by_stage(deals.book.director, _filters())
    assert _by_label(report.rows, "deals", "amount", "weighted") == {
        ("Qualification", "EUR"): (1, Decimal("100.00"), Decimal("10.00")),
        ("Proposal", "EUR"): (1, Decimal("800.00"), Decimal("400.00")),
    }


def test_conversion_counts_deals_reaching_each_stage(deals: Deals) -> None:
    report = selectors.stage_conversion(deals.book.director, _filters())
    rows = {row["label"]: (row["reached"], row["next"], row["conversion"]) for row in report.rows}
    # Six deals; three won (past every stage), one in Proposal, two stopped in Qualification.
    assert rows == {
        "Qualification": (6, 4, Decimal("66.67")),
        "Needs analysis": (4, 4, Decimal("100.00")),
        "Proposal": (4, 3, Decimal("75.00")),
        "Negotiation": (3, 3, Decimal("100.00")),
    }
    assert report.rows[0]["win_rate"] == Decimal("50.00")


def test_conversion_of_an_unknown_pipeline_is_not_found(deals: Deals) -> None:
    with pytest.raises(NotFound):
        selectors.stage_conversion(deals.book.director, _filters(pipeline=[999999]))


def test_unknown_report_is_not_found(deals: Deals) -> None:
    with pytest.raises(NotFound):
        selectors.build_report(deals.book.director, "nope", _filters())


def test_bad_filters_are_invalid_input() -> None:
    from django.http import QueryDict

    for query in (
        "date_from=2026-05-01&date_to=2026-01-01",
        "date_from=yesterday",
        "by=colour",
        "owner=abc",
        "surprise=1",
    ):
        with pytest.raises(InvalidInput):
            parse_filters(ReportFilters, QueryDict(query))


def test_reports_take_a_fixed_number_of_queries(
    deals: Deals, django_assert_num_queries: Any
) -> None:
    director = fresh(deals.book.director)
    for name in ("win-rate", "deal-size", "sales-cycle", "revenue-by-product", "pipeline"):
        for by in ("owner", "product"):
            with django_assert_num_queries(1):  # the grouped aggregate
                selectors.build_report(director, name, _filters(by=by))
    with django_assert_num_queries(1):
        selectors.revenue_by_period(director, _filters(period="quarter"))
    # The pipeline, its open stages, the grouped reach of the deals.
    with django_assert_num_queries(3):
        selectors.stage_conversion(director, _filters())
    manager = fresh(deals.book.manager)
    # The manager's scope (their team's people), the accounts they see (sales' visible_to),
    # then the aggregate.
    with django_assert_num_queries(3):
        selectors.win_rate(manager, _filters())


def test_query_count_does_not_grow_with_deals(deals: Deals, django_assert_num_queries: Any) -> None:
    owner = deals.book.owner
    for n in range(5):
        deal = make_deal(owner, created=dt.date(2026, 2, 1), amount=f"{n + 1}0", currency="EUR")
        close(owner, deal, deals.won_usd.stage, dt.date(2026, 2, 20))
    director = fresh(deals.book.director)
    with django_assert_num_queries(1):
        selectors.revenue_by_product(director, _filters())


def test_every_report_works_before_any_deal_or_pipeline(book: Any) -> None:
    for name in selectors.REPORTS:
        report = selectors.build_report(book.owner, name, _filters())
        assert report.rows == []


def test_pipeline_chart_tells_stages_of_two_pipelines_apart(deals: Deals) -> None:
    from cartera.sales.services import create_opportunity, create_pipeline

    other = create_pipeline(actor=deals.book.admin, data={"name": "Renewals"})
    create_opportunity(
        actor=deals.book.owner,
        data={"name": "Renewal", "pipeline": other.pk, "amount": "50", "currency": "EUR"},
    )
    report = selectors.pipeline_by_stage(deals.book.director, _filters())
    assert len(report.chart["labels"]) == len(set(report.chart["labels"])) == 3
    assert "Sales · Proposal" in report.chart["labels"]
