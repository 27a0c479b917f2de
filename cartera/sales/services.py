"""Every write to deals and pipelines: atomic, access-checked, audited, concurrency-safe.

Opportunities follow the accounts' access rule (``Opportunity.objects.visible_to``): whoever
may see a deal and writes may change and move it. Pipelines, stages and loss reasons are
configured by administrators and directors only.

A move (``move_opportunity``) is the one place where a deal changes stage: it copies the stage's
kind into ``status``, its probability and forecast category, sets or clears ``closed_on`` and
the loss reason, restarts ``stage_entered_at`` and writes a ``StageChange`` row.

Every write of a deal keeps the deal totals table exact in its transaction
(``rollups.tracking``): the board's and the forecast's figures are read from it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cartera.core.audit import audited
from cartera.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from cartera.core.money import round_money
from cartera.core.services import apply_changes, claim_version, validate
from cartera.users.access import can_assign_owner
from cartera.users.models import Role, User

from . import rollups
from .models import (
    ContactRole,
    ForecastCategory,
    LossReason,
    Opportunity,
    OpportunityContact,
    OpportunityLine,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)

#: Fields a create or an update may set directly (stage moves go through ``move_opportunity``).
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "account",
        "type",
        "amount",
        "currency",
        "probability",
        "forecast_category",
        "expected_close_date",
        "owner",
        "next_step",
        "description",
        "external_id",
        "loss_note",
    }
)

#: Forecast categories an owner may pick for an open deal.
OPEN_CATEGORIES = frozenset(
    {
        ForecastCategory.PIPELINE,
        ForecastCategory.BEST_CASE,
        ForecastCategory.COMMIT,
        ForecastCategory.OMITTED,
    }
)


# --------------------------------------------------------------------------------------------
# Access


def ensure_can_write(actor: User) -> None:
    """Read-only and inactive users change nothing."""
    if not actor.can_write:
        raise Forbidden()


def can_configure(actor: User) -> bool:
    """Administrators and directors configure pipelines, stages and loss reasons."""
    return bool(
        actor.is_active and (actor.role in {Role.ADMIN, Role.DIRECTOR} or actor.is_superuser)
    )


def ensure_can_configure(actor: User) -> None:
    """Only administrators and directors change the sales process."""
    if not can_configure(actor):
        raise Forbidden(_("Only administrators and directors can configure pipelines."))


def ensure_can_write_opportunity(actor: User, opportunity: Opportunity) -> None:
    """``actor`` writes, and sees the (non-trashed) deal."""
    ensure_can_write(actor)
    visible = Opportunity.objects.visible_to(actor).filter(pk=opportunity.pk, deleted_at=None)
    if not visible.exists():
        raise NotFound()


def claim_deal_version(opportunity: Opportunity, expected_version: int | None) -> None:
    """``claim_version`` with a message that names the deal."""
    try:
        claim_version(opportunity, expected_version)
    except Conflict as exc:
        raise Conflict(
            _(
                "Someone else changed this deal since you loaded it, so nothing was saved. "
                "Reload it and try again."
            )
        ) from exc


# --------------------------------------------------------------------------------------------
# Pipelines: defaults and lookups


def _default_stages() -> list[dict[str, Any]]:
    return [
        {"name": _("Qualification"), "probability": 10, "usual_days": 14},
        {"name": _("Needs analysis"), "probability": 25, "usual_days": 21},
        {
            "name": _("Proposal"),
            "probability": 50,
            "usual_days": 21,
            "forecast_category": ForecastCategory.BEST_CASE,
        },
        {
            "name": _("Negotiation"),
            "probability": 75,
            "usual_days": 14,
            "forecast_category": ForecastCategory.COMMIT,
        },
        {
            "name": _("Won"),
            "probability": 100,
            "kind": StageKind.WON,
            "forecast_category": ForecastCategory.CLOSED,
        },
        {
            "name": _("Lost"),
            "probability": 0,
            "kind": StageKind.LOST,
            "forecast_category": ForecastCategory.OMITTED,
        },
    ]


def _default_loss_reasons() -> list[str]:
    return [
        _("Price"),
        _("Lost to a competitor"),
        _("No budget"),
        _("No decision"),
        _("Timing"),
        _("Product fit"),
        _("Other"),
    ]


def default_pipeline() -> Pipeline | None:
    """The pipeline new deals go to: the one marked default, else the first active one."""
    return Pipeline.objects.order_by("-is_default", "-is_active", "position", "pk").first()


@transaction.atomic
def ensure_default_pipeline() -> Pipeline:
    """The default pipeline; if there is none yet, create "Sales" with its stages and loss reasons.

    Idempotent. Names are in the active language. Runs without an actor (setup, demo, imports).
    """
    existing = default_pipeline()
    if existing is not None:
        return existing
    pipeline = Pipeline.objects.create(name=_("Sales"), is_default=True, position=0)
    Stage.objects.bulk_create(
        [
            Stage(pipeline=pipeline, position=index, **values)
            for index, values in enumerate(_default_stages())
        ]
    )
    if not LossReason.objects.exists():
        LossReason.objects.bulk_create(
            [
                LossReason(name=name, position=index)
                for index, name in enumerate(_default_loss_reasons())
            ]
        )
    return pipeline


def _stage_of_kind(pipeline: Pipeline, kind: str) -> Stage:
    stage = Stage.objects.filter(pipeline=pipeline, kind=kind).order_by("position", "pk").first()
    if stage is None:
        raise InvalidInput(field_errors={"stage": [_("This pipeline has no stage of that kind.")]})
    return stage


def won_stage(pipeline: Pipeline) -> Stage:
    """The pipeline's (first) won stage."""
    return _stage_of_kind(pipeline, StageKind.WON)


