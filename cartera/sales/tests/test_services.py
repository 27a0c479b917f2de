"""Deal and pipeline services: moves, won/lost, access, audit, concurrency, configuration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from cartera.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from cartera.core.testing import EXPECTED_ACCESS, Book, fresh
from cartera.sales import services
from cartera.sales.models import (
    ForecastCategory,
    LossReason,
    Opportunity,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)
from cartera.sales.selectors import get_opportunity_for_user, visible_opportunities


def stage_named(pipeline: Pipeline, name: str) -> Stage:
    return Stage.objects.get(pipeline=pipeline, name=name)


def test_ensure_default_pipeline_is_idempotent(db: None) -> None:
    first = services.ensure_default_pipeline()
    second = services.ensure_default_pipeline()
    assert first.pk == second.pk
    assert Pipeline.objects.count() == 1
    kinds = list(first.stages.order_by("position").values_list("kind", flat=True))
    assert kinds[0] == StageKind.OPEN and kinds[-2:] == [StageKind.WON, StageKind.LOST]
    assert services.won_stage(first).kind == StageKind.WON
    assert services.lost_stage(first).kind == StageKind.LOST
    assert LossReason.objects.filter(is_active=True).count() >= 5


def test_ensure_default_pipeline_names_in_active_language(db: None) -> None:
    from django.utils import translation

    with translation.override("es"):
        pipeline = services.ensure_default_pipeline()
    # Spanish comes with the lead's catalogue; until then the English source is used.
    assert pipeline.name in {"Sales", "Ventas"}


def test_create_defaults_stage_owner_probability_and_history(book: Book, deal: Opportunity) -> None:
    assert deal.owner == book.owner
    assert deal.stage.position == 0 and deal.status == StageKind.OPEN
    assert deal.probability == deal.stage.probability
    assert deal.forecast_category == deal.stage.forecast_category
    change = StageChange.objects.get(opportunity=deal)
    assert change.from_stage is None and change.to_stage == deal.stage
    assert change.changed_by == book.owner
    assert deal.amount == Decimal("12000.00") and deal.currency == "EUR"


def test_create_rounds_amount_to_currency(book: Book, pipeline: Pipeline) -> None:
    deal = services.create_opportunity(
        actor=book.owner, data={"name": "Yen deal", "amount": "1234.5", "currency": "jpy"}
    )
    assert deal.currency == "JPY" and deal.amount == Decimal("1235")
    deal = services.create_opportunity(
        actor=book.owner, data={"name": "Euro deal", "amount": "2.675", "currency": "EUR"}
    )
    assert deal.amount == Decimal("2.68")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "X", "amount": "-1"}, "amount"),
        ({"name": "X", "amount": "abc"}, "amount"),
        ({"name": "X", "currency": "ZZZ"}, "currency"),
        ({"name": "X", "probability": 101}, "probability"),
        ({"name": "X", "type": "barter"}, "type"),
        ({"name": "X", "stage": 999999}, "stage"),
        ({"name": "X", "pipeline": 999999}, "pipeline"),
        ({"name": "X", "owner": 999999}, "owner"),
        ({"name": "X", "colour": "red"}, "colour"),
        ({"name": "X\x00"}, "name"),
    ],
)
def test_create_bad_input_is_a_field_error(
    book: Book, pipeline: Pipeline, data: dict, field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        services.create_opportunity(actor=book.owner, data=data)
    assert field in info.value.field_errors
    assert not Opportunity.objects.exists()


def test_create_refuses_unseen_account_and_foreign_owner(book: Book, pipeline: Pipeline) -> None:
    with pytest.raises(InvalidInput) as info:
        services.create_opportunity(
            actor=book.owner, data={"name": "X", "account": book.outsider_account.pk}
        )
    assert "account" in info.value.field_errors
    with pytest.raises(InvalidInput) as info:
        services.create_opportunity(actor=book.owner, data={"name": "X", "owner": book.outsider})
    assert "owner" in info.value.field_errors


def test_read_only_cannot_create(book: Book, pipeline: Pipeline) -> None:
    with pytest.raises(Forbidden):
        services.create_opportunity(actor=book.read_only, data={"name": "X"})


def test_stage_of_another_pipeline_is_refused(book: Book, deal: Opportunity) -> None:
    other = services.create_pipeline(actor=book.admin, data={"name": "Renewals"})
    foreign = other.stages.first()
    with pytest.raises(InvalidInput):
        services.move_opportunity(
            actor=book.owner, opportunity=deal, stage=foreign, expected_version=deal.version
        )


def test_move_copies_stage_and_writes_history(book: Book, deal: Opportunity) -> None:
    proposal = stage_named(deal.pipeline, "Proposal")
    before = deal.stage
    version = deal.version
    services.move_opportunity(
        actor=book.owner, opportunity=deal, stage=proposal, expected_version=version
    )
    deal.refresh_from_db()
    assert deal.stage == proposal and deal.status == StageKind.OPEN
    assert deal.probability == proposal.probability == 50
    assert deal.forecast_category == ForecastCategory.BEST_CASE
    assert deal.version == version + 1
    assert deal.stage_entered_at > timezone.now() - dt.timedelta(minutes=1)
    change = StageChange.objects.filter(opportunity=deal).latest("changed_at", "pk")
    assert (change.from_stage, change.to_stage, change.changed_by) == (before, proposal, book.owner)


def test_move_to_same_stage_changes_nothing(book: Book, deal: Opportunity) -> None:
    version = deal.version
    services.move_opportunity(
        actor=book.owner, opportunity=deal, stage=deal.stage, expected_version=version
    )
    deal.refresh_from_db()
    assert deal.version == version
    assert StageChange.objects.filter(opportunity=deal).count() == 1
    with pytest.raises(Conflict):
        services.move_opportunity(
            actor=book.owner, opportunity=deal, stage=deal.stage, expected_version=version - 1
        )


def test_won_sets_closed_on_today_or_changed_at(book: Book, deal: Opportunity) -> None:
    won = services.won_stage(deal.pipeline)
    services.move_opportunity(
        actor=book.owner, opportunity=deal, stage=won, expected_version=deal.version
    )
    deal.refresh_from_db()
    assert deal.status == StageKind.WON and deal.closed_on == timezone.localdate()
    assert deal.probability == 100 and deal.forecast_category == ForecastCategory.CLOSED

    other = services.create_opportunity(actor=book.owner, data={"name": "Backdated"})
    when = timezone.make_aware(dt.datetime(2025, 3, 14, 10, 0))
    services.move_opportunity(
        actor=book.owner,
        opportunity=other,
        stage=won,
        expected_version=other.version,
        changed_at=when,
    )
    other.refresh_from_db()
    assert other.closed_on == dt.date(2025, 3, 14) and other.stage_entered_at == when
    assert StageChange.objects.filter(opportunity=other, to_stage=won).get().changed_at == when


def test_lost_requires_an_active_loss_reason(book: Book, deal: Opportunity) -> None:
    lost = services.lost_stage(deal.pipeline)
    with pytest.raises(InvalidInput) as info:
        services.move_opportunity(
            actor=book.owner, opportunity=deal, stage=lost, expected_version=deal.version
        )
    assert "loss_reason" in info.value.field_errors
    retired = LossReason.objects.create(name="Retired reason", is_active=False)
    with pytest.raises(InvalidInput):
        services.move_opportunity(
            actor=book.owner,
            opportunity=deal,
            stage=lost,
            expected_version=deal.version,
            loss_reason=retired,
        )
    deal = get_opportunity_for_user(book.owner, deal.pk)
    assert deal.status == StageKind.OPEN and deal.version == 1
    reason = LossReason.objects.filter(is_active=True).first()
    services.move_opportunity(
        actor=book.owner,
        opportunity=deal,
        stage=lost,
        expected_version=deal.version,
        loss_reason=reason.pk,
        loss_note="Went with the incumbent",
    )
    deal.refresh_from_db()
    assert deal.status == StageKind.LOST and deal.loss_reason == reason
    assert deal.loss_note == "Went with the incumbent" and deal.closed_on is not None
    assert deal.probability == 0


def test_reopening_clears_close_and_loss(book: Book, deal: Opportunity) -> None:
    lost = services.lost_stage(deal.pipeline)
    reason = LossReason.objects.filter(is_active=True).first()
    services.move_opportunity(
        actor=book.owner,
        opportunity=deal,
        stage=lost,
        expected_version=deal.version,
        loss_reason=reason,
        loss_note="Budget cut",
    )
    negotiation = stage_named(deal.pipeline, "Negotiation")
    services.move_opportunity(
        actor=book.owner, opportunity=deal, stage=negotiation, expected_version=deal.version
    )
    deal.refresh_from_db()
    assert deal.status == StageKind.OPEN and deal.closed_on is None
    assert deal.loss_reason is None and deal.loss_note == ""
    assert deal.probability == 75 and deal.forecast_category == ForecastCategory.COMMIT
    assert StageChange.objects.filter(opportunity=deal).count() == 3


def test_stale_move_is_a_conflict_and_writes_nothing(book: Book, deal: Opportunity) -> None:
    stale = deal.version
    services.update_opportunity(
        actor=book.owner, opportunity=deal, changes={"next_step": "Call"}, expected_version=stale
    )
    other = get_opportunity_for_user(fresh(book.teammate), deal.pk)
    proposal = stage_named(deal.pipeline, "Proposal")
    with pytest.raises(Conflict):
        services.move_opportunity(
            actor=book.teammate, opportunity=other, stage=proposal, expected_version=stale
        )
    deal.refresh_from_db()
    assert deal.stage.position == 0
    assert StageChange.objects.filter(opportunity=deal).count() == 1


def test_update_changes_fields_keeps_probability_override(book: Book, deal: Opportunity) -> None:
    services.update_opportunity(
        actor=book.owner,
        opportunity=deal,
        changes={"probability": 35, "forecast_category": "commit", "next_step": "Demo"},
        expected_version=deal.version,
    )
    deal.refresh_from_db()
    assert (deal.probability, deal.forecast_category, deal.next_step) == (35, "commit", "Demo")
    with pytest.raises(InvalidInput):
        services.update_opportunity(
            actor=book.owner,
            opportunity=deal,
            changes={"forecast_category": "closed"},
            expected_version=deal.version,
        )


def test_update_with_stage_moves_and_writes_history(book: Book, deal: Opportunity) -> None:
    proposal = stage_named(deal.pipeline, "Proposal")
    services.update_opportunity(
        actor=book.owner,
        opportunity=deal,
        changes={"stage": proposal.pk, "name": "Fleet renewal 2027"},
        expected_version=deal.version,
    )
    deal.refresh_from_db()
    assert deal.stage == proposal and deal.name == "Fleet renewal 2027" and deal.version == 2
    assert StageChange.objects.filter(opportunity=deal, to_stage=proposal).exists()


def test_update_pipeline_puts_deal_in_first_open_stage(book: Book, deal: Opportunity) -> None:
    renewals = services.create_pipeline(actor=book.admin, data={"name": "Renewals"})
    services.update_opportunity(
        actor=book.owner,
        opportunity=deal,
        changes={"pipeline": renewals.pk},
        expected_version=deal.version,
    )
    deal.refresh_from_db()
    assert deal.pipeline == renewals and deal.stage == services.first_open_stage(renewals)


@pytest.mark.parametrize("persona", sorted(EXPECTED_ACCESS))
def test_permission_matrix_for_moves(book: Book, deal: Opportunity, persona: str) -> None:
    user = fresh(book.persona(persona))
    can_see, can_write = EXPECTED_ACCESS[persona]
    assert visible_opportunities(user).filter(pk=deal.pk).exists() is can_see
    proposal = stage_named(deal.pipeline, "Proposal")
    if not can_see:
        with pytest.raises(NotFound):
            get_opportunity_for_user(user, deal.pk)
        with pytest.raises(NotFound):
            services.move_opportunity(
                actor=user, opportunity=deal, stage=proposal, expected_version=deal.version
            )
    elif not can_write:
        with pytest.raises(Forbidden):
            get_opportunity_for_user(user, deal.pk, write=True)
        with pytest.raises(Forbidden):
            services.move_opportunity(
                actor=user, opportunity=deal, stage=proposal, expected_version=deal.version
            )
    else:
        found = get_opportunity_for_user(user, deal.pk, write=True)
        services.move_opportunity(
            actor=user, opportunity=found, stage=proposal, expected_version=found.version
        )
    deal.refresh_from_db()
    assert (deal.stage == proposal) is can_write


def test_rep_sees_own_deals_without_account(book: Book, pipeline: Pipeline) -> None:
    mine = services.create_opportunity(actor=book.outsider, data={"name": "Solo deal"})
    assert visible_opportunities(fresh(book.outsider)).filter(pk=mine.pk).exists()
    assert not visible_opportunities(fresh(book.owner)).filter(pk=mine.pk).exists()
    assert visible_opportunities(fresh(book.director)).filter(pk=mine.pk).exists()


def test_writes_are_audited_with_actor(book: Book, deal: Opportunity) -> None:
    entries = LogEntry.objects.get_for_object(deal)
    assert entries.filter(action=LogEntry.Action.CREATE, actor=book.owner).exists()
    services.update_opportunity(
        actor=book.teammate,
        opportunity=deal,
        changes={"amount": "15000"},
        expected_version=deal.version,
    )
    update = LogEntry.objects.get_for_object(deal).filter(action=LogEntry.Action.UPDATE).first()
    assert update is not None and update.actor == book.teammate
    assert "amount" in update.changes_dict


def test_trash_and_restore(book: Book, deal: Opportunity) -> None:
    services.trash_opportunity(actor=book.owner, opportunity=deal, expected_version=deal.version)
    with pytest.raises(NotFound):
        get_opportunity_for_user(book.owner, deal.pk)
    trashed = get_opportunity_for_user(book.owner, deal.pk, trashed=True)
    services.restore_opportunity(actor=book.owner, opportunity=trashed)
    assert get_opportunity_for_user(book.owner, deal.pk).deleted_at is None


# --- contacts and lines -------------------------------------------------------------------


def test_contact_roles(book: Book, deal: Opportunity) -> None:
    link = services.set_opportunity_contact(
        actor=book.owner, opportunity=deal, contact=book.contact, role="champion"
    )
    assert link.role == "champion"
    link = services.set_opportunity_contact(
        actor=book.owner, opportunity=deal, contact=book.contact.pk, role="economic_buyer"
    )
    assert deal.contact_roles.get().role == "economic_buyer"
    with pytest.raises(InvalidInput):
        services.set_opportunity_contact(
            actor=book.owner, opportunity=deal, contact=book.contact, role="boss"
        )
    services.remove_opportunity_contact(actor=book.owner, opportunity=deal, contact=book.contact)
    assert not deal.contact_roles.exists()
    with pytest.raises(NotFound):
        services.remove_opportunity_contact(
            actor=book.owner, opportunity=deal, contact=book.contact
        )


def test_contact_must_be_visible(book: Book, pipeline: Pipeline) -> None:
    from cartera.contacts.services import create_contact

    hidden = create_contact(
        actor=book.outsider,
        data={"first_name": "Lars", "last_name": "Berg", "accounts": [book.outsider_account.pk]},
    )
    deal = services.create_opportunity(actor=book.owner, data={"name": "X"})
    with pytest.raises(InvalidInput) as info:
        services.set_opportunity_contact(
            actor=book.owner, opportunity=deal, contact=hidden, role="user"
        )
    assert "contact" in info.value.field_errors


def make_product(sku: str = "SKU-1", price: str | None = "99.90"):
    from cartera.catalog.models import PriceList, PriceListItem, Product

    product = Product.objects.create(sku=sku, name=f"Product {sku}")
    if price is not None:
        price_list, _ = PriceList.objects.get_or_create(
            name="EUR list", defaults={"currency": "EUR"}
        )
        PriceListItem.objects.create(price_list=price_list, product=product, unit_price=price)
    return product


def test_lines_default_price_and_amount_follows(book: Book, deal: Opportunity) -> None:
    product = make_product()
    line = services.add_opportunity_line(
        actor=book.owner, opportunity=deal, data={"product": product.pk, "quantity": "3"}
    )
    assert line.unit_price == Decimal("99.90")
    deal.refresh_from_db()
    assert deal.amount == Decimal("299.70") and deal.version == 2
    services.add_opportunity_line(
        actor=book.owner,
        opportunity=deal,
        data={
            "description": "Installation",
            "quantity": "1",
            "unit_price": "100.005",
            "discount_percent": "10",
        },
    )
    deal.refresh_from_db()
    # 100.01 (rounded price) x 0.9 = 90.009 → 90.01
    assert deal.amount == Decimal("299.70") + Decimal("90.01")
    services.update_opportunity_line(actor=book.owner, line=line, changes={"quantity": "1"})
    deal.refresh_from_db()
    assert deal.amount == Decimal("99.90") + Decimal("90.01")
    services.remove_opportunity_line(actor=book.owner, line=line)
    deal.refresh_from_db()
    assert deal.amount == Decimal("90.01")


def test_line_without_price_needs_unit_price(book: Book, deal: Opportunity) -> None:
    product = make_product("SKU-2", price=None)
    with pytest.raises(InvalidInput) as info:
        services.add_opportunity_line(
            actor=book.owner, opportunity=deal, data={"product": product.pk}
        )
    assert "unit_price" in info.value.field_errors
    with pytest.raises(InvalidInput) as info:
        services.add_opportunity_line(actor=book.owner, opportunity=deal, data={"quantity": "1"})
    assert "product" in info.value.field_errors
    with pytest.raises(InvalidInput) as info:
        services.add_opportunity_line(
            actor=book.owner,
            opportunity=deal,
            data={"description": "x", "discount_percent": "150", "unit_price": "1"},
        )
    assert "discount_percent" in info.value.field_errors


def test_lines_follow_access(book: Book, deal: Opportunity) -> None:
    with pytest.raises(Forbidden):
        services.add_opportunity_line(
            actor=book.read_only, opportunity=deal, data={"description": "x", "unit_price": "1"}
        )
    with pytest.raises(NotFound):
        services.add_opportunity_line(
            actor=fresh(book.outsider),
            opportunity=deal,
            data={"description": "x", "unit_price": "1"},
        )


# --- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager", "owner", "read_only", "outsider"])
def test_only_admins_and_directors_configure(book: Book, pipeline: Pipeline, persona: str) -> None:
    user = book.persona(persona)
    with pytest.raises(Forbidden):
        services.create_pipeline(actor=user, data={"name": "Mine"})
    with pytest.raises(Forbidden):
        services.create_stage(actor=user, pipeline=pipeline, data={"name": "Extra"})
    with pytest.raises(Forbidden):
        services.create_loss_reason(actor=user, data={"name": "Weather"})


def test_configure_pipeline_and_stages(book: Book, pipeline: Pipeline) -> None:
    renewals = services.create_pipeline(
        actor=book.director,
        data={"name": "Renewals"},
        stages=[
            {"name": "Due", "probability": 60},
            {"name": "Renewed", "probability": 100, "kind": "won"},
            {"name": "Churned", "probability": 0, "kind": "lost"},
        ],
    )
    assert [s.name for s in services.first_open_stage(renewals).pipeline.stages.all()] == [
        "Due",
        "Renewed",
        "Churned",
    ]
    services.update_pipeline(actor=book.director, pipeline=renewals, changes={"name": "Renewal"})
    stage = services.create_stage(
        actor=book.admin,
        pipeline=renewals,
        data={"name": "Quoted", "probability": 80, "usual_days": 10, "forecast_category": "commit"},
    )
    assert stage.position == 3
    ids = [
        stage.pk,
        *renewals.stages.exclude(pk=stage.pk).order_by("position").values_list("pk", flat=True),
    ]
    services.reorder_stages(actor=book.admin, pipeline=renewals, stage_ids=ids)
    assert list(renewals.stages.order_by("position").values_list("pk", flat=True)) == ids
    with pytest.raises(InvalidInput):
        services.reorder_stages(actor=book.admin, pipeline=renewals, stage_ids=ids[:2])
    services.update_stage(actor=book.admin, stage=stage, changes={"probability": 85})
    stage.refresh_from_db()
    assert stage.probability == 85
    with pytest.raises(InvalidInput):
        services.update_stage(actor=book.admin, stage=stage, changes={"probability": 120})
    services.delete_stage(actor=book.admin, stage=stage)
    assert not Stage.objects.filter(pk=stage.pk).exists()


def test_default_pipeline_switch(book: Book, pipeline: Pipeline) -> None:
    other = services.create_pipeline(actor=book.admin, data={"name": "Partners"})
    assert not other.is_default
    services.update_pipeline(actor=book.admin, pipeline=other, changes={"is_default": True})
    pipeline.refresh_from_db()
    assert not pipeline.is_default and services.default_pipeline() == other
    with pytest.raises(InvalidInput):
        services.update_pipeline(actor=book.admin, pipeline=other, changes={"is_active": False})


def test_stage_with_deals_cannot_be_deleted(book: Book, deal: Opportunity) -> None:
    with pytest.raises(InvalidInput):
        services.delete_stage(actor=book.admin, stage=deal.stage)
    services.trash_opportunity(actor=book.owner, opportunity=deal, expected_version=deal.version)
    with pytest.raises(InvalidInput):
        services.delete_stage(actor=book.admin, stage=deal.stage)
    assert Stage.objects.filter(pk=deal.stage_id).exists()


def test_stage_kind_is_fixed_while_it_has_deals(book: Book, deal: Opportunity) -> None:
    with pytest.raises(InvalidInput):
        services.update_stage(actor=book.admin, stage=deal.stage, changes={"kind": "won"})


def test_pipeline_keeps_an_open_stage(book: Book, pipeline: Pipeline) -> None:
    solo = services.create_pipeline(
        actor=book.admin,
        data={"name": "Tiny"},
        stages=[{"name": "Only", "probability": 10}, {"name": "Done", "kind": "won"}],
    )
    with pytest.raises(InvalidInput):
        services.delete_stage(actor=book.admin, stage=solo.stages.get(name="Only"))
    assert solo.stages.count() == 2


def test_loss_reasons(book: Book, pipeline: Pipeline) -> None:
    reason = services.create_loss_reason(actor=book.admin, data={"name": "Weather"})
    services.update_loss_reason(actor=book.director, reason=reason, changes={"is_active": False})
    reason.refresh_from_db()
    assert not reason.is_active
    with pytest.raises(InvalidInput):
        services.create_loss_reason(actor=book.admin, data={"name": "Weather"})
