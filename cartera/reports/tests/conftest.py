"""Deals for the reports' tests, made through the sales services as a user would."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from cartera.catalog.models import Product
from cartera.core.testing import Book
from cartera.sales.models import LossReason, Opportunity, Pipeline, Stage
from cartera.sales.services import (
    add_opportunity_line,
    create_opportunity,
    ensure_default_pipeline,
    lost_stage,
    move_opportunity,
    won_stage,
)
from cartera.users.models import User


@dataclass
class Deals:
    """The book's deals: the team's (owner, teammate) and the outsider's."""

    book: Book
    pipeline: Pipeline
    stages: list[Stage]
    won_big: Opportunity
    won_usd: Opportunity
    lost: Opportunity
    open_proposal: Opportunity
    open_teammate: Opportunity
    outsider_won: Opportunity
    widget: Product
    gadget: Product


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10)))


def make_deal(actor: User, *, created: dt.date, **data: Any) -> Opportunity:
    """A deal created on ``created`` (as an import would date it)."""
    deal = create_opportunity(actor=actor, data={"name": "Deal", **data})
    Opportunity.objects.filter(pk=deal.pk).update(created_at=_at(created))
    deal.refresh_from_db()
    return deal


def close(actor: User, deal: Opportunity, stage: Stage, day: dt.date) -> Opportunity:
    """Move ``deal`` to ``stage`` on ``day`` (a lost stage gets the first loss reason)."""
    reason = LossReason.objects.order_by("position").first() if stage.kind == "lost" else None
    return move_opportunity(
        actor=actor,
        opportunity=deal,
        stage=stage,
        expected_version=deal.version,
        loss_reason=reason,
        changed_at=_at(day),
    )


@pytest.fixture
def deals(book: Book) -> Deals:
    """Five team deals (two won, one lost, two open) and the outsider's won deal."""
    pipeline = ensure_default_pipeline()
    stages = list(pipeline.stages.order_by("position"))
    won, lost = won_stage(pipeline), lost_stage(pipeline)
    widget = Product.objects.create(sku="W-1", name="Widget")
    gadget = Product.objects.create(sku="G-1", name="Gadget")
    owner, teammate = book.owner, book.teammate

    won_big = make_deal(
        owner, created=dt.date(2026, 1, 5), account=book.account, amount="1000", currency="EUR"
    )
    add_opportunity_line(
        actor=owner, opportunity=won_big, data={"product": widget.pk, "unit_price": "600"}
    )
    add_opportunity_line(
        actor=owner,
        opportunity=won_big,
        data={"product": gadget.pk, "unit_price": "500", "discount_percent": "20"},
    )
    won_big.refresh_from_db()
    move_opportunity(
        actor=owner,
        opportunity=won_big,
        stage=stages[2],
        expected_version=won_big.version,
        changed_at=_at(dt.date(2026, 1, 20)),
    )
    won_big.refresh_from_db()
    won_big = close(owner, won_big, won, dt.date(2026, 2, 4))  # 30 days, 1000 EUR

    won_usd = make_deal(owner, created=dt.date(2026, 3, 1), amount="250.50", currency="USD")
    add_opportunity_line(
        actor=owner, opportunity=won_usd, data={"product": widget.pk, "unit_price": "250.50"}
    )
    won_usd.refresh_from_db()
    won_usd = close(owner, won_usd, won, dt.date(2026, 4, 10))  # 40 days, 250.50 USD

    lost_deal = make_deal(teammate, created=dt.date(2026, 1, 10), amount="300", currency="EUR")
    lost_deal = close(teammate, lost_deal, lost, dt.date(2026, 1, 30))  # 20 days

    open_proposal = make_deal(owner, created=dt.date(2026, 4, 1), amount="800", currency="EUR")
    open_proposal = move_opportunity(
        actor=owner,
        opportunity=open_proposal,
        stage=stages[2],
        expected_version=open_proposal.version,
    )
    open_teammate = make_deal(teammate, created=dt.date(2026, 4, 2), amount="100", currency="EUR")

    outsider_won = make_deal(
        book.outsider,
        created=dt.date(2026, 1, 1),
        account=book.outsider_account,
        amount="700",
        currency="EUR",
    )
    outsider_won = close(book.outsider, outsider_won, won, dt.date(2026, 1, 11))  # 10 days
    return Deals(
        book=book,
        pipeline=pipeline,
        stages=stages,
        won_big=won_big,
        won_usd=won_usd,
        lost=lost_deal,
        open_proposal=open_proposal,
        open_teammate=open_teammate,
        outsider_won=outsider_won,
        widget=widget,
        gadget=gadget,
    )
