"""The acceptance check of issue 5: after importing the public CRM data set, the reports show
exactly what an independent computation on the raw files gives.

The expected figures come from ``dataset.py`` (the ``csv`` module and ``Decimal`` on the raw
files); the actual ones from the report selectors, as the pages and the API show them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stdout
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from cartera.reports import selectors
from cartera.reports.filters import ReportFilters
from cartera.users.models import Role, User

from .dataset import (
    RawData,
    crm_folder,
    expected_days_to_close,
    expected_win_rates,
    expected_won_value,
    month_of,
    quarter_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def raw() -> RawData:
    return RawData(crm_folder())


def import_data_set(folder: Path, admin: User) -> None:
    """The four files through ``cartera import``, as docs/import.md tells an administrator."""
    common = ["--user", admin.email, "--no-progress"]
    call_command("import", "users", str(folder / "sales_teams.csv"), *common)
    call_command(
        "import", "products", str(folder / "products.csv"), "--default", "currency=USD", *common
    )
    call_command(
        "import", "accounts", str(folder / "accounts.csv"),
        "--map", "revenue=annual_revenue_millions", "--default", "currency=USD", *common,
    )  # fmt: skip
    call_command(
        "import", "opportunities", str(folder / "sales_pipeline.csv"),
        "--pipeline", "CRM Sales Opportunities", "--default", "currency=USD", *common,
    )  # fmt: skip


@pytest.fixture(scope="module")
def imported(
    raw: RawData,
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """The data set imported once for the module, rolled back after its last test."""
    uploads = tmp_path_factory.mktemp("uploads")
    with (
        django_db_blocker.unblock(),
        override_settings(DATA_DIR=uploads),
        transaction.atomic(),
    ):
        admin = User.objects.create_user(
            "importer@example.com", None, full_name="Ivo Importer", role=Role.ADMIN
        )
        with redirect_stdout(io.StringIO()):
            import_data_set(crm_folder(), admin)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def director(imported: None) -> User:
    """A director, who sees every deal."""
    return User.objects.create_user(
        "director@example.com", None, full_name="Dora Director", role=Role.DIRECTOR
    )


def _filters(**values: Any) -> ReportFilters:
    return ReportFilters.model_validate(values)


def test_win_rates_per_agent_manager_and_office(raw: RawData, director: User) -> None:
    for by in ("owner", "manager", "office"):
        report = selectors.win_rate(director, _filters(by=by))
        actual = {row["label"]: (row["won"], row["lost"], row["win_rate"]) for row in report.rows}
        assert actual == expected_win_rates(raw, by), by


def test_win_rate_per_product(raw: RawData, director: User) -> None:
    report = selectors.win_rate(director, _filters(by="product"))
    actual = {row["label"]: (row["won"], row["lost"], row["win_rate"]) for row in report.rows}
    assert actual == expected_win_rates(raw, "product")


def test_won_value_per_product(raw: RawData, director: User) -> None:
    report = selectors.revenue_by_product(director, _filters())
    assert {row["currency"] for row in report.rows} == {"USD"}
    actual = {row["label"]: (row["deals"], row["revenue"]) for row in report.rows}
    assert actual == expected_won_value(raw, lambda deal: deal.product)
    assert sum(revenue for _, revenue in actual.values()) == Decimal("10005534.00")


def test_won_value_per_month_and_quarter(raw: RawData, director: User) -> None:
    for period, bucket in (("month", month_of), ("quarter", quarter_of)):
        report = selectors.revenue_by_period(director, _filters(period=period))
        actual = {row["label"]: (row["deals"], row["revenue"]) for row in report.rows}
        assert actual == expected_won_value(raw, bucket), period


def test_days_to_close_per_agent_manager_office_and_product(raw: RawData, director: User) -> None:
    for by in ("owner", "manager", "office", "product"):
        report = selectors.sales_cycle(director, _filters(by=by))
        actual = {row["label"]: (row["deals"], row["average_days"]) for row in report.rows}
        assert actual == expected_days_to_close(raw, by), by


def test_the_api_shows_the_same_figures(raw: RawData, director: User) -> None:
    from cartera.core.testing import client_for

    client = client_for(director)
    body = client.get("/api/v1/reports/win-rate", {"by": "office"}).json()
    actual = {
        row["label"]: (row["won"], row["lost"], Decimal(row["win_rate"])) for row in body["rows"]
    }
    assert actual == expected_win_rates(raw, "office")
    body = client.get("/api/v1/reports/revenue-by-period", {"period": "quarter"}).json()
    actual_value = {row["label"]: (row["deals"], Decimal(row["revenue"])) for row in body["rows"]}
    assert actual_value == expected_won_value(raw, quarter_of)


def test_an_agent_sees_only_their_own_figures(raw: RawData, imported: None) -> None:
    agent = User.objects.get(full_name="Darcel Schlecht")
    report = selectors.win_rate(agent, _filters(by="owner"))
    assert [(row["label"], row["won"], row["lost"]) for row in report.rows] == [
        ("Darcel Schlecht", *expected_win_rates(raw, "owner")["Darcel Schlecht"][:2])
    ]
