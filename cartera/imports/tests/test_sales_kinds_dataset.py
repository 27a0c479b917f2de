"""The CRM Sales Opportunities data set through the product's own import, end to end:
people and teams → products → accounts → 8,800 opportunities, every row accounted for."""

from __future__ import annotations

import csv
import datetime as dt
import zoneinfo
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from cartera.accounts.models import Account
from cartera.catalog.models import PriceListItem, Product
from cartera.core.testing import Book
from cartera.imports.models import ImportJob, ImportStatus
from cartera.sales.models import Opportunity, OpportunityLine, Pipeline, StageChange, StageKind
from cartera.users.models import Role, Team, User

from .support import DATA, uploads

__all__ = ["uploads"]

CRM = DATA / "crm-sales-opportunities"
PIPELINE = "CRM Sales Opportunities"


def _rows(name: str) -> list[dict[str, str]]:
    with (CRM / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def import_data_set(admin: User) -> dict[str, ImportJob]:
    """The whole data set, as docs/import.md says (the commands R's reconciliation uses)."""
    common = ["--user", admin.email, "--no-progress"]
    call_command("import", "users", str(CRM / "sales_teams.csv"), *common)
    call_command(
        "import", "products", str(CRM / "products.csv"), "--default", "currency=USD", *common
    )
    call_command(
        "import", "accounts", str(CRM / "accounts.csv"),
        "--map", "revenue=annual_revenue_millions", "--default", "currency=USD", *common,
    )  # fmt: skip
    call_command(
        "import", "opportunities", str(CRM / "sales_pipeline.csv"),
        "--pipeline", PIPELINE, "--default", "currency=USD", *common,
    )  # fmt: skip
    jobs = ImportJob.objects.order_by("-pk")[:4]
    return {job.kind: job for job in jobs}


@pytest.mark.django_db(transaction=False)
def test_the_whole_data_set_imports_and_every_row_is_accounted_for(
    book: Book, uploads: Path, tmp_path: Path, capsys: Any
) -> None:
    teams = _rows("sales_teams.csv")
    products = _rows("products.csv")
    pipeline_rows = _rows("sales_pipeline.csv")
    jobs = import_data_set(book.admin)
    for job in jobs.values():
        assert job.status == ImportStatus.DONE, (job.kind, job.error_message)

    users = jobs["users"]
    assert (users.created_count, users.rejected_count) == (len(teams), 0)
    managers = {row["manager"] for row in teams}
    agents = User.objects.filter(full_name__in=[row["sales_agent"] for row in teams])
    assert agents.count() == 35
    assert set(agents.values_list("role", flat=True)) == {Role.SALES_REP}
    assert User.objects.filter(full_name__in=managers, role=Role.MANAGER).count() == len(managers)
    for row in teams:
        agent = User.objects.select_related("team__manager").get(full_name=row["sales_agent"])
        assert agent.team.manager.full_name == row["manager"]
        assert agent.team.office == row["regional_office"]
        assert not agent.has_usable_password()
    assert Team.objects.filter(name__in=managers).count() == len(managers)

    assert jobs["products"].created_count == len(products)
    for row in products:
        product = Product.objects.get(name=row["product"])
        assert product.family == row["series"]
        item = PriceListItem.objects.get(product=product, price_list__currency="USD")
        assert item.unit_price == Decimal(row["sales_price"])
    assert Product.objects.get(name="GTX Pro").sku == "GTX-PRO"

    opportunities = jobs["opportunities"]
    assert opportunities.processed_rows == len(pipeline_rows) == 8800
    assert (opportunities.created_count, opportunities.rejected_count) == (8800, 0)
    deals = Opportunity.objects.filter(pipeline__name=PIPELINE)
    assert deals.count() == 8800
    stages = Counter(row["deal_stage"] for row in pipeline_rows)
    assert Counter(deals.values_list("stage__name", flat=True)) == stages
    assert deals.filter(account=None).count() == sum(1 for r in pipeline_rows if not r["account"])
    won = [row for row in pipeline_rows if row["deal_stage"] == "Won"]
    assert sum(d.amount for d in deals.filter(status=StageKind.WON)) == sum(
        Decimal(row["close_value"]) for row in won
    )
    assert OpportunityLine.objects.filter(opportunity__in=deals).count() == 8800
    gtx_pro = sum(1 for row in pipeline_rows if row["product"] == "GTXPro")
    assert OpportunityLine.objects.filter(product__name="GTX Pro").count() == gtx_pro
    assert [s.name for s in Pipeline.objects.get(name=PIPELINE).stages.order_by("position")] == [
        "Prospecting", "Engaging", "Won", "Lost",
    ]  # fmt: skip

    # Re-running the whole file changes nothing.
    call_command(
        "import", "opportunities", str(CRM / "sales_pipeline.csv"), "--user", book.admin.email,
        "--pipeline", PIPELINE, "--default", "currency=USD", "--no-progress",
    )  # fmt: skip
    again = ImportJob.objects.order_by("-pk").first()
    assert again is not None
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 8800)
    assert StageChange.objects.filter(opportunity__in=deals).count() == sum(
        2 if row["deal_stage"] in {"Won", "Lost"} and row["engage_date"] else 1
        for row in pipeline_rows
    )
    imported = Account.objects.exclude(pk__in=[book.account.pk, book.outsider_account.pk])
    assert imported.count() == 85
    assert imported.filter(parent__isnull=False).count() == sum(
        1 for row in _rows("accounts.csv") if row["subsidiary_of"]
    )
    won_deal = deals.filter(status=StageKind.WON).exclude(created_at=None).first()
    assert won_deal is not None
    assert [c.to_stage.name for c in won_deal.stage_changes.order_by("changed_at")] == [
        "Engaging",
        "Won",
    ]
    # Days to close as the reports compute them: close date minus engage date.
    days = {
        row["opportunity_id"]: (
            dt.date.fromisoformat(row["close_date"]) - dt.date.fromisoformat(row["engage_date"])
        ).days
        for row in won
    }
    for deal in deals.filter(status=StageKind.WON).order_by("pk")[:200]:
        assert deal.closed_on is not None
        engaged = timezone.localdate(deal.created_at, zoneinfo.ZoneInfo(settings.TIME_ZONE))
        assert (deal.closed_on - engaged).days == days[deal.external_id]
