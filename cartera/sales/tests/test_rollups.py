"""The deal totals table (``OpportunityRollup``): every write path keeps it exact, and the board
and the forecast read from it give the same figures as summing the deals."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Case, Count, DateField, F, Q, Sum, When
from django.db.models.functions import TruncMonth, TruncQuarter
from django.utils import timezone

from cartera.core.testing import Book, fresh
from cartera.sales import rollups, selectors, services
from cartera.sales.filters import OpportunityFilters
from cartera.sales.models import (
    NO_MONTH,
    ForecastCategory,
    Opportunity,
    OpportunityRollup,
    Pipeline,
    Stage,
    StageKind,
)
from cartera.sales.rollups import CENTS

from .conftest import assert_rollups_consistent


def stage_named(pipeline: Pipeline, name: str) -> Stage:
    return Stage.objects.get(pipeline=pipeline, name=name)


def bucket(**key: Any) -> tuple[int, int, int]:
    """(deals, cents, cents x probability) of the table's rows matching ``key``."""
    found = OpportunityRollup.objects.filter(**key).aggregate(
        n=Sum("deals"), c=Sum("amount_cents"), w=Sum("weighted")
    )
    return (int(found["n"] or 0), int(found["c"] or 0), int(found["w"] or 0))


def new_deal(actor: Any, **data: Any) -> Opportunity:
    values = {"name": "Deal", "amount": "100.00", "expected_close_date": "2026-07-15", **data}
    return services.create_opportunity(actor=actor, data=values)


def reread(deal: Opportunity) -> Opportunity:
    return Opportunity.objects.select_related("pipeline", "stage").get(pk=deal.pk)


# --------------------------------------------------------------------------------------------
# Write paths


def test_create_adds_the_deal_to_its_bucket(book: Book, pipeline: Pipeline) -> None:
    deal = new_deal(book.owner, amount="1234.56", probability=30)
    assert bucket(
        owner=book.owner,
        stage=deal.stage,
        month=dt.date(2026, 7, 1),
        currency="EUR",
        type="new_business",
        status="open",
        forecast_category="pipeline",
    ) == (1, 123456, 123456 * 30)
    assert OpportunityRollup.objects.count() == 1


def test_a_deal_without_close_date_is_in_the_no_month_bucket(
    book: Book, pipeline: Pipeline
) -> None:
    new_deal(book.owner, expected_close_date=None)
    assert bucket(month=NO_MONTH) == (1, 10000, 100000)


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"amount": "250.50"}, {"amount_cents": 25050}),
        ({"currency": "USD"}, {"currency": "USD"}),
        ({"type": "renewal"}, {"type": "renewal"}),
        ({"expected_close_date": "2026-09-30"}, {"month": dt.date(2026, 9, 1)}),
        ({"probability": 55}, {"weighted": 10000 * 55}),
        ({"forecast_category": "commit"}, {"forecast_category": "commit"}),
    ],
)
def test_update_moves_the_deal_between_buckets(
    book: Book, pipeline: Pipeline, changes: dict[str, Any], where: dict[str, Any]
) -> None:
    deal = new_deal(book.owner)
    services.update_opportunity(
        actor=book.owner, opportunity=deal, changes=changes, expected_version=deal.version
    )
    assert OpportunityRollup.objects.filter(deals=1, **where).count() == 1
    assert bucket() == (1, *bucket(deals=1)[1:])
    assert_rollups_consistent()


def test_update_owner_moves_the_totals_to_the_new_owner(book: Book, pipeline: Pipeline) -> None:
    deal = new_deal(book.owner)
    services.update_opportunity(
        actor=book.manager,
        opportunity=deal,
        changes={"owner": book.teammate.pk},
        expected_version=deal.version,
    )
    assert bucket(owner=book.owner) == (0, 0, 0)
    assert bucket(owner=book.teammate)[0] == 1