def lost_stage(pipeline: Pipeline) -> Stage:
    """The pipeline's (first) lost stage."""
    return _stage_of_kind(pipeline, StageKind.LOST)


def first_open_stage(pipeline: Pipeline) -> Stage:
    """Where new deals of ``pipeline`` start."""
    return _stage_of_kind(pipeline, StageKind.OPEN)


# --------------------------------------------------------------------------------------------
# Opportunities


def _as_pk(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if hasattr(value, "pk"):
        return int(value.pk)
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _resolve_pipeline(value: Any) -> Pipeline:
    if value is None or value == "":
        return ensure_default_pipeline()
    pk = _as_pk(value)
    pipeline = Pipeline.objects.filter(pk=pk).first() if pk else None
    if pipeline is None:
        raise InvalidInput(field_errors={"pipeline": [_("Choose an existing pipeline.")]})
    return pipeline


def _resolve_stage(value: Any, pipeline: Pipeline) -> Stage:
    pk = _as_pk(value)
    stage = Stage.objects.filter(pk=pk, pipeline=pipeline).first() if pk else None
    if stage is None:
        raise InvalidInput(field_errors={"stage": [_("Choose a stage of the deal's pipeline.")]})
    return stage


def _resolve_loss_reason(value: Any) -> LossReason:
    pk = _as_pk(value)
    reason = LossReason.objects.filter(pk=pk, is_active=True).first() if pk else None
    if reason is None:
        raise InvalidInput(
            field_errors={"loss_reason": [_("Choose why the deal was lost from the list.")]}
        )
    return reason


def _resolve_references(actor: User, data: dict[str, Any]) -> None:
    """Owner and account ids become rows the actor may use, or field errors."""
    from cartera.accounts.models import Account

    errors: dict[str, list[str]] = {}
    if "owner" in data:
        owner = data["owner"]
        if not isinstance(owner, User):
            pk = _as_pk(owner)
            owner = User.objects.filter(pk=pk).first() if pk else None
        if owner is None or not can_assign_owner(actor, owner):
            errors["owner"] = [_("Choose an active person you may assign deals to.")]
        data["owner"] = owner
    if "account" in data and data["account"] not in (None, ""):
        pk = _as_pk(data["account"])
        account = Account.objects.visible_to(actor).alive().filter(pk=pk).first() if pk else None
        if account is None:
            errors["account"] = [_("Choose an account you can see.")]
        data["account"] = account
    elif "account" in data:
        data["account"] = None
    if "currency" in data and isinstance(data["currency"], str):
        data["currency"] = data["currency"].strip().upper()
    if "amount" in data and data["amount"] not in (None, ""):
        try:
            data["amount"] = Decimal(str(data["amount"]))
        except ArithmeticError:
            errors["amount"] = [_("Enter an amount.")]
    elif "amount" in data:
        data["amount"] = Decimal("0")
    if "forecast_category" in data and data["forecast_category"] not in OPEN_CATEGORIES:
        errors["forecast_category"] = [_("Select a valid choice.")]
    if errors:
        raise InvalidInput(field_errors=errors)


def _round_amount(opportunity: Opportunity) -> None:
    if opportunity.amount is not None and opportunity.currency:
        # An unknown currency is left for the field validator to report.
        with contextlib.suppress(ValueError, KeyError, ArithmeticError):
            opportunity.amount = round_money(opportunity.amount, opportunity.currency)


def _enter_stage(
    opportunity: Opportunity,
    stage: Stage,
    *,
    changed_at: dt.datetime | None,
    loss_reason: Any,
    loss_note: str,
    keep_probability: bool = False,
    closed_on: dt.date | None = None,
) -> list[str]:
    """Put ``opportunity`` in ``stage`` with everything a stage decides; the changed fields."""
    reason = _resolve_loss_reason(loss_reason) if stage.kind == StageKind.LOST else None
    when = changed_at or timezone.now()
    opportunity.stage = stage
    opportunity.status = stage.kind
    if not keep_probability:
        opportunity.probability = stage.probability
    opportunity.forecast_category = stage.forecast_category
    opportunity.stage_entered_at = when
    if stage.kind == StageKind.OPEN:
        opportunity.closed_on = None
        opportunity.loss_reason = None
        opportunity.loss_note = ""
    else:
        opportunity.closed_on = closed_on or timezone.localdate(when)
        if stage.kind == StageKind.LOST:
            opportunity.loss_reason = reason
            opportunity.loss_note = (loss_note or "").strip()
        else:
            opportunity.loss_reason = None
            opportunity.loss_note = ""
    return [
        "stage",
        "status",
        "probability",
        "forecast_category",
        "stage_entered_at",
        "closed_on",
        "loss_reason",
        "loss_note",
    ]


@transaction.atomic
def create_opportunity(*, actor: User, data: Mapping[str, Any]) -> Opportunity:
    """Create a deal in ``data['pipeline']`` (default pipeline) at ``data['stage']``.

    Keys: name, account (Account | id | None), pipeline, stage (default: the first open stage),
    type, amount, currency, expected_close_date, owner (default: the actor), next_step,
    description, external_id, probability (default: the stage's), forecast_category.
    Imports may also give ``changed_at`` (when the deal entered its stage), ``closed_on``,
    ``loss_reason`` and ``loss_note`` for deals created closed.
    """
    ensure_can_write(actor)
    values = dict(data)
    pipeline = _resolve_pipeline(values.pop("pipeline", None))
    stage_value = values.pop("stage", None)
    stage = (
        first_open_stage(pipeline)
        if stage_value in (None, "")
        else _resolve_stage(stage_value, pipeline)
    )
    changed_at = values.pop("changed_at", None)
    closed_on = values.pop("closed_on", None)
    loss_reason = values.pop("loss_reason", None)
    loss_note = values.pop("loss_note", "") or ""
    probability = values.pop("probability", None)
    forecast_category = values.pop("forecast_category", None)
    values.setdefault("owner", actor)
    values.setdefault("currency", settings.CARTERA_CURRENCY)
    _resolve_references(actor, values)
    opportunity = Opportunity(created_by=actor, pipeline=pipeline)
    apply_changes(opportunity, values, allowed=EDITABLE_FIELDS)
    _enter_stage(
        opportunity,
        stage,
        changed_at=changed_at,
        loss_reason=loss_reason,
        loss_note=loss_note,
        closed_on=closed_on,
    )
    if probability not in (None, ""):
        apply_changes(opportunity, {"probability": probability}, allowed={"probability"})
    if forecast_category and stage.kind == StageKind.OPEN:
        if forecast_category not in OPEN_CATEGORIES:
            raise InvalidInput(field_errors={"forecast_category": [_("Select a valid choice.")]})
        opportunity.forecast_category = forecast_category
    _round_amount(opportunity)
    validate(opportunity)
    with audited(actor), rollups.tracking() as deals:
        opportunity.save()
        deals.add(opportunity.pk)
        StageChange.objects.create(
            opportunity=opportunity,
            from_stage=None,
            to_stage=stage,
            changed_at=opportunity.stage_entered_at,
            changed_by=actor,
        )
    return opportunity


@transaction.atomic
def update_opportunity(
    *,
    actor: User,
    opportunity: Opportunity,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> Opportunity:
    """Apply ``changes`` if nobody changed the deal since ``expected_version``.

    ``changes`` may also hold ``pipeline`` and ``stage`` (a move, with ``loss_reason`` and
    ``loss_note`` for a lost stage), so an edit form can do both in one versioned write.
    """
    ensure_can_write_opportunity(actor, opportunity)
    values = dict(changes)
    pipeline_value = values.pop("pipeline", None)
    stage_value = values.pop("stage", None)
    loss_reason = values.pop("loss_reason", None)
    move_note = values.pop("loss_note", None) if stage_value not in (None, "") else None
    _resolve_references(actor, values)
    changed = apply_changes(opportunity, values, allowed=EDITABLE_FIELDS)
    if "forecast_category" in changed and opportunity.status != StageKind.OPEN:
        raise InvalidInput(
            field_errors={"forecast_category": [_("A closed deal keeps its stage's category.")]}
        )
    old_stage = opportunity.stage
    pipeline = opportunity.pipeline
    if pipeline_value not in (None, "") and _as_pk(pipeline_value) != opportunity.pipeline_id:
        pipeline = _resolve_pipeline(pipeline_value)
        opportunity.pipeline = pipeline
        changed.append("pipeline")
        if stage_value in (None, ""):
            stage_value = first_open_stage(pipeline).pk
    new_stage: Stage | None = None
    if stage_value not in (None, "") and _as_pk(stage_value) != opportunity.stage_id:
        new_stage = _resolve_stage(stage_value, pipeline)
        changed += _enter_stage(
            opportunity,
            new_stage,
            changed_at=None,
            loss_reason=loss_reason,
            loss_note=move_note or "",
            keep_probability="probability" in changed,
        )
    elif (
        loss_reason not in (None, "")
        and opportunity.status == StageKind.LOST
        and _as_pk(loss_reason) != opportunity.loss_reason_id
    ):
        opportunity.loss_reason = _resolve_loss_reason(loss_reason)
        changed.append("loss_reason")
    if "amount" in changed or "currency" in changed:
        _round_amount(opportunity)
    validate(opportunity)
    claim_deal_version(opportunity, expected_version)
    with audited(actor), rollups.tracking(opportunity.pk):
        if changed:
            opportunity.save(update_fields=[*set(changed), "version"])
        if new_stage is not None:
            StageChange.objects.create(
                opportunity=opportunity,
                from_stage=old_stage,
                to_stage=new_stage,
                changed_at=opportunity.stage_entered_at,
                changed_by=actor,
            )
    return opportunity


@transaction.atomic
def move_opportunity(
    *,
    actor: User,
    opportunity: Opportunity,
    stage: Stage | int,
    expected_version: int | None,
    loss_reason: LossReason | int | None = None,
    loss_note: str = "",
    changed_at: dt.datetime | None = None,
) -> Opportunity:
    """Move the deal to ``stage`` of its pipeline: the board's drag and drop, won and lost.

    Copies the stage's kind (status), probability and forecast category; a won or lost stage sets
    ``closed_on`` (the day of ``changed_at``, default today), a lost one needs an active
    ``loss_reason``; an open stage clears them (a reopened deal). Writes a ``StageChange``.
    Moving to the stage the deal is already in changes nothing.
    """
    ensure_can_write_opportunity(actor, opportunity)
    target = stage if isinstance(stage, Stage) else None
    if target is None or target.pipeline_id != opportunity.pipeline_id:
        target = _resolve_stage(stage, opportunity.pipeline)
    if target.pk == opportunity.stage_id:
        stale = (
            expected_version is not None
            and not Opportunity.objects.filter(pk=opportunity.pk, version=expected_version).exists()
        )
        if stale:
            claim_deal_version(opportunity, expected_version)
        return opportunity
    if changed_at is not None and timezone.is_naive(changed_at):
        changed_at = timezone.make_aware(changed_at)
    old_stage = opportunity.stage
    changed = _enter_stage(
        opportunity,
        target,
        changed_at=changed_at,
        loss_reason=loss_reason,
        loss_note=loss_note,
    )
    validate(opportunity)
    claim_deal_version(opportunity, expected_version)
    with audited(actor), rollups.tracking(opportunity.pk):
        opportunity.save(update_fields=[*changed, "version"])
        StageChange.objects.create(
            opportunity=opportunity,
            from_stage=old_stage,
            to_stage=target,
            changed_at=opportunity.stage_entered_at,
            changed_by=actor,
        )
    return opportunity


@transaction.atomic
def trash_opportunity(
    *, actor: User, opportunity: Opportunity, expected_version: int | None
) -> Opportunity:
    """Move a deal to the trash."""
    ensure_can_write_opportunity(actor, opportunity)
    claim_deal_version(opportunity, expected_version)
    opportunity.deleted_at = timezone.now()
    with audited(actor), rollups.tracking(opportunity.pk):
        opportunity.save(update_fields=["deleted_at", "version"])
    return opportunity


@transaction.atomic
def restore_opportunity(*, actor: User, opportunity: Opportunity) -> Opportunity:
    """Bring a deal back from the trash."""
    ensure_can_write(actor)
    if not Opportunity.objects.visible_to(actor).filter(pk=opportunity.pk).exists():
        raise NotFound()
    claim_version(opportunity, None)
    opportunity.deleted_at = None
    with audited(actor), rollups.tracking(opportunity.pk):
        opportunity.save(update_fields=["deleted_at", "version"])
    return opportunity


# --------------------------------------------------------------------------------------------
# Contacts with roles


@transaction.atomic
def set_opportunity_contact(
    *, actor: User, opportunity: Opportunity, contact: Any, role: str
) -> OpportunityContact:
    """Put a contact the actor can see on the deal with ``role`` (or change their role)."""
    from cartera.contacts.models import Contact

    ensure_can_write_opportunity(actor, opportunity)
    if role not in ContactRole.values:
        raise InvalidInput(field_errors={"role": [_("Select a valid choice.")]})
    pk = _as_pk(contact)
    found = Contact.objects.visible_to(actor).alive().filter(pk=pk).first() if pk else None
    if found is None:
        raise InvalidInput(field_errors={"contact": [_("Choose a contact you can see.")]})
    with audited(actor):
        link, created = OpportunityContact.objects.get_or_create(
            opportunity=opportunity, contact=found, defaults={"role": role}
        )
        if not created and link.role != role:
            link.role = role
            link.save(update_fields=["role", "updated_at"])
    return link


@transaction.atomic
def remove_opportunity_contact(*, actor: User, opportunity: Opportunity, contact: Any) -> None:
    """Take a contact off the deal."""
    ensure_can_write_opportunity(actor, opportunity)
    link = OpportunityContact.objects.filter(
        opportunity=opportunity, contact_id=_as_pk(contact) or 0
    ).first()
    if link is None:
        raise NotFound()
    with audited(actor):
        link.delete()


# --------------------------------------------------------------------------------------------
# Products on the deal

LINE_FIELDS = frozenset({"product", "description", "quantity", "unit_price", "discount_percent"})


def line_total(line: OpportunityLine, currency: str) -> Decimal:
    """quantity x unit price - discount, rounded to the currency once."""
    gross = line.quantity * line.unit_price
    net = gross - gross * line.discount_percent / Decimal(100)
    return round_money(net, currency)


def _prepare_line(
    actor: User, opportunity: Opportunity, line: OpportunityLine, data: Mapping[str, Any]
) -> list[str]:
    from cartera.catalog.models import Product
    from cartera.catalog.selectors import price_for

    values = dict(data)
    errors: dict[str, list[str]] = {}
    if "product" in values:
        pk = _as_pk(values["product"])
        product = Product.objects.filter(pk=pk, is_active=True).first() if pk else None
        if values["product"] not in (None, "") and product is None:
            errors["product"] = [_("Choose an active product from the catalogue.")]
        values["product"] = product
    for name in ("quantity", "unit_price", "discount_percent"):
        if name in values:
            if values[name] in (None, ""):
                values.pop(name)
                continue
            try:
                values[name] = Decimal(str(values[name]))
            except ArithmeticError:
                errors[name] = [_("Enter a number.")]
    if errors:
        raise InvalidInput(field_errors=errors)
    changed = apply_changes(line, values, allowed=LINE_FIELDS)
    if line.product_id is None and not line.description:
        raise InvalidInput(field_errors={"product": [_("Choose a product or describe the line.")]})
    if "unit_price" not in values and line.product_id and (line.pk is None or "product" in changed):
        segment = opportunity.account.tier if opportunity.account is not None else ""
        price = price_for(
            product=line.product_id, currency=opportunity.currency, segment=segment or ""
        )
        if price is None:
            raise InvalidInput(
                field_errors={
                    "unit_price": [
                        _("This product has no price in %(currency)s: enter the unit price.")
                        % {"currency": opportunity.currency}
                    ]
                }
            )
        line.unit_price = price
        changed.append("unit_price")
    line.unit_price = round_money(line.unit_price, opportunity.currency)
    validate(line, exclude=["opportunity"])
    return changed


def _recompute_amount(opportunity: Opportunity) -> None:
    """A deal with products is worth the sum of its lines."""
    lines = list(OpportunityLine.objects.filter(opportunity=opportunity))
    if not lines:
        return
    total = sum((line_total(line, opportunity.currency) for line in lines), Decimal("0"))
    if total != opportunity.amount:
        opportunity.amount = total
        with rollups.tracking(opportunity.pk):
            opportunity.save(update_fields=["amount"])


@transaction.atomic
def add_opportunity_line(
    *, actor: User, opportunity: Opportunity, data: Mapping[str, Any]
) -> OpportunityLine:
    """Add a product (or a free-text line) to the deal; the deal's amount becomes the lines' sum.

    Without ``unit_price`` the catalogue price for the deal's currency and the account's tier
    is used (``cartera.catalog.selectors.price_for``).
    """
    ensure_can_write_opportunity(actor, opportunity)
    position = OpportunityLine.objects.filter(opportunity=opportunity).aggregate(p=Max("position"))[
        "p"
    ]
    line = OpportunityLine(
        opportunity=opportunity, position=0 if position is None else position + 1
    )
    _prepare_line(actor, opportunity, line, data)
    claim_version(opportunity, None)
    with audited(actor):
        line.save()
        _recompute_amount(opportunity)
    return line


@transaction.atomic
def update_opportunity_line(
    *, actor: User, line: OpportunityLine, changes: Mapping[str, Any]
) -> OpportunityLine:
    """Change a product line; the deal's amount follows."""
    opportunity = line.opportunity
    ensure_can_write_opportunity(actor, opportunity)
    changed = _prepare_line(actor, opportunity, line, changes)
    claim_version(opportunity, None)
    with audited(actor):
        if changed:
            line.save()
        _recompute_amount(opportunity)
    return line


@transaction.atomic
def remove_opportunity_line(*, actor: User, line: OpportunityLine) -> None:
    """Take a product line off the deal; the amount follows the remaining lines."""
    opportunity = line.opportunity
    ensure_can_write_opportunity(actor, opportunity)
    claim_version(opportunity, None)
    with audited(actor):
        line.delete()
        _recompute_amount(opportunity)


@transaction.atomic
def replace_opportunity_lines(
    *, actor: User, opportunity: Opportunity, lines: Iterable[Mapping[str, Any]]
) -> list[OpportunityLine]:
    """Replace all the deal's product lines at once (an accepted quote's lines); the amount
    becomes the new lines' sum. Each removal and addition is audited."""
    ensure_can_write_opportunity(actor, opportunity)
    claim_version(opportunity, None)
    created: list[OpportunityLine] = []
    with audited(actor):
        for old in OpportunityLine.objects.filter(opportunity=opportunity):
            old.delete()
        for position, data in enumerate(lines):
            line = OpportunityLine(opportunity=opportunity, position=position)
            _prepare_line(actor, opportunity, line, data)
            line.save()
            created.append(line)
        _recompute_amount(opportunity)
    return created


# --------------------------------------------------------------------------------------------
# Pipeline configuration (administrators and directors)

PIPELINE_FIELDS = frozenset({"name", "description", "position", "is_default", "is_active"})
STAGE_FIELDS = frozenset(
    {"name", "probability", "kind", "forecast_category", "usual_days", "position"}
)


def _clear_other_defaults(pipeline: Pipeline) -> None:
    for other in Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk):
        other.is_default = False
        other.save(update_fields=["is_default", "updated_at"])


@transaction.atomic
def create_pipeline(
    *, actor: User, data: Mapping[str, Any], stages: Iterable[Mapping[str, Any]] | None = None
) -> Pipeline:
    """A new pipeline; without ``stages`` it gets the standard ones."""
    ensure_can_configure(actor)
    pipeline = Pipeline()
    apply_changes(pipeline, dict(data), allowed=PIPELINE_FIELDS)
    if not Pipeline.objects.exists():
        pipeline.is_default = True
    if "position" not in data:
        top = Pipeline.objects.aggregate(p=Max("position"))["p"]
        pipeline.position = 0 if top is None else top + 1
    validate(pipeline)
    with audited(actor):
        pipeline.save()
        if pipeline.is_default:
            _clear_other_defaults(pipeline)
        for index, values in enumerate(stages if stages is not None else _default_stages()):
            stage = Stage(pipeline=pipeline, position=index)
            apply_changes(stage, dict(values), allowed=STAGE_FIELDS)
            validate(stage)
            stage.save()
    return pipeline


@transaction.atomic
def update_pipeline(*, actor: User, pipeline: Pipeline, changes: Mapping[str, Any]) -> Pipeline:
    """Rename, describe, reorder, make default or (de)activate a pipeline."""
    ensure_can_configure(actor)
    changed = apply_changes(pipeline, dict(changes), allowed=PIPELINE_FIELDS)
    if "is_default" in changed and not pipeline.is_default:
        raise InvalidInput(
            field_errors={"is_default": [_("Make another pipeline the default instead.")]}
        )
    if pipeline.is_default and not pipeline.is_active:
        raise InvalidInput(field_errors={"is_active": [_("The default pipeline stays active.")]})
    validate(pipeline)
    with audited(actor):
        if changed:
            pipeline.save(update_fields=[*changed, "updated_at"])
        if "is_default" in changed:
            _clear_other_defaults(pipeline)
    return pipeline


def _check_stage_kinds(pipeline: Pipeline) -> None:
    kinds = set(Stage.objects.filter(pipeline=pipeline).values_list("kind", flat=True))
    if StageKind.OPEN not in kinds:
        raise InvalidInput(field_errors={"kind": [_("A pipeline needs at least one open stage.")]})


@transaction.atomic
def create_stage(*, actor: User, pipeline: Pipeline, data: Mapping[str, Any]) -> Stage:
    """Add a stage to ``pipeline`` (at the end unless ``position`` is given)."""
    ensure_can_configure(actor)
    stage = Stage(pipeline=pipeline)
    values = dict(data)
    if values.get("usual_days") == "":
        values["usual_days"] = None
    apply_changes(stage, values, allowed=STAGE_FIELDS)
    if "position" not in values:
        top = Stage.objects.filter(pipeline=pipeline).aggregate(p=Max("position"))["p"]
        stage.position = 0 if top is None else top + 1
    validate(stage)
    with audited(actor):
        stage.save()
    return stage


@transaction.atomic
def update_stage(*, actor: User, stage: Stage, changes: Mapping[str, Any]) -> Stage:
    """Edit a stage: name, probability, kind, forecast category, usual days.

    Deals already in the stage keep their own probability (they took a copy when they moved).
    The kind of a stage with deals cannot change (their status would no longer match).
    """
    ensure_can_configure(actor)
    values = dict(changes)
    if values.get("usual_days") == "":
        values["usual_days"] = None
    old_kind = stage.kind
    changed = apply_changes(stage, values, allowed=STAGE_FIELDS)
    if "kind" in changed and Opportunity.objects.filter(stage=stage).exists():
        stage.kind = old_kind
        raise InvalidInput(
            field_errors={
                "kind": [_("Move this stage's deals elsewhere before changing its kind.")]
            }
        )
    validate(stage)
    with audited(actor):
        if changed:
            stage.save(update_fields=[*changed, "updated_at"])
        if "kind" in changed:
            _check_stage_kinds(stage.pipeline)
    return stage


@transaction.atomic
def reorder_stages(
    *,
    actor: User,
    pipeline: Pipeline,
    stage_ids: Iterable[int],
    expected_order: Iterable[int] | None = None,
) -> list[Stage]:
    """Put the pipeline's stages in the order of ``stage_ids`` (every stage, once).

    ``expected_order`` is the order the caller last read (a page, a drag and drop): if the
    stages were reordered, added or deleted since, nothing is saved (``Conflict``).
    """
    ensure_can_configure(actor)
    stages = {
        stage.pk: stage
        for stage in Stage.objects.select_for_update()
        .filter(pipeline=pipeline)
        .order_by("position", "pk")
    }
    if expected_order is not None and [_as_pk(pk) for pk in expected_order] != list(stages):
        raise Conflict(
            _(
                "Someone else changed the stages of this pipeline since you loaded it. "
                "Nothing was saved: reload the page and reorder them again."
            )
        )
    order = [_as_pk(pk) for pk in stage_ids]
    if sorted(pk for pk in order if pk) != sorted(stages) or len(order) != len(stages):
        raise InvalidInput(
            field_errors={"stages": [_("List every stage of the pipeline exactly once.")]}
        )
    with audited(actor):
        for position, pk in enumerate(order):
            stage = stages[pk]  # type: ignore[index]
            if stage.position != position:
                stage.position = position
                stage.save(update_fields=["position", "updated_at"])
    return [stages[pk] for pk in order]  # type: ignore[index]


@transaction.atomic
def delete_stage(*, actor: User, stage: Stage) -> None:
    """Delete an empty stage; a stage with deals (or history) is refused."""
    ensure_can_configure(actor)
    if Opportunity.objects.filter(stage=stage).exists():
        raise InvalidInput(
            _("This stage has deals (some may be in the trash): move them to another stage first.")
        )
    if StageChange.objects.filter(Q(to_stage=stage) | Q(from_stage=stage)).exists():
        raise InvalidInput(
            _("Deals have passed through this stage; its history keeps it. Rename it instead.")
        )
    pipeline = stage.pipeline
    with audited(actor):
        stage.delete()
        _check_stage_kinds(pipeline)


@transaction.atomic
def create_loss_reason(*, actor: User, data: Mapping[str, Any]) -> LossReason:
    """Add a reason to the loss reason list."""
    ensure_can_configure(actor)
    reason = LossReason()
    values = dict(data)
    apply_changes(reason, values, allowed={"name", "position", "is_active"})
    if "position" not in values:
        top = LossReason.objects.aggregate(p=Max("position"))["p"]
        reason.position = 0 if top is None else top + 1
    validate(reason)
    with audited(actor):
        reason.save()
    return reason


@transaction.atomic
def update_loss_reason(
    *, actor: User, reason: LossReason, changes: Mapping[str, Any]
) -> LossReason:
    """Rename, reorder or retire a loss reason (retired ones stay on the deals that used them)."""
    ensure_can_configure(actor)
    changed = apply_changes(reason, dict(changes), allowed={"name", "position", "is_active"})
    validate(reason)
    with audited(actor):
        if changed:
            reason.save(update_fields=[*changed, "updated_at"])
    return reason
