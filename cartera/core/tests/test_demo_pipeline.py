"""The demo's catalogue and deals (every size): realistic shapes, consistent rows, repeatable."""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from django.db import transaction
from django.db.models import Count, Sum
from django.test import TestCase, override_settings
from django.utils import timezone

from cartera.accounts.models import Account
from cartera.catalog.models import PriceList, PriceListItem, Product
from cartera.contacts.models import ContactAccount
from cartera.core.demo import PERSONAS, seed_demo, seed_scaled_demo
from cartera.sales.models import (
    Opportunity,
    OpportunityContact,
    OpportunityLine,
    StageChange,
    StageKind,
)
from cartera.users.models import User

SMALL = {"accounts": 40, "contacts": 150, "interactions": 300, "opportunities": 400}
TINY = {"accounts": 60, "contacts": 300, "interactions": 600, "opportunities": 500}


def check_deals() -> None:
    """Every deal's rows agree with each other (the invariants of any size)."""
    deals = list(
        Opportunity.objects.select_related("stage", "account").annotate(
            line_total=Sum("lines__unit_price"), changes=Count("stage_changes", distinct=True)
        )
    )
    assert deals
    today = timezone.localdate()
    for deal in deals:
        assert deal.status == deal.stage.kind
        assert deal.probability == deal.stage.probability
        assert deal.forecast_category == deal.stage.forecast_category
        assert deal.name_key and deal.search_text
        assert 1 <= deal.changes <= 5
        if deal.status == StageKind.OPEN:
            assert deal.closed_on is None and deal.loss_reason_id is None
        else:
            assert deal.closed_on is not None and deal.closed_on <= today
            assert (deal.loss_reason_id is not None) == (deal.status == StageKind.LOST)
        assert deal.currency in {"EUR", "USD"}
        assert deal.currency == "EUR" or deal.account.currency == "USD"
        assert deal.created_at <= deal.stage_entered_at <= timezone.now()
    # Amounts are the sum of their lines, at the price list of the deal's currency.
    totals: dict[int, Decimal] = {}
    for line in OpportunityLine.objects.select_related("opportunity"):
        assert line.product_id is not None
        totals[line.opportunity_id] = (
            totals.get(line.opportunity_id, Decimal(0)) + line.quantity * line.unit_price
        )
        assert PriceListItem.objects.filter(
            product_id=line.product_id,
            unit_price=line.unit_price,
            price_list__currency=line.opportunity.currency,
        ).exists()
    assert all(totals[deal.pk] == deal.amount for deal in deals)
    # The history walks the stages in order and ends where the deal is, when it got there.
    for deal in deals[:200]:
        changes = list(deal.stage_changes.order_by("changed_at", "pk"))
        assert changes[0].from_stage_id is None
        assert changes[-1].to_stage_id == deal.stage_id
        assert changes[-1].changed_at == deal.stage_entered_at
        for before, after in itertools.pairwise(changes):
            assert after.from_stage_id == before.to_stage_id
            assert after.changed_at >= before.changed_at
    # Deal contacts work at the deal's account.
    for role in OpportunityContact.objects.select_related("opportunity")[:300]:
        assert role.opportunity.account_id is not None
        assert ContactAccount.objects.filter(
            contact_id=role.contact_id, account_id=role.opportunity.account_id
        ).exists()