def test_update_with_a_stale_object_counts_what_the_database_holds(
    book: Book, pipeline: Pipeline
) -> None:
    deal = new_deal(book.owner)
    stale = Opportunity.objects.get(pk=deal.pk)
    services.update_opportunity(
        actor=book.owner, opportunity=deal, changes={"amount": "999.00"}, expected_version=None
    )
    # The stale copy still says 100.00; its write (no version check) changes the type only.
    services.update_opportunity(
        actor=book.owner, opportunity=stale, changes={"type": "upsell"}, expected_version=None
    )
    assert bucket(type="upsell") == (1, 99900, 999000)
    assert_rollups_consistent()


def test_moves_between_open_stages_won_lost_and_reopen(book: Book, pipeline: Pipeline) -> None:
    deal = new_deal(book.owner)
    proposal = stage_named(pipeline, "Proposal")
    deal = services.move_opportunity(
        actor=book.owner, opportunity=deal, stage=proposal, expected_version=deal.version
    )
    assert bucket(stage=proposal) == (1, 10000, 500000)
    assert_rollups_consistent()
    deal = services.move_opportunity(
        actor=book.owner,
        opportunity=deal,
        stage=services.won_stage(pipeline),
        expected_version=deal.version,
        changed_at=timezone.make_aware(dt.datetime(2026, 3, 14, 10)),
    )
    # A won deal counts in the month it closed, not the one it was expected in.
    assert bucket(status="won", month=dt.date(2026, 3, 1)) == (1, 10000, 1000000)
    assert bucket(status="open") == (0, 0, 0)
    assert_rollups_consistent()
    deal = services.move_opportunity(
        actor=book.owner, opportunity=deal, stage=proposal, expected_version=deal.version
    )
    assert bucket(status="open", month=dt.date(2026, 7, 1)) == (1, 10000, 500000)
    assert_rollups_consistent()
    reason = selectors.active_loss_reasons()[0]
    services.move_opportunity(
        actor=book.owner,
        opportunity=deal,
        stage=services.lost_stage(pipeline),
        expected_version=deal.version,
        loss_reason=reason,
    )
    assert bucket(status="lost")[0] == 1 and bucket(status="open")[0] == 0


def test_update_can_move_to_another_pipeline(book: Book, pipeline: Pipeline) -> None:
    other = services.create_pipeline(actor=book.admin, data={"name": "Renewals"})
    deal = new_deal(book.owner)
    services.update_opportunity(
        actor=book.owner,
        opportunity=deal,
        changes={"pipeline": other.pk},
        expected_version=deal.version,
    )
    assert bucket(pipeline=pipeline) == (0, 0, 0) and bucket(pipeline=other)[0] == 1


def test_trash_and_restore(book: Book, pipeline: Pipeline) -> None:
    deal = new_deal(book.owner)
    deal = services.trash_opportunity(
        actor=book.owner, opportunity=deal, expected_version=deal.version
    )
    assert bucket() == (0, 0, 0)
    assert_rollups_consistent()
    services.restore_opportunity(actor=book.owner, opportunity=deal)
    assert bucket() == (1, 10000, 100000)


def test_product_lines_recompute_the_amount(book: Book, pipeline: Pipeline) -> None:
    deal = new_deal(book.owner)
    line = services.add_opportunity_line(
        actor=book.owner,
        opportunity=deal,
        data={"description": "Setup", "quantity": "3", "unit_price": "40.10"},
    )
    assert bucket() == (1, 12030, 120300)
    second = services.add_opportunity_line(
        actor=book.owner,
        opportunity=reread(deal),
        data={"description": "Support", "unit_price": "9.99"},
    )
    assert bucket()[1] == 13029
    services.update_opportunity_line(actor=book.owner, line=line, changes={"quantity": "1"})
    assert bucket()[1] == 4010 + 999
    services.remove_opportunity_line(actor=book.owner, line=second)
    assert bucket()[1] == 4010
    assert_rollups_consistent()


