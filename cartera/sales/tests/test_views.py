"""Deal pages: list, detail, forms, board, forecast, settings; access and query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cartera.core.testing import PERSONAS, Book, client_for, fresh, read_status, write_status
from cartera.sales import selectors, services
from cartera.sales.filters import OpportunityFilters
from cartera.sales.models import Opportunity, Pipeline, Stage


def stage_named(pipeline: Pipeline, name: str) -> Stage:
    return Stage.objects.get(pipeline=pipeline, name=name)


def make_deals(book: Book, pipeline: Pipeline, count: int, **extra: object) -> list[Opportunity]:
    return [
        services.create_opportunity(
            actor=book.owner,
            data={
                "name": f"Deal {index:03}",
                "account": book.account,
                "amount": Decimal("100.10") * (index + 1),
                "expected_close_date": timezone.localdate() + dt.timedelta(days=index),
                **extra,
            },
        )
        for index in range(count)
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_detail_by_persona(book: Book, deal: Opportunity, persona: str) -> None:
    response = client_for(book.persona(persona)).get(reverse("sales:detail", args=[deal.pk]))
    assert response.status_code == read_status(persona)
    if response.status_code == 200:
        html = response.content.decode()
        assert "Fleet renewal" in html and "Stage history" in html
        assert ("Move to stage" in html) is fresh(book.persona(persona)).can_write


@pytest.mark.parametrize("persona", PERSONAS)
def test_edit_page_by_persona(book: Book, deal: Opportunity, persona: str) -> None:
    response = client_for(book.persona(persona)).get(reverse("sales:edit", args=[deal.pk]))
    assert response.status_code == write_status(persona)


def test_list_page_shows_visible_deals_and_filters(book: Book, deal: Opportunity) -> None:
    services.create_opportunity(actor=book.outsider, data={"name": "Nordic secret"})
    client = client_for(book.owner)
    html = client.get(reverse("sales:list")).content.decode()
    assert "Fleet renewal" in html and "Nordic secret" not in html
    html = client.get(reverse("sales:list") + "?type=renewal").content.decode()
    assert "No deals match" in html
    response = client.get(reverse("sales:list") + "?close_from=notadate")
    assert response.status_code == 422


def test_list_query_count_is_flat(
    book: Book, pipeline: Pipeline, django_assert_max_num_queries
) -> None:
    make_deals(book, pipeline, 30)
    client = client_for(book.owner)
    client.get(reverse("sales:list"))  # warm caches (session, content types)
    # session + user, scope (team members), page of deals, then filter bar: pipelines, teams,
    # owners; a fixed number whatever the row count.
    with django_assert_max_num_queries(12):
        response = client.get(reverse("sales:list"))
    assert response.status_code == 200 and response.content.decode().count("Deal 0") == 30


def test_create_form(book: Book, pipeline: Pipeline) -> None:
    client = client_for(book.owner)
    page = client.get(reverse("sales:create") + f"?account={book.account.pk}")
    assert page.status_code == 200 and "Muñoz Logística" in page.content.decode()
    first = services.first_open_stage(pipeline)
    response = client.post(
        reverse("sales:create"),
        {
            "name": "Form deal",
            "account": book.account.pk,
            "pipeline": pipeline.pk,
            "stage": first.pk,
            "type": "upsell",
            "amount": "2500.50",
            "currency": "eur",
            "expected_close_date": "2027-03-01",
            "owner": book.owner.pk,
            "next_step": "Call CFO",
        },
    )
    deal = Opportunity.objects.get(name="Form deal")
    assert response.status_code == 302 and response["Location"] == reverse(
        "sales:detail", args=[deal.pk]
    )
    assert deal.amount == Decimal("2500.50") and deal.currency == "EUR" and deal.type == "upsell"
    assert deal.probability == first.probability


def test_create_form_errors_stay_on_page(book: Book, pipeline: Pipeline) -> None:
    lost = services.lost_stage(pipeline)
    response = client_for(book.owner).post(
        reverse("sales:create"),
        {
            "name": "Lost on arrival",
            "pipeline": pipeline.pk,
            "stage": lost.pk,
            "type": "new_business",
            "amount": "10",
            "currency": "EUR",
            "owner": book.owner.pk,
        },
    )
    assert response.status_code == 422
    assert "Choose why the deal was lost" in response.content.decode()
    assert not Opportunity.objects.exists()


def test_read_only_cannot_open_create(book: Book, pipeline: Pipeline) -> None:
    assert client_for(book.read_only).get(reverse("sales:create")).status_code == 403


def test_edit_conflict_keeps_input(book: Book, deal: Opportunity) -> None:
    client = client_for(book.owner)
    data = {
        "name": "Renamed",
        "account": book.account.pk,
        "pipeline": deal.pipeline_id,
        "stage": deal.stage_id,
        "type": deal.type,
        "amount": "12000.00",
        "currency": "EUR",
        "owner": book.owner.pk,
        "version": deal.version,
    }
    services.update_opportunity(
        actor=book.teammate, opportunity=deal, changes={"next_step": "x"}, expected_version=1
    )
    response = client.post(reverse("sales:edit", args=[deal.pk]), data)
    assert response.status_code == 409
    assert "Someone else changed this deal" in response.content.decode()
    deal.refresh_from_db()
    assert deal.name == "Fleet renewal"
    data["version"] = deal.version
    response = client.post(reverse("sales:edit", args=[deal.pk]), data)
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.name == "Renamed"


def test_move_form_on_detail(book: Book, deal: Opportunity) -> None:
    proposal = stage_named(deal.pipeline, "Proposal")
    client = client_for(book.owner)
    response = client.post(
        reverse("sales:move", args=[deal.pk]), {"stage": proposal.pk, "version": deal.version}
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == proposal
    html = client.get(reverse("sales:detail", args=[deal.pk])).content.decode()
    assert "from Qualification" in html


def test_detail_shows_aging_badge(book: Book, deal: Opportunity) -> None:
    Opportunity.objects.filter(pk=deal.pk).update(
        stage_entered_at=timezone.now() - dt.timedelta(days=40)
    )
    html = client_for(book.owner).get(reverse("sales:detail", args=[deal.pk])).content.decode()
    assert "40 days in stage" in html and "text-bg-warning" in html


def test_contacts_and_products_from_detail(book: Book, deal: Opportunity) -> None:
    client = client_for(book.owner)
    page = client.get(reverse("sales:detail", args=[deal.pk])).content.decode()
    assert "José Pérez" in page  # offered from the deal's account
    client.post(
        reverse("sales:contact_add", args=[deal.pk]),
        {"contact": book.contact.pk, "role": "decision_maker"},
    )
    client.post(
        reverse("sales:line_add", args=[deal.pk]),
        {"description": "Setup", "quantity": "2", "unit_price": "50"},
    )
    html = client.get(reverse("sales:detail", args=[deal.pk])).content.decode()
    assert "Decision maker" in html and "Setup" in html
    deal.refresh_from_db()
    assert deal.amount == Decimal("100.00")


@pytest.mark.parametrize("persona", PERSONAS)
def test_board_by_persona(book: Book, deal: Opportunity, persona: str) -> None:
    response = client_for(book.persona(persona)).get(reverse("sales:board"))
    assert response.status_code == 200
    html = response.content.decode()
    assert ("Fleet renewal" in html) is (read_status(persona) == 200)
    assert 'data-can-write="true"' in html if fresh(book.persona(persona)).can_write else True


def test_board_columns_totals_and_limit(book: Book, pipeline: Pipeline) -> None:
    make_deals(book, pipeline, 7)
    services.create_opportunity(
        actor=book.owner, data={"name": "Dollar", "amount": "10.00", "currency": "USD"}
    )
    result = selectors.board(fresh(book.owner), pipeline, OpportunityFilters(), per_column=5)
    first = result.columns[0]
    assert first.count == 8 and len(first.cards) == 5 and first.has_more
    totals = {t.currency: t for t in first.totals}
    # 100.10 x (1 + ... + 7) = 2802.80; weighted at 10 %
    assert totals["EUR"].amount == Decimal("2802.80") and totals["EUR"].weighted == Decimal(
        "280.28"
    )
    assert totals["USD"].amount == Decimal("10.00") and totals["USD"].count == 1
    # Soonest expected close first (nulls last).
    assert [c.name for c in first.cards] == [
        "Deal 000",
        "Deal 001",
        "Deal 002",
        "Deal 003",
        "Deal 004",
    ]


def test_board_filters_and_closed_window(book: Book, pipeline: Pipeline) -> None:
    deals = make_deals(book, pipeline, 3)
    won = services.won_stage(pipeline)
    old = deals[0]
    services.move_opportunity(
        actor=book.owner,
        opportunity=old,
        stage=won,
        expected_version=old.version,
        changed_at=timezone.now() - dt.timedelta(days=200),
    )
    recent = deals[1]
    services.move_opportunity(
        actor=book.owner, opportunity=recent, stage=won, expected_version=recent.version
    )
    owner = fresh(book.owner)
    result = selectors.board(owner, pipeline, OpportunityFilters())
    won_column = next(c for c in result.columns if c.stage == won)
    assert [c.name for c in won_column.cards] == ["Deal 001"] and won_column.closed_since
    result = selectors.board(owner, pipeline, OpportunityFilters(close="this_year"))
    won_column = next(c for c in result.columns if c.stage == won)
    assert won_column.closed_since is None
    result = selectors.board(owner, pipeline, OpportunityFilters(type=["renewal"]))
    assert all(c.count == 0 for c in result.columns)
    result = selectors.board(owner, pipeline, OpportunityFilters(team=[book.team.pk]))
    assert result.columns[0].count == 1


def test_board_query_count_for_a_director(
    book: Book, pipeline: Pipeline, django_assert_num_queries
) -> None:
    make_deals(book, pipeline, 20)
    director = fresh(book.director)
    # stages, totals, one LIMITed read for the one non-empty column
    with django_assert_num_queries(3):
        selectors.board(director, pipeline, OpportunityFilters())


def test_board_query_count_is_flat(
    book: Book, pipeline: Pipeline, django_assert_num_queries
) -> None:
    make_deals(book, pipeline, 20)
    owner = fresh(book.owner)
    selectors.board(owner, pipeline, OpportunityFilters())  # scope cached on the user
    stages = Stage.objects.filter(pipeline=pipeline).count()
    # the accounts the owner sees (visibility), stages, totals (GROUP BY stage, currency), then
    # one LIMITed read per non-empty column (here one)
    with django_assert_num_queries(4):
        selectors.board(owner, pipeline, OpportunityFilters())
    assert stages == 6


def test_board_partial_for_some_columns(book: Book, deal: Opportunity) -> None:
    response = client_for(book.owner).get(
        reverse("sales:pipeline_board", args=[deal.pipeline_id]) + f"?stages={deal.stage_id}",
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.count("board-column") == 1
    assert "Fleet renewal" in html and "<html" not in html


def test_forecast_selector_groups_and_currencies(book: Book, pipeline: Pipeline) -> None:
    today = timezone.localdate()
    month = today.replace(day=1)

    def deal(name: str, amount: str, currency: str = "EUR", **data: object) -> Opportunity:
        return services.create_opportunity(
            actor=book.owner,
            data={
                "name": name,
                "amount": amount,
                "currency": currency,
                "expected_close_date": today,
                **data,
            },
        )

    deal("Commit", "1000.00", forecast_category="commit", probability=80)
    deal("Best", "500.00", forecast_category="best_case", probability=50)
    deal("Pipe", "300.00", probability=10)
    deal("Omitted", "999.00", forecast_category="omitted")
    deal("Dollars", "200.00", "USD", probability=25)
    won = deal("Won", "700.00")
    services.move_opportunity(
        actor=book.owner,
        opportunity=won,
        stage=services.won_stage(pipeline),
        expected_version=won.version,
    )
    services.create_opportunity(
        actor=book.outsider, data={"name": "Hidden", "amount": "5000", "expected_close_date": today}
    )
    result = selectors.forecast(
        fresh(book.owner), selectors.ForecastFilters(period="month", periods=1)
    )
    rows = {row.currency: row for row in result.rows}
    assert set(rows) == {"EUR", "USD"}
    eur = rows["EUR"].cells[month]
    assert eur.won == Decimal("700.00") and eur.won_count == 1
    assert eur.commit == Decimal("1000.00")
    assert eur.best_case == Decimal("1500.00")
    assert eur.pipeline == Decimal("1800.00") and eur.pipeline_count == 3
    assert eur.weighted == Decimal("1080.00")  # 800 + 250 + 30
    assert rows["USD"].cells[month].weighted == Decimal("50.00")
    director = selectors.forecast(
        fresh(book.director), selectors.ForecastFilters(period="month", periods=1)
    )
    assert {(r.label, r.currency) for r in director.rows} == {
        ("Olga Owner", "EUR"),
        ("Olga Owner", "USD"),
        ("Oscar Outsider", "EUR"),
    }
    teams = selectors.forecast(
        fresh(book.director), selectors.ForecastFilters(group="team", period="quarter", periods=1)
    )
    assert {r.label for r in teams.rows} == {"Iberia", "Nordics"}


def test_forecast_weighted_rounding_is_exact(book: Book, pipeline: Pipeline) -> None:
    today = timezone.localdate()
    for _ in range(3):
        services.create_opportunity(
            actor=book.owner,
            data={"name": "Odd", "amount": "0.05", "probability": 50, "expected_close_date": today},
        )
    result = selectors.forecast(
        fresh(book.owner), selectors.ForecastFilters(period="month", periods=1)
    )
    cell = result.rows[0].cells[today.replace(day=1)]
    # 3 x 0.025 = 0.075 → 0.08 (rounded once, on the sum)
    assert cell.pipeline == Decimal("0.15") and cell.weighted == Decimal("0.08")


def test_forecast_query_count(book: Book, pipeline: Pipeline, django_assert_num_queries) -> None:
    make_deals(book, pipeline, 15, forecast_category="commit")
    owner = fresh(book.owner)
    selectors.forecast(owner, selectors.ForecastFilters())
    # the accounts the owner sees (visibility), then one GROUP BY
    with django_assert_num_queries(2):
        result = selectors.forecast(owner, selectors.ForecastFilters())
    assert sum(row.total.commit_count for row in result.rows) == 15


def test_forecast_page_links_to_deals(book: Book, deal: Opportunity) -> None:
    services.update_opportunity(
        actor=book.owner,
        opportunity=deal,
        changes={"expected_close_date": timezone.localdate(), "forecast_category": "commit"},
        expected_version=deal.version,
    )
    client = client_for(book.owner)
    response = client.get(reverse("sales:forecast") + "?period=month&periods=2")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Olga Owner" in html
    import re

    links = re.findall(r'href="(/deals/\?[^"]*forecast_category=commit[^"]*)"', html)
    assert links
    listing = client.get(links[0].replace("&amp;", "&")).content.decode()
    assert "Fleet renewal" in listing
    assert client.get(reverse("sales:forecast") + "?period=week").status_code == 422


@pytest.mark.parametrize("persona", PERSONAS)
def test_settings_only_for_admins_and_directors(
    book: Book, pipeline: Pipeline, persona: str
) -> None:
    response = client_for(book.persona(persona)).get(reverse("sales:settings"))
    assert response.status_code == (200 if persona in {"admin", "director"} else 403)


def test_settings_flow(book: Book, pipeline: Pipeline) -> None:
    client = client_for(book.admin)
    response = client.post(
        reverse("sales:settings"), {"pipeline-name": "Partners", "pipeline-is_active": "on"}
    )
    created = Pipeline.objects.get(name="Partners")
    assert response.status_code == 302
    url = reverse("sales:pipeline_edit", args=[created.pk])
    client.post(
        url,
        {
            "action": "add_stage",
            "new-name": "Pilot",
            "new-probability": "40",
            "new-kind": "open",
            "new-forecast_category": "best_case",
            "new-usual_days": "30",
        },
    )
    pilot = Stage.objects.get(pipeline=created, name="Pilot")
    assert pilot.usual_days == 30 and pilot.position == 6
    client.post(url, {"action": "up", "stage": pilot.pk})
    pilot.refresh_from_db()
    assert pilot.position == 5
    prefix = f"stage-{pilot.pk}"
    client.post(
        url,
        {
            "action": "edit_stage",
            "stage": pilot.pk,
            f"{prefix}-name": "Pilot run",
            f"{prefix}-probability": "45",
            f"{prefix}-kind": "open",
            f"{prefix}-forecast_category": "commit",
            f"{prefix}-usual_days": "",
        },
    )
    pilot.refresh_from_db()
    assert (pilot.name, pilot.probability, pilot.usual_days) == ("Pilot run", 45, None)
    client.post(url, {"action": "delete_stage", "stage": pilot.pk})
    assert not Stage.objects.filter(pk=pilot.pk).exists()
    client.post(reverse("sales:settings"), {"reason-name": "Weather", "reason-is_active": "on"})
    from cartera.sales.models import LossReason

    reason = LossReason.objects.get(name="Weather")
    client.post(reverse("sales:loss_reason_toggle", args=[reason.pk]))
    reason.refresh_from_db()
    assert not reason.is_active


def test_settings_refuses_deleting_stage_with_deals(book: Book, deal: Opportunity) -> None:
    client = client_for(book.admin)
    url = reverse("sales:pipeline_edit", args=[deal.pipeline_id])
    response = client.post(url, {"action": "delete_stage", "stage": deal.stage_id}, follow=True)
    assert "move them to another stage first" in response.content.decode()
    assert Stage.objects.filter(pk=deal.stage_id).exists()


def test_account_deals_partial(book: Book, deal: Opportunity, django_assert_num_queries) -> None:
    from django.template.loader import render_to_string

    owner = fresh(book.owner)
    selectors.account_opportunities(owner, book.account)
    # the accounts the owner sees (visibility), then the deals
    with django_assert_num_queries(2):
        deals = selectors.account_opportunities(owner, book.account)
    html = render_to_string(
        "sales/partials/account_deals.html",
        {"deals": deals, "account": book.account, "user": owner},
    )
    assert "Fleet renewal" in html and "New deal" in html
    assert selectors.account_opportunities(fresh(book.outsider), book.account) == []


def test_export_from_list(book: Book, deal: Opportunity) -> None:
    response = client_for(book.owner).get(reverse("sales:export") + "?format=xlsx&status=open")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client_for(book.owner).get(reverse("sales:export") + "?format=pdf").status_code in {
        400,
        422,
    }


def test_detail_page_queries_do_not_grow(book: Book, deal: Opportunity) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(book.owner)
    url = reverse("sales:detail", args=[deal.pk])
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(context)

    before = count()
    stages = list(Stage.objects.filter(pipeline=deal.pipeline, kind="open").order_by("position"))
    for index in range(6):
        services.add_opportunity_line(
            actor=book.owner,
            opportunity=deal,
            data={"description": f"Line {index}", "unit_price": "10"},
        )
        deal.refresh_from_db()
        services.move_opportunity(
            actor=book.owner,
            opportunity=deal,
            stage=stages[(index + 1) % len(stages)],
            expected_version=deal.version,
        )
    assert count() == before


def test_stuck_filter(book: Book, pipeline: Pipeline) -> None:
    stuck, fresh_deal = make_deals(book, pipeline, 2)
    Opportunity.objects.filter(pk=stuck.pk).update(
        stage_entered_at=timezone.now() - dt.timedelta(days=30)  # first stage: usually 14
    )
    page = selectors.opportunity_list(fresh(book.owner), OpportunityFilters(stuck=True))
    assert [deal.pk for deal in page.items] == [stuck.pk]
    assert page.items[0].is_stuck and page.items[0].days_in_stage == 30
    assert fresh_deal.pk not in [deal.pk for deal in page.items]


def test_edit_lost_deal_with_retired_reason(book: Book, deal: Opportunity) -> None:
    from cartera.sales.models import LossReason

    reason = LossReason.objects.filter(is_active=True).first()
    assert reason is not None
    services.move_opportunity(
        actor=book.owner,
        opportunity=deal,
        stage=services.lost_stage(deal.pipeline),
        expected_version=deal.version,
        loss_reason=reason,
    )
    services.update_loss_reason(actor=book.admin, reason=reason, changes={"is_active": False})
    deal.refresh_from_db()
    client = client_for(book.owner)
    response = client.post(
        reverse("sales:edit", args=[deal.pk]),
        {
            "name": "Lost but renamed",
            "pipeline": deal.pipeline_id,
            "stage": deal.stage_id,
            "type": deal.type,
            "amount": "12000.00",
            "currency": "EUR",
            "owner": book.owner.pk,
            "loss_reason": reason.pk,
            "version": deal.version,
        },
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.name == "Lost but renamed" and deal.loss_reason == reason