def shape() -> dict[str, float]:
    deals = Opportunity.objects.count()
    statuses = Counter(Opportunity.objects.values_list("status", flat=True))
    return {status: statuses[status] / deals for status in StageKind.values}


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class SmallDemoPipelineTests(TestCase):
    summary: ClassVar[Any]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.summary = seed_demo(seed=11, **SMALL)

    def test_the_catalogue_has_products_and_three_price_lists(self) -> None:
        assert 12 <= Product.objects.count() <= 20
        assert set(Product.objects.values_list("tax_rate", flat=True)) == {
            Decimal("21"),
            Decimal("10"),
            Decimal("0"),
        }
        lists = {p.name: p for p in PriceList.objects.all()}
        assert set(lists) == {"Tarifa general EUR", "Tarifa clientes A EUR", "Price list USD"}
        assert lists["Tarifa clientes A EUR"].segment == "a"
        general = dict(lists["Tarifa general EUR"].items.values_list("product_id", "unit_price"))
        tier_a = dict(lists["Tarifa clientes A EUR"].items.values_list("product_id", "unit_price"))
        assert set(general) == set(tier_a) == set(Product.objects.values_list("pk", flat=True))
        assert all(tier_a[pk] < general[pk] for pk in general)

    def test_deals_are_consistent_and_shaped_like_a_pipeline(self) -> None:
        assert self.summary.opportunities == Opportunity.objects.count() == 400
        check_deals()
        ratios = shape()
        assert 0.25 < ratios[StageKind.OPEN] < 0.45
        assert 0.30 < ratios[StageKind.WON] < 0.50
        assert 0.15 < ratios[StageKind.LOST] < 0.35
        amounts = sorted(Opportunity.objects.values_list("amount", flat=True))
        assert amounts[len(amounts) // 2] > Decimal("3000")
        assert Opportunity.objects.filter(currency="USD").exists()
        types = Counter(Opportunity.objects.values_list("type", flat=True))
        assert len(types) == 4
        assert types.most_common(1)[0][0] == "new_business"
        # Open deals mostly close ahead; some are overdue; some are stuck in their stage.
        today = timezone.localdate()
        open_deals = Opportunity.objects.filter(status=StageKind.OPEN)
        assert open_deals.filter(expected_close_date__gt=today).count() > (
            open_deals.filter(expected_close_date__lt=today).count()
        )
        assert open_deals.filter(expected_close_date__lt=today).exists()
        stuck = [
            deal
            for deal in open_deals.select_related("stage")
            if (timezone.now() - deal.stage_entered_at).days > (deal.stage.usual_days or 14)
        ]
        assert stuck
        assert StageChange.objects.exists() and OpportunityContact.objects.exists()

    def test_every_persona_who_sells_has_a_board(self) -> None:
        owners = set(Opportunity.objects.values_list("owner__email", flat=True))
        account_owners = set(Account.objects.values_list("owner__email", flat=True))
        assert account_owners <= owners | {None}
        for persona in PERSONAS:
            user = User.objects.get(email=persona.email)
            if user.can_write and user.email in account_owners:
                assert Opportunity.objects.filter(owner=user).exists(), persona.email


class _Rollback(Exception):
    """Undo a seeding once its digest is taken."""


def deals_digest() -> str:
    parts = [
        *Opportunity.objects.order_by("pk").values_list(
            "pk",
            "name",
            "account_id",
            "stage__name",
            "amount",
            "owner__email",
            "expected_close_date",
        ),
        # (People, products and stages take ids from sequences, which a rollback does not reset.)
        *OpportunityLine.objects.order_by("pk").values_list("product__sku", "unit_price"),
        *OpportunityLine.objects.order_by("pk").values_list("opportunity_id", "quantity"),
        *StageChange.objects.order_by("pk").values_list("opportunity_id", "changed_at"),
        *OpportunityContact.objects.order_by("pk").values_list("opportunity_id", "contact_id"),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@pytest.mark.django_db
def test_the_big_demos_have_consistent_deals_and_the_same_seed_gives_the_same_ones() -> None:
    digests = []
    for _attempt in range(2):
        try:
            with transaction.atomic():
                summary = seed_scaled_demo(seed=5, workers=1, **TINY)
                assert summary.opportunities == Opportunity.objects.count() == 500
                check_deals()
                digests.append(deals_digest())
                raise _Rollback
        except _Rollback:
            pass
    assert digests[0] == digests[1]
    assert not Opportunity.objects.exists()


def test_big_demos_default_to_three_deals_per_account() -> None:
    from cartera.core.demo import DEMO_OPPORTUNITIES, DEMO_SIZES, OPPORTUNITIES_PER_ACCOUNT

    assert DEMO_SIZES["medium"].accounts * OPPORTUNITIES_PER_ACCOUNT == 30_000
    assert DEMO_SIZES["large"].accounts * OPPORTUNITIES_PER_ACCOUNT == 300_000
    assert DEMO_OPPORTUNITIES["large"] == 300_000