def test_stage_edits_leave_the_deals_and_totals_alone(book: Book, pipeline: Pipeline) -> None:
    deal = new_deal(book.owner)
    services.update_stage(
        actor=book.admin, stage=deal.stage, changes={"probability": 40, "name": "Qualified"}
    )
    assert reread(deal).probability == 10  # deals keep the probability they took
    assert bucket() == (1, 10000, 100000)


def test_a_failed_write_changes_no_totals(book: Book, pipeline: Pipeline) -> None:
    from cartera.core.errors import Conflict

    deal = new_deal(book.owner)
    with pytest.raises(Conflict):
        services.update_opportunity(
            actor=book.owner, opportunity=deal, changes={"amount": "5"}, expected_version=99
        )
    assert bucket() == (1, 10000, 100000)


def test_lead_conversion_counts_the_new_deal(book: Book, pipeline: Pipeline) -> None:
    from cartera.leads import services as leads

    lead = leads.create_lead(
        actor=book.owner, data={"company": "Frutas Ruiz", "first_name": "Ana", "owner": book.owner}
    )
    leads.convert_lead(
        actor=book.owner,
        lead=lead,
        expected_version=lead.version,
        opportunity={"amount": "800.00", "expected_close_date": "2026-08-01"},
    )
    assert bucket(month=dt.date(2026, 8, 1)) == (1, 80000, 800000)
    assert_rollups_consistent()


