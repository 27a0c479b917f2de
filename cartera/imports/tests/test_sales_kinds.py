"""The pipeline kinds on small files: people and teams, products, opportunities (with the
quirks of the CRM data set: empty engage dates, open deals without close date or value,
``GTXPro`` for ``GTX Pro``, unknown agents and accounts)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from cartera.accounts.services import create_account
from cartera.catalog.models import PriceList, PriceListItem, Product
from cartera.core.errors import Forbidden, InvalidInput
from cartera.core.testing import Book
from cartera.imports import services
from cartera.imports.models import ImportStatus
from cartera.sales.models import (
    Opportunity,
    OpportunityLine,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)
from cartera.sales.services import ensure_default_pipeline
from cartera.users.models import Role, Team, User

from .support import counts, csv_bytes, dry_counts, error_csv, run_import, upload, uploads

__all__ = ["uploads"]

TEAMS = csv_bytes(
    [
        ["sales_agent", "manager", "regional_office"],
        ["Anna Snelling", "Dustin Brinkmann", "Central"],
        ["Cecily Lampkin", "Dustin Brinkmann", "Central"],
        ["Moses Frase", "Melvin Marxen", "East"],
    ]
)
PRODUCTS = csv_bytes(
    [
        ["product", "series", "sales_price"],
        ["GTX Basic", "GTX", "550"],
        ["GTX Pro", "GTX", "4821"],
        ["MG Special", "MG", "55"],
    ]
)
PIPELINE_HEADER = [
    "opportunity_id",
    "sales_agent",
    "product",
    "account",
    "deal_stage",
    "engage_date",
    "close_date",
    "close_value",
]
DEALS = [
    ["1C1I7A6R", "Anna Snelling", "GTX Basic", "Cancity", "Won", "2016-10-20", "2017-03-01", "588"],
    ["Z063OYW0", "Anna Snelling", "GTXPro", "Cancity", "Lost", "2016-10-25", "2017-03-11", "0"],
    ["EC4QE1BX", "Moses Frase", "MG Special", "", "Engaging", "2017-06-02", "", ""],
    ["MV1LWRNH", "Moses Frase", "GTX Pro", "", "Prospecting", "", "", ""],
    ["PE84CX4O", "Nobody Known", "GTX Basic", "Cancity", "Won", "2016-10-25", "2017-03-09", "5"],
    ["ZNBS69V1", "Moses Frase", "GTX Basic", "Unknown Co", "Won", "2016-10-25", "2017-03-09", "5"],
]
PIPELINE = "CRM"


def _deals(rows: list[list[str]]) -> bytes:
    return csv_bytes([PIPELINE_HEADER, *rows])


def import_people(admin: User, content: bytes = TEAMS, **options: Any) -> Any:
    return run_import(admin, content, kind="users", name="sales_teams.csv", **options)


def import_products(actor: User, content: bytes = PRODUCTS, **options: Any) -> Any:
    options.setdefault("defaults", {"currency": "USD"})
    return run_import(actor, content, kind="products", name="products.csv", **options)


def import_deals(actor: User, rows: list[list[str]] = DEALS, **options: Any) -> Any:
    options.setdefault("defaults", {"currency": "USD", "pipeline": PIPELINE})
    return run_import(actor, _deals(rows), kind="opportunities", name="pipeline.csv", **options)


@pytest.fixture
def catalogue(book: Book, uploads: Path) -> Book:
    """People, products and the account of the sample deals, imported."""
    import_people(book.admin)
    import_products(book.admin)
    create_account(actor=book.admin, data={"name": "Cancity"})
    return book


# --- people and teams --------------------------------------------------------------------------


@pytest.mark.django_db
def test_people_teams_and_managers_come_from_a_sales_teams_file(book: Book, uploads: Path) -> None:
    job = import_people(book.admin)
    assert job.status == ImportStatus.DONE
    assert counts(job) == (3, 0, 0, 0)
    anna = User.objects.select_related("team__manager").get(full_name="Anna Snelling")
    assert anna.email == "anna.snelling@imported.invalid"
    assert anna.role == Role.SALES_REP
    assert not anna.has_usable_password()
    assert anna.team is not None and anna.team.name == "Dustin Brinkmann"
    assert anna.team.office == "Central"
    dustin = anna.team.manager
    assert dustin is not None and dustin.full_name == "Dustin Brinkmann"
    assert dustin.role == Role.MANAGER and dustin.team == anna.team
    moses = User.objects.get(full_name="Moses Frase")
    assert moses.team is not None and moses.team.office == "East"
    assert Team.objects.filter(name__in=["Dustin Brinkmann", "Melvin Marxen"]).count() == 2
    # Audited, attributed to the importing person and the job.
    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(User), object_id=anna.pk
    )
    assert entry.actor == book.admin
    assert entry.additional_data["import_job"] == job.pk
    assert "password" not in entry.changes_dict
    assert (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Team), additional_data__import_job=job.pk
        ).count()
        == 2
    )


@pytest.mark.django_db
def test_people_re_import_is_unchanged_and_a_dry_run_writes_nothing(
    book: Book, uploads: Path
) -> None:
    dry = import_people(book.admin, dry_run=True)
    assert dry_counts(dry) == (3, 0, 0, 0)
    assert not User.objects.filter(full_name="Anna Snelling").exists()
    assert not Team.objects.filter(name="Dustin Brinkmann").exists()
    import_people(book.admin)
    entries = LogEntry.objects.count()
    again = import_people(book.admin)
    assert counts(again) == (0, 0, 3, 0)
    assert LogEntry.objects.count() == entries
    moved = csv_bytes(
        [["sales_agent", "manager", "regional_office"], ["Anna Snelling", "Melvin Marxen", "East"]]
    )
    job = import_people(book.admin, moved)
    assert counts(job) == (0, 1, 0, 0)
    anna = User.objects.select_related("team").get(full_name="Anna Snelling")
    assert anna.team is not None and anna.team.name == "Melvin Marxen"


@pytest.mark.django_db
def test_people_get_emails_on_the_chosen_domain_and_existing_people_are_found(
    book: Book, uploads: Path
) -> None:
    content = csv_bytes(
        [
            ["Name", "Email", "Manager", "Office"],
            ["Ana Núñez", "", "Manu Manager", "Madrid"],
            ["Olga Owner", "owner@example.com", "", ""],
        ]
    )
    job = import_people(book.admin, content, defaults={"email_domain": "acme.example"})
    assert counts(job) == (1, 0, 1, 0)
    ana = User.objects.select_related("team").get(full_name="Ana Núñez")
    assert ana.email == "ana.nunez@acme.example"
    assert ana.team == book.team  # the team Manu already manages
    book.team.refresh_from_db()
    assert book.team.office == "Madrid"
    # Naming someone as a manager makes them one, with a team of their own.
    content = csv_bytes([["Name", "Manager"], ["Ana Núñez", "Olga Owner"]])
    job = import_people(book.admin, content)
    assert counts(job) == (0, 1, 0, 0)
    olga = User.objects.get(pk=book.owner.pk)
    assert olga.role == Role.MANAGER
    assert Team.objects.get(manager=olga).name == "Olga Owner"
    assert User.objects.get(full_name="Ana Núñez").team == Team.objects.get(manager=olga)
    assert counts(import_people(book.admin, content)) == (0, 0, 1, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["director", "manager", "owner", "read_only"])
def test_only_administrators_import_people(book: Book, uploads: Path, persona: str) -> None:
    with pytest.raises(Forbidden):
        upload(book.persona(persona), TEAMS, kind="users", name="t.csv")


# --- products ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_products_with_skus_families_and_list_prices(book: Book, uploads: Path) -> None:
    job = import_products(book.director)
    assert counts(job) == (3, 0, 0, 0)
    pro = Product.objects.get(name="GTX Pro")
    assert (pro.sku, pro.family) == ("GTX-PRO", "GTX")
    price_list = PriceList.objects.get(currency="USD", segment="")
    assert price_list.name == "List prices USD"
    assert PriceListItem.objects.get(product=pro, price_list=price_list).unit_price == Decimal(
        "4821.00"
    )
    assert counts(import_products(book.director)) == (0, 0, 3, 0)
    cheaper = csv_bytes([["product", "series", "sales_price"], ["GTX Pro", "GTX", "4500.50"]])
    job = import_products(book.director, cheaper)
    assert counts(job) == (0, 1, 0, 0)
    item = PriceListItem.objects.get(product=pro, price_list=price_list)
    assert item.unit_price == Decimal("4500.50")
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(PriceListItem),
        additional_data__import_job=job.pk,
    ).get()
    assert entry.changes_dict["unit_price"] == ["4821.00", "4500.50"]
    assert entry.actor == book.director


@pytest.mark.django_db
def test_products_by_sku_and_bad_values(book: Book, uploads: Path) -> None:
    content = csv_bytes(
        [
            ["SKU", "Name", "Price", "Tax rate", "Unit"],
            ["a-1", "Alpha", "10", "21%", "hour"],
            ["", "Beta", "abc", "", ""],
            ["", "Gamma", "1", "150", ""],
        ]
    )
    job = import_products(book.admin, content, defaults={"currency": "EUR"})
    assert counts(job) == (1, 0, 0, 2)
    alpha = Product.objects.get(sku="A-1")
    assert (alpha.tax_rate, alpha.unit) == (Decimal("21.00"), "hour")
    reasons = " ".join(line[-1] for line in error_csv(job)[1:])
    assert "0 to 100" in reasons


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["manager", "owner", "read_only"])
def test_only_administrators_and_directors_import_products(
    book: Book, uploads: Path, persona: str
) -> None:
    with pytest.raises(Forbidden):
        upload(book.persona(persona), PRODUCTS, kind="products", name="p.csv")


# --- opportunities -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_opportunities_with_the_data_sets_quirks(catalogue: Book) -> None:
    job = import_deals(catalogue.admin)
    assert job.status == ImportStatus.DONE
    assert counts(job) == (4, 0, 0, 2)
    reasons = {line[-3]: line[-1] for line in error_csv(job)[1:]}
    assert "Nobody Known" in reasons["6"] and "sales_agent" in reasons["6"]
    assert "Unknown Co" in reasons["7"]

    pipeline = Pipeline.objects.get(name=PIPELINE)
    assert [(s.name, s.kind) for s in pipeline.stages.order_by("position")] == [
        ("Prospecting", StageKind.OPEN),
        ("Engaging", StageKind.OPEN),
        ("Won", StageKind.WON),
        ("Lost", StageKind.LOST),
    ]
    won = Opportunity.objects.get(external_id="1C1I7A6R")
    assert won.name == "GTX Basic — Cancity"
    assert won.owner.full_name == "Anna Snelling"
    assert won.account is not None and won.account.name == "Cancity"
    assert (won.status, won.probability) == (StageKind.WON, 100)
    assert (won.amount, won.currency) == (Decimal("588.00"), "USD")
    assert won.closed_on == won.expected_close_date == dt.date(2017, 3, 1)
    assert won.created_at.astimezone(dt.UTC).date() == dt.date(2016, 10, 20)
    line = OpportunityLine.objects.get(opportunity=won)
    assert (line.product.name, line.quantity, line.unit_price) == (
        "GTX Basic",
        Decimal("1"),
        Decimal("588.00"),
    )
    history = list(StageChange.objects.filter(opportunity=won).order_by("changed_at"))
    assert [(c.from_stage and c.from_stage.name, c.to_stage.name) for c in history] == [
        (None, "Engaging"),
        ("Engaging", "Won"),
    ]
    assert [c.changed_at.date() for c in history] == [dt.date(2016, 10, 20), dt.date(2017, 3, 1)]
    assert history[0].changed_by == catalogue.admin
    assert won.stage_entered_at == history[-1].changed_at

    lost = Opportunity.objects.get(external_id="Z063OYW0")
    assert lost.status == StageKind.LOST and lost.amount == Decimal("0")
    lost_line = OpportunityLine.objects.get(opportunity=lost)
    assert lost_line.product.name == "GTX Pro"  # GTXPro
    assert lost_line.unit_price == Decimal("4821.00")  # no value: the list price

    engaging = Opportunity.objects.get(external_id="EC4QE1BX")
    assert engaging.account is None and engaging.name == "MG Special — No account"
    assert engaging.status == StageKind.OPEN and engaging.closed_on is None
    assert engaging.amount == Decimal("55.00")  # open: the list price
    assert [c.changed_at.date() for c in engaging.stage_changes.all()] == [dt.date(2017, 6, 2)]

    prospect = Opportunity.objects.get(external_id="MV1LWRNH")
    assert prospect.stage.name == "Prospecting" and prospect.amount == Decimal("4821.00")
    assert prospect.stage_changes.count() == 1

    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Opportunity), object_id=won.pk
    )
    assert entry.actor == catalogue.admin and entry.additional_data["import_job"] == job.pk


@pytest.mark.django_db
def test_opportunities_re_import_is_unchanged_and_a_dry_run_writes_nothing(
    catalogue: Book,
) -> None:
    dry = import_deals(catalogue.admin, dry_run=True)
    assert dry_counts(dry) == (4, 0, 0, 2)
    assert not Opportunity.objects.exists() and not Pipeline.objects.filter(name=PIPELINE).exists()
    import_deals(catalogue.admin)
    entries, history = LogEntry.objects.count(), StageChange.objects.count()
    again = import_deals(catalogue.admin)
    assert counts(again) == (0, 0, 4, 2)
    assert (LogEntry.objects.count(), StageChange.objects.count()) == (entries, history)
    assert dry_counts(import_deals(catalogue.admin, dry_run=True)) == (0, 0, 4, 2)

    # The deal moves on: Engaging → Won, one stage change more, dated by its close date.
    moved = [["EC4QE1BX", "Moses Frase", "MG Special", "", "Won", "2017-06-02", "2017-07-01", "60"]]
    job = import_deals(catalogue.admin, moved)
    assert counts(job) == (0, 1, 0, 0)
    deal = Opportunity.objects.get(external_id="EC4QE1BX")
    assert (deal.status, deal.amount, deal.closed_on) == (
        StageKind.WON,
        Decimal("60.00"),
        dt.date(2017, 7, 1),
    )
    assert deal.version == 2
    last = deal.stage_changes.order_by("-changed_at").first()
    assert last is not None and last.to_stage.name == "Won" and last.from_stage is not None
    assert last.changed_at.date() == dt.date(2017, 7, 1)
    assert OpportunityLine.objects.get(opportunity=deal).unit_price == Decimal("60.00")


@pytest.mark.django_db
def test_stages_the_default_pipeline_lacks_are_rejected_or_mapped(catalogue: Book) -> None:
    pipeline = ensure_default_pipeline()
    defaults = {"currency": "USD"}
    job = import_deals(catalogue.admin, DEALS[:4], defaults=defaults)
    assert counts(job) == (2, 0, 0, 2)  # Won and Lost exist; Engaging, Prospecting do not
    reasons = " ".join(line[-1] for line in error_csv(job)[1:])
    assert "no stage called Engaging" in reasons and "--map-stage" in reasons
    job = import_deals(
        catalogue.admin,
        DEALS[:4],
        defaults=defaults,
        kind_options={"stage_map": {"Engaging": "Qualification", "Prospecting": "Qualification"}},
    )
    assert counts(job) == (2, 0, 2, 0)
    deal = Opportunity.objects.get(external_id="EC4QE1BX")
    assert deal.pipeline == pipeline and deal.stage.name == "Qualification"
    # Adding stages: an administrator's choice; they are placed by their usual probability.
    job = import_deals(
        catalogue.admin,
        [["NEW1", "Moses Frase", "GTX Basic", "", "Demo", "", "", ""]],
        defaults=defaults,
        kind_options={"add_stages": True},
    )
    assert counts(job) == (1, 0, 0, 0)
    names = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert names.index("Demo") == names.index("Needs analysis") + 1
    assert Stage.objects.filter(pipeline=pipeline, name="Demo").count() == 1


@pytest.mark.django_db
def test_a_rep_imports_only_deals_of_people_they_may_assign(catalogue: Book) -> None:
    owner = catalogue.owner
    rows = [
        ["D1", "Olga Owner", "GTX Basic", "Muñoz Logística", "Won", "", "2024-01-02", "10"],
        ["D2", "Anna Snelling", "GTX Basic", "", "Won", "", "2024-01-02", "10"],
        ["D3", "Olga Owner", "GTX Basic", "Nordic Fisk AB", "Won", "", "2024-01-02", "10"],
    ]
    ensure_default_pipeline()
    job = import_deals(owner, rows, defaults={"currency": "EUR"})
    assert counts(job) == (1, 0, 0, 2)  # not Anna's; not the outsider's account
    deal = Opportunity.objects.get(external_id="D1")
    assert deal.owner == owner and deal.account == catalogue.account
    # A deal the rep cannot see is not changed by their import.
    hidden = [["D2", "Anna Snelling", "GTX Basic", "", "Won", "", "2024-01-02", "10"]]
    import_deals(catalogue.admin, hidden, defaults={"currency": "EUR"})
    job = import_deals(
        owner, [[*hidden[0][:1], "Olga Owner", *hidden[0][2:]]], defaults={"currency": "EUR"}
    )
    assert counts(job) == (0, 0, 0, 1)
    assert "not one you may change" in error_csv(job)[1][-1]
    # A rep cannot create a pipeline either.
    job = import_deals(owner, [["D9", "Olga Owner", "GTX Basic", "", "Won", "", "", "1"]])
    assert counts(job) == (0, 0, 0, 1)
    assert "no pipeline called CRM" in error_csv(job)[1][-1]


@pytest.mark.django_db
def test_read_only_people_cannot_import_deals(catalogue: Book) -> None:
    with pytest.raises(Forbidden):
        upload(catalogue.read_only, _deals(DEALS), kind="opportunities", name="p.csv")


@pytest.mark.django_db
def test_opportunities_need_a_stage_column_and_valid_options(catalogue: Book) -> None:
    job = upload(catalogue.admin, _deals(DEALS), kind="opportunities", name="p.csv")
    assert job.mapping["deal_stage"] == "stage"
    assert job.mapping["engage_date"] == "engaged_on"
    assert job.mapping["close_value"] == "amount"
    with pytest.raises(InvalidInput) as raised:
        services.set_mapping(
            actor=catalogue.admin,
            job=job,
            mapping={"opportunity_id": "external_id"},
            match_order=["external_id"],
        )
    assert "stage" in " ".join(raised.value.field_errors["mapping"])
    with pytest.raises(InvalidInput):
        services.set_mapping(
            actor=catalogue.admin,
            job=job,
            mapping=job.mapping,
            match_order=["external_id"],
            kind_options={"stage_map": "Engaging"},
        )


@pytest.mark.django_db
def test_unknown_products_and_empty_stages_reject_their_row(catalogue: Book) -> None:
    rows = [
        ["X1", "Moses Frase", "GTX Ultra", "", "Won", "", "2017-01-01", "1"],
        ["X2", "Moses Frase", "GTX Basic", "", "", "", "", ""],
        ["X3", "Moses Frase", "gtx-basic", "", "Won", "", "31/01/2017", "1"],
    ]
    job = import_deals(catalogue.admin, rows)
    assert counts(job) == (1, 0, 0, 2)
    reasons = {line[-3]: line[-1] for line in error_csv(job)[1:]}
    assert "GTX Ultra" in reasons["2"]
    assert "stage" in reasons["3"].lower()
    assert Opportunity.objects.get(external_id="X3").closed_on == dt.date(2017, 1, 31)


@pytest.mark.django_db
def test_a_crashed_opportunities_import_resumes_and_still_adds_the_stages(
    catalogue: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cartera.imports import engine

    from .test_engine_resume import crash_on_batch

    monkeypatch.setattr(engine, "BATCH_SIZE", 3)
    crash_on_batch(monkeypatch, 2, RuntimeError("power cut"))
    job = import_deals(catalogue.admin)
    assert job.status == ImportStatus.FAILED
    assert job.checkpoint_row == 4
    assert Opportunity.objects.count() == 3
    monkeypatch.undo()
    monkeypatch.setattr(engine, "BATCH_SIZE", 3)
    job = services.run(job.pk)
    assert job.status == ImportStatus.DONE
    assert counts(job) == (4, 0, 0, 2)  # Prospecting (only in the second batch) was added
    assert Opportunity.objects.get(external_id="MV1LWRNH").stage.name == "Prospecting"
    assert Pipeline.objects.filter(name=PIPELINE).count() == 1


# --- leads -------------------------------------------------------------------------------------

LEADS = csv_bytes(
    [
        ["Lead ID", "Company", "Full name", "Email", "Country", "Industry", "Employees", "Owner"],
        ["L-1", "Acme Robotics", "Ana Núñez", "ana@acme.example", "Spain", "technology", "250", ""],
        ["L-2", "Beta Foods", "Bo Berg", "bo@beta.example", "Sweden", "food", "12", "Olga Owner"],
        ["L-3", "", "", "", "", "", "", ""],
        ["L-4", "Gamma", "Gil Gómez", "gil@gamma.example", "", "", "", "Nobody Known"],
    ]
)


@pytest.mark.django_db
def test_leads_go_through_the_leads_services(book: Book, uploads: Path) -> None:
    from cartera.leads.models import Lead, LeadSource

    dry = run_import(book.manager, LEADS, kind="leads", name="leads.csv", dry_run=True)
    assert dry_counts(dry) == (2, 0, 0, 2)
    assert not Lead.objects.exists()
    job = run_import(book.manager, LEADS, kind="leads", name="leads.csv")
    assert counts(job) == (2, 0, 0, 2)
    ana = Lead.objects.get(external_id="L-1")
    assert (ana.first_name, ana.last_name, ana.company) == ("Ana", "Núñez", "Acme Robotics")
    assert (ana.country, ana.industry, ana.source) == ("ES", "technology", LeadSource.IMPORT)
    bo = Lead.objects.get(external_id="L-2")
    assert bo.owner == book.owner
    reasons = {line[-3]: line[-1] for line in error_csv(job)[1:]}
    assert "company" in reasons["4"].lower() and "Nobody Known" in reasons["5"]
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead), object_id=ana.pk
    ).first()
    assert entry is not None and entry.actor == book.manager
    assert entry.additional_data["import_job"] == job.pk
    again = run_import(book.manager, LEADS, kind="leads", name="leads.csv")
    assert counts(again) == (0, 0, 2, 2)
    changed = csv_bytes([["Lead ID", "Company", "Notes"], ["L-1", "Acme Robotics", "Met at fair"]])
    job = run_import(book.manager, changed, kind="leads", name="leads.csv")
    assert counts(job) == (0, 1, 0, 0)
    ana.refresh_from_db()
    assert ana.notes == "Met at fair" and ana.version == 2


@pytest.mark.django_db
def test_read_only_people_cannot_import_leads(book: Book, uploads: Path) -> None:
    with pytest.raises(Forbidden):
        upload(book.read_only, LEADS, kind="leads", name="leads.csv")


@pytest.mark.django_db
def test_the_queries_of_an_opportunities_batch_do_not_grow_with_its_rows(catalogue: Book) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def rows(prefix: str, count: int) -> list[list[str]]:
        return [
            [f"{prefix}{i}", "Anna Snelling", "GTXPro", "Cancity", "Won", "2016-10-20",
             "2017-03-01", "100"]
            for i in range(count)
        ]  # fmt: skip

    import_deals(catalogue.admin, rows("warm", 1))  # the pipeline and its stages exist now
    with CaptureQueriesContext(connection) as few:
        assert counts(import_deals(catalogue.admin, rows("a", 5))) == (5, 0, 0, 0)
    with CaptureQueriesContext(connection) as many:
        assert counts(import_deals(catalogue.admin, rows("b", 30))) == (30, 0, 0, 0)
    assert len(many) == len(few)  # (SQLite inserts at most ~35 deals per statement)