def test_quote_acceptance_wins_the_deal_in_the_totals(book: Book, pipeline: Pipeline) -> None:
    from cartera.quotes import services as quotes

    deal = new_deal(book.owner, account=book.account.pk)
    quote = quotes.create_quote(actor=book.owner, opportunity=deal, data={})
    quotes.add_line(
        actor=book.owner,
        quote=quote,
        data={"description": "Licences", "quantity": "2", "unit_price": "40"},
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    _quote, link = quotes.send_quote(
        actor=book.owner, quote=quote, recipient_email="buyer@x.example", expected_version=None
    )
    quotes.respond_to_quote(
        token=link.rstrip("/").rsplit("/", 1)[-1], decision="accepted", name="José Pérez"
    )
    assert reread(deal).status == StageKind.WON
    assert bucket(status="open")[0] == 0 and bucket(status="won")[0] == 1
    assert_rollups_consistent()


def test_the_opportunity_import_keeps_the_totals_exact(
    book: Book, pipeline: Pipeline, settings: Any, tmp_path: Path
) -> None:
    from cartera.imports.tests.support import csv_bytes, run_import

    settings.DATA_DIR = tmp_path
    header = ["opportunity_id", "name", "deal_stage", "close_date", "close_value", "currency"]
    rows = [
        ["A1", "Alpha", "Qualification", "", "100", "EUR"],
        ["A2", "Beta", "Won", "2026-02-03", "250.50", "EUR"],
        ["A3", "Gamma", "Proposal", "", "75", "USD"],
    ]
    run_import(book.admin, csv_bytes([header, *rows]), kind="opportunities", name="deals.csv")
    assert Opportunity.objects.count() == 3
    assert_rollups_consistent()
    assert bucket(status="won", month=dt.date(2026, 2, 1))[:2] == (1, 25050)
    # A re-import that changes a stage and an amount moves them between buckets.
    rows[0] = ["A1", "Alpha", "Lost", "2026-03-01", "120", "EUR"]
    rows[2] = ["A3", "Gamma", "Negotiation", "", "80", "USD"]
    run_import(book.admin, csv_bytes([header, *rows]), kind="opportunities", name="deals.csv")
    assert Opportunity.objects.count() == 3
    assert_rollups_consistent()
    assert bucket(status="lost")[:2] == (1, 12000)
    assert bucket(currency="USD")[:2] == (1, 8000)


def test_rebuild_and_the_check_command(book: Book, pipeline: Pipeline) -> None:
    new_deal(book.owner)
    new_deal(book.teammate, amount="50.00", currency="USD")
    OpportunityRollup.objects.filter(currency="USD").update(deals=5, amount_cents=1)
    assert len(rollups.discrepancies()) == 1
    with pytest.raises(CommandError, match="1 bucket"):
        call_command("rebuild_rollups", "--check", stdout=StringIO())
    out = StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert "2 bucket" in out.getvalue()
    assert_rollups_consistent()
    out = StringIO()
    call_command("rebuild_rollups", "--check", stdout=out)
    assert "match" in out.getvalue()


def test_rebuild_of_one_pipeline_leaves_the_others(book: Book, pipeline: Pipeline) -> None:
    other = services.create_pipeline(actor=book.admin, data={"name": "Renewals"})
    new_deal(book.owner)
    new_deal(book.owner, pipeline=other.pk)
    OpportunityRollup.objects.update(deals=7)
    assert rollups.rebuild(other) == 1
    assert bucket(pipeline=other)[0] == 1 and bucket(pipeline=pipeline)[0] == 7
    rollups.rebuild()
    with pytest.raises(CommandError, match="no pipeline"):
        call_command("rebuild_rollups", "--pipeline", "999999")


def test_the_demo_fills_the_totals(db: None) -> None:
    from cartera.core.demo import seed_demo

    seed_demo(accounts=6, contacts=6, interactions=6, opportunities=40)
    assert OpportunityRollup.objects.exists()
    assert_rollups_consistent()


def test_the_big_demo_fills_the_totals(db: None) -> None:
    from cartera.core.demo import seed_scaled_demo

    summary = seed_scaled_demo(accounts=40, contacts=80, interactions=200, workers=1)
    assert summary.opportunities and "deal totals" in summary.timings
    assert OpportunityRollup.objects.exists()
    assert_rollups_consistent()


# --------------------------------------------------------------------------------------------
# Reads: the board and the forecast equal the sums of the deals


def raw_board(user: Any, pipeline: Pipeline, filters: OpportunityFilters) -> dict[Any, Any]:
    """The board's totals as they were computed before the table: GROUP BY over the deals."""
    base, _since = selectors.board_queryset(user, pipeline, filters)
    rows = (
        base.filter(stage__pipeline=pipeline)
        .values("stage_id", "currency")
        .annotate(n=Count("pk"), total=Sum(CENTS), weighted=Sum(CENTS * F("probability")))
        .order_by()
    )
    return {
        (row["stage_id"], row["currency"]): (
            row["n"],
            selectors.cents(row["total"], row["currency"]),
            selectors._weighted(row["weighted"], row["currency"]),
        )
        for row in rows
    }


def board_figures(user: Any, pipeline: Pipeline, filters: OpportunityFilters) -> dict[Any, Any]:
    result = selectors.board(fresh(user), pipeline, filters, per_column=2)
    found = {}
    for column in result.columns:
        assert column.count == sum(total.count for total in column.totals)
        for total in column.totals:
            found[(column.stage.pk, total.currency)] = (total.count, total.amount, total.weighted)
    return found


@pytest.fixture
def spread(book: Book, pipeline: Pipeline) -> Book:
    """Deals of several owners, currencies, stages and close days; one seen only by account."""
    today = timezone.localdate()
    since = today - dt.timedelta(days=selectors.BOARD_CLOSED_DAYS)
    won, lost = services.won_stage(pipeline), services.lost_stage(pipeline)
    proposal = stage_named(pipeline, "Proposal")
    reason = selectors.active_loss_reasons()[0]
    closings = [
        since - dt.timedelta(days=1),
        since,
        since + dt.timedelta(days=1),
        since.replace(day=1),
        (since.replace(day=28) + dt.timedelta(days=4)).replace(day=1),
        today,
    ]
    owners = [book.owner, book.teammate, book.outsider]
    for index, closed in enumerate(closings):
        for owner_index, owner in enumerate(owners):
            data = {
                "amount": f"{index * 10 + owner_index}.05",
                "probability": 33,
                "currency": "USD" if (index + owner_index) % 3 == 0 else "EUR",
                "expected_close_date": today + dt.timedelta(days=35 * index - 60),
            }
            if owner is book.outsider:
                deal = new_deal(owner, **data)
            else:
                deal = new_deal(owner, account=book.account.pk, **data)
            at = timezone.make_aware(dt.datetime.combine(closed, dt.time(12)))
            target = [won, lost, proposal][(index + owner_index) % 3]
            services.move_opportunity(
                actor=owner,
                opportunity=deal,
                stage=target,
                expected_version=deal.version,
                changed_at=at,
                loss_reason=reason if target == lost else None,
            )
    # On the book's account (the owner sees it), owned by someone outside the owner's scope.
    for amount in ("10.01", "20.02"):
        new_deal(
            book.director,
            account=book.account.pk,
            owner=book.outsider.pk,
            amount=amount,
            probability=45,
            forecast_category="commit",
            expected_close_date=today,
        )
    new_deal(book.owner, expected_close_date=None, amount="3.33")
    return book


@pytest.mark.parametrize("persona", ["director", "owner", "manager", "teammate", "outsider"])
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"currency": "usd"},
        {"type": ["new_business"], "status": ["open", "won"]},
        {"close": "this_month"},
        {"close": "next_quarter"},
        {"close_from": "2020-01-01"},
        {"close_to": "2020-01-31"},
        {"forecast_category": ["commit"]},
        {"q": "deal"},
        {"stuck": True},
        {"close_from": "2026-01-15", "close_to": "2027-01-14"},
    ],
)
def test_board_totals_equal_the_sums_of_the_deals(
    spread: Book, pipeline: Pipeline, persona: str, filters: dict[str, Any]
) -> None:
    user = spread.persona(persona)
    chosen = OpportunityFilters(**filters)
    assert board_figures(user, pipeline, chosen) == raw_board(fresh(user), pipeline, chosen)


def test_board_team_and_owner_filters(spread: Book, pipeline: Pipeline) -> None:
    for filters in (
        OpportunityFilters(team=[spread.team.pk]),
        OpportunityFilters(owner=[spread.outsider.pk]),
        OpportunityFilters(account=spread.account.pk),
    ):
        for user in (spread.director, spread.owner):
            assert board_figures(user, pipeline, filters) == raw_board(
                fresh(user), pipeline, filters
            )


def test_a_scoped_board_counts_deals_seen_through_the_account(
    spread: Book, pipeline: Pipeline
) -> None:
    figures = board_figures(spread.owner, pipeline, OpportunityFilters())
    first = services.first_open_stage(pipeline)
    # Only the two deals owned by the outsider on the owner's account are in the first stage.
    assert figures[(first.pk, "EUR")][0] == 2 + 1  # and the owner's deal without a close date


def test_the_board_reads_the_table(book: Book, pipeline: Pipeline) -> None:
    deal = new_deal(book.owner)
    OpportunityRollup.objects.update(deals=41, amount_cents=F("amount_cents") + 1)
    column = selectors.board(fresh(book.director), pipeline, OpportunityFilters()).columns[0]
    assert column.count == 41 and column.totals[0].amount == Decimal("100.01")
    # A search cannot use it: the deals are summed.
    column = selectors.board(fresh(book.director), pipeline, OpportunityFilters(q="deal")).columns[
        0
    ]
    assert column.count == 1
    rollups.rebuild()
    assert bucket() == (1, 10000, 100000) and deal.pk


def raw_forecast(user: Any, filters: selectors.ForecastFilters) -> dict[Any, Any]:
    """The forecast as it was computed before the table: one GROUP BY over the deals."""
    periods = filters.window()
    first, last = periods[0][0], periods[-1][1]
    queryset = selectors.visible_opportunities(user).filter(
        Q(status=StageKind.WON, closed_on__gte=first, closed_on__lte=last)
        | (
            Q(status=StageKind.OPEN, expected_close_date__gte=first, expected_close_date__lte=last)
            & ~Q(forecast_category=ForecastCategory.OMITTED)
        )
    )
    if filters.team:
        queryset = queryset.filter(owner__team_id__in=filters.team)
    if filters.currency:
        queryset = queryset.filter(currency=filters.currency.upper())
    day = Case(
        When(status=StageKind.WON, then=F("closed_on")),
        default=F("expected_close_date"),
        output_field=DateField(),
    )
    trunc = TruncQuarter if filters.period == "quarter" else TruncMonth
    key_field, label_field = selectors._GROUP_FIELDS[filters.group]
    is_open = Q(status=StageKind.OPEN)
    commit = is_open & Q(forecast_category=ForecastCategory.COMMIT)
    best = is_open & Q(forecast_category__in=[ForecastCategory.COMMIT, ForecastCategory.BEST_CASE])
    won = Q(status=StageKind.WON)
    rows = (
        queryset.annotate(period_start=trunc(day, output_field=DateField()))
        .values(key_field, label_field, "period_start", "currency")
        .annotate(
            won=Sum(CENTS, filter=won),
            won_count=Count("pk", filter=won),
            commit=Sum(CENTS, filter=commit),
            best_case=Sum(CENTS, filter=best),
            pipeline=Sum(CENTS, filter=is_open),
            pipeline_count=Count("pk", filter=is_open),
            weighted=Sum(CENTS * F("probability"), filter=is_open),
        )
        .order_by()
    )
    found = {}
    for row in rows:
        currency = row["currency"]
        period = row["period_start"]
        period = period.date() if isinstance(period, dt.datetime) else period
        found[(row[key_field], row[label_field] or "", currency, period)] = (
            selectors.cents(row["won"], currency),
            row["won_count"],
            selectors.cents(row["commit"], currency),
            selectors.cents(row["best_case"], currency),
            selectors.cents(row["pipeline"], currency),
            row["pipeline_count"],
            selectors._weighted(row["weighted"], currency),
        )
    return found


def forecast_figures(user: Any, filters: selectors.ForecastFilters) -> dict[Any, Any]:
    result = selectors.forecast(fresh(user), filters)
    found = {}
    for row in result.rows:
        for period, cell in row.cells.items():
            found[(row.key, row.label, row.currency, period)] = (
                cell.won,
                cell.won_count,
                cell.commit,
                cell.best_case,
                cell.pipeline,
                cell.pipeline_count,
                cell.weighted,
            )
    return found


@pytest.mark.parametrize("persona", ["director", "owner", "manager", "outsider", "read_only"])
@pytest.mark.parametrize(
    "options",
    [
        {"period": "month", "periods": 12},
        {"period": "quarter", "periods": 4},
        {"group": "team", "period": "quarter", "periods": 3},
        {"group": "pipeline", "period": "month", "periods": 8, "currency": "eur"},
    ],
)
def test_forecast_equals_the_sums_of_the_deals(
    spread: Book, persona: str, options: dict[str, Any]
) -> None:
    user = spread.persona(persona)
    start = timezone.localdate() - dt.timedelta(days=150)
    filters = selectors.ForecastFilters(start=start, **options)
    expected = raw_forecast(fresh(user), filters)
    assert forecast_figures(user, filters) == expected
    if persona in {"director", "owner"}:
        assert expected  # the cases compare something


def test_forecast_team_filter_and_scoped_rounding(spread: Book) -> None:
    start = timezone.localdate() - dt.timedelta(days=150)
    filters = selectors.ForecastFilters(
        team=[spread.team.pk], period="quarter", periods=3, start=start
    )
    for user in (spread.director, spread.owner, spread.manager):
        assert forecast_figures(user, filters) == raw_forecast(fresh(user), filters)


def test_forecast_rounds_each_cell_once_across_table_and_deals(
    book: Book, pipeline: Pipeline
) -> None:
    today = timezone.localdate()
    # One half-cent weighted amount from the owner's own deals (the table) and one from a deal
    # seen through the account (summed from the deals): 0.025 + 0.025 = 0.05, not 0.03 + 0.03.
    new_deal(book.owner, amount="0.05", probability=50, expected_close_date=today)
    new_deal(
        book.director,
        account=book.account.pk,
        owner=book.outsider.pk,
        amount="0.05",
        probability=50,
        expected_close_date=today,
    )
    filters = selectors.ForecastFilters(period="month", periods=1, group="pipeline")
    result = selectors.forecast(fresh(book.owner), filters)
    assert len(result.rows) == 1 and result.rows[0].total.weighted == Decimal("0.05")
    assert forecast_figures(book.owner, filters) == raw_forecast(fresh(book.owner), filters)


# --------------------------------------------------------------------------------------------
# Query counts


def test_board_and_forecast_query_counts_with_deals_seen_through_accounts(
    spread: Book, pipeline: Pipeline, django_assert_num_queries: Any
) -> None:
    owner = fresh(spread.owner)
    selectors.board(owner, pipeline, OpportunityFilters())  # scope cached on the user
    result = selectors.board(owner, pipeline, OpportunityFilters())
    non_empty = sum(1 for column in result.columns if column.count)
    # visible accounts, stages, totals (table UNION deals), one LIMITed read per non-empty column
    with django_assert_num_queries(3 + non_empty):
        selectors.board(owner, pipeline, OpportunityFilters())
    # visible accounts, then the table UNION the deals seen through an account
    with django_assert_num_queries(2):
        selectors.forecast(owner, selectors.ForecastFilters())
    director = fresh(spread.director)
    with django_assert_num_queries(1):
        selectors.forecast(director, selectors.ForecastFilters())


def test_a_write_adds_two_reads_and_one_upsert(book: Book, pipeline: Pipeline) -> None:
    from django.test.utils import CaptureQueriesContext

    deal = Opportunity.objects.get(pk=new_deal(book.owner).pk)
    with CaptureQueriesContext(connection) as queries:
        services.move_opportunity(
            actor=fresh(book.owner),
            opportunity=deal,
            stage=stage_named(pipeline, "Proposal"),
            expected_version=deal.version,
        )
    table = OpportunityRollup._meta.db_table
    upserts = [q["sql"] for q in queries.captured_queries if table in q["sql"]]
    # the deal's bucket read before (locked on PostgreSQL) and after the save
    measured = [q["sql"] for q in queries.captured_queries if "ROUND" in q["sql"].upper()]
    assert len(upserts) == 1 and "ON CONFLICT" in upserts[0]
    assert len(measured) == 2
    # A write that changes no bucket (the name) upserts nothing.
    deal = Opportunity.objects.get(pk=deal.pk)
    with CaptureQueriesContext(connection) as queries:
        services.update_opportunity(
            actor=fresh(book.owner),
            opportunity=deal,
            changes={"name": "Renamed"},
            expected_version=deal.version,
        )
    assert not [q for q in queries.captured_queries if table in q["sql"]]


# --------------------------------------------------------------------------------------------
# Concurrency (PostgreSQL)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_into_the_same_bucket_add_up() -> None:
    from cartera.core.testing import build_book

    book = build_book()
    pipeline = services.ensure_default_pipeline()
    proposal = stage_named(pipeline, "Proposal")
    deals = [new_deal(book.owner, amount=f"{index + 1}.00") for index in range(8)]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def mover(chunk: list[Opportunity]) -> None:
        try:
            barrier.wait()
            for deal in chunk:
                services.move_opportunity(
                    actor=book.owner,
                    opportunity=Opportunity.objects.get(pk=deal.pk),
                    stage=proposal,
                    expected_version=None,
                )
                # and back and forth, in opposite orders across threads
                back = Opportunity.objects.get(pk=deal.pk)
                services.update_opportunity(
                    actor=book.owner,
                    opportunity=back,
                    changes={"amount": str(back.amount + 1)},
                    expected_version=None,
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=mover, args=(deals[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert bucket(stage=proposal) == (8, 4400, 4400 * 50)  # Σ (1..8 + 1) = 44.00
    assert_rollups_consistent()
