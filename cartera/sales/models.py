"""Pipelines with configurable stages, and the opportunities (deals) that move through them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any, Self

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import BigIntegerField, BooleanField, F, Func, Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cartera.core.models import SoftDeleteModel, SoftDeleteQuerySet, TimeStampedModel
from cartera.core.money import DECIMAL_PLACES, MAX_DIGITS, validate_currency
from cartera.core.text import normalize
from cartera.users.access import scope_user_ids

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class StageKind(models.TextChoices):
    """Whether a stage is still being worked, or closes the deal."""

    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class ForecastCategory(models.TextChoices):
    """How sure the owner is of a deal, for the forecast (best case includes commit)."""

    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", _("Closed")
    OMITTED = "omitted", _("Omitted")


class OpportunityType(models.TextChoices):
    """What kind of business the deal is."""

    NEW_BUSINESS = "new_business", _("New business")
    UPSELL = "upsell", _("Upsell")
    CROSS_SELL = "cross_sell", _("Cross-sell")
    RENEWAL = "renewal", _("Renewal")


class ContactRole(models.TextChoices):
    """A contact's part in a deal."""

    DECISION_MAKER = "decision_maker", _("Decision maker")
    ECONOMIC_BUYER = "economic_buyer", _("Economic buyer")
    CHAMPION = "champion", _("Champion")
    INFLUENCER = "influencer", _("Influencer")
    TECHNICAL_BUYER = "technical_buyer", _("Technical evaluator")
    USER = "user", _("User")
    OTHER = "other", _("Other")


class Pipeline(TimeStampedModel):
    """A sales process with its own ordered stages (new business, renewals…)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True, default="", max_length=2000)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_default = models.BooleanField(_("default pipeline"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self) -> str:
        return self.name


class Stage(TimeStampedModel):
    """One step of a pipeline, with the probability a deal there is won."""

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=10, validators=PERCENT
    )
    kind = models.CharField(
        _("kind"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN
    )
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    usual_days = models.PositiveIntegerField(
        _("usual days in stage"),
        null=True,
        blank=True,
        help_text=_("Deals here longer than this are flagged as stuck."),
    )

    class Meta:
        ordering = ["pipeline", "position", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique"),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=100),
                name="stage_probability_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_additional_data(self) -> dict[str, Any]:
        """Stage changes show on the pipeline's history."""
        return {"pipeline_id": self.pipeline_id}


class LossReason(TimeStampedModel):
    """Why deals are lost: a configurable list."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")

    def __str__(self) -> str:
        return self.name


#: Above this many visible accounts, deal visibility uses a subquery instead of an id list.
VISIBLE_ACCOUNTS_LIMIT = 5000
#: The same on PostgreSQL, where the list is one array parameter (``in_ids``):
#: reading 20,000 ids once per request costs less than the subquery again in every query.
VISIBLE_ACCOUNTS_ARRAY_LIMIT = 20_000


class InArray(Func):
    """``column IN (SELECT unnest(array))`` (PostgreSQL): ``InArray(F(column), Value(ids))``.

    Not ``column = ANY(array)``: the planner estimates that per element of a constant array
    (~11 ms for 6,000 ids, in every query); a subquery over ``unnest`` is planned at once and
    run as one hashed set.
    """

    arg_joiner = " IN (SELECT unnest(CAST("
    template = "(%(expressions)s AS bigint[]))))"
    output_field = BooleanField()


class IdList(list[int]):
    """Ids read from the database, with their PostgreSQL array literal written once.

    A request that uses the same ids in several queries (the board: totals and six columns)
    writes ``'{1,2,…}'`` once instead of the driver quoting every element in every query.
    """

    @cached_property
    def array_literal(self) -> str:
        """``{1,2,3}``: the text form of a ``bigint[]``."""
        return "{" + ",".join(map(str, map(int, self))) + "}"


def array_literal(ids: list[int]) -> str:
    """The text form of ``ids`` as a PostgreSQL ``bigint[]`` (cached on an ``IdList``)."""
    if isinstance(ids, IdList):
        return ids.array_literal
    return "{" + ",".join(map(str, map(int, ids))) + "}"


class IdArray(Value):
    """A list of ids as one array parameter: its text form, cast to ``bigint[]`` in the SQL.

    ``Value(ids, output_field=ArrayField(...))`` prepares every element through the field
    (~35 ms per query for 6,000 ids); the driver's own list dumper quotes every element in
    Python (~5 ms per query for 14,000 ids); the text literal is one string parameter.
    """

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [array_literal(self.value)]


class AnyOfArray(Func):
    """``column = ANY(ARRAY(SELECT unnest(array)))`` (PostgreSQL): an index probe per id.

    The array is the result of an init plan, so the planner neither estimates it per element
    nor hashes it: for reading a few deals per id through an index (``opp_account_idx``)
    rather than testing many rows against the set (``InArray``).
    """

    arg_joiner = " = ANY(ARRAY(SELECT unnest(CAST("
    template = "(%(expressions)s AS bigint[])))))"
    output_field = BooleanField()


def in_ids(field: str, ids: list[int], *, probe: bool = False) -> Q:
    """``field IN (ids)``; on PostgreSQL the ids are one array parameter (``InArray``).

    Thousands of literals cost the database parsing and planning, and Django and the driver
    formatting, in every query that repeats them. ``probe``: read the rows of each id through
    ``field``'s index (``AnyOfArray``), for a few rows per id out of many.
    """
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__in": ids})
    expression = AnyOfArray if probe else InArray
    return Q(expression(F(field), IdArray(ids, output_field=BigIntegerField())))


@dataclass(frozen=True)
class DealVisibility:
    """Which deals a person whose view is scoped sees: owned by ``owners``, or on ``accounts``.

    ``accounts`` (the accounts they see: owned by, or with on the account team, someone in
    scope) is a list of ids, or a subquery when there are more than
    ``VISIBLE_ACCOUNTS_LIMIT`` (``VISIBLE_ACCOUNTS_ARRAY_LIMIT`` on PostgreSQL, where the list
    is one array parameter: ``in_ids``).
    """

    owners: frozenset[int]
    accounts: Any

    @property
    def sees_nothing(self) -> bool:
        """An empty scope (inactive or signed-out people)."""
        return not self.owners

    def condition(self) -> Q:
        """The deals they see."""
        condition = Q(owner_id__in=self.owners)
        if isinstance(self.accounts, list):
            if self.accounts:
                condition |= in_ids("account_id", self.accounts)
        else:
            condition |= Q(account_id__in=self.accounts)
        return condition

    def row_condition(self) -> Q:
        """The deals they see, tested per deal against its account's owner (a join).

        The same deals as ``condition()``. For reading the first few rows of an index (a board
        column's cards) when they see many accounts: each deal's account is looked up by key
        instead of building the hashed set of thousands of ids for every query (~1.5 ms against
        ~5 ms per column for 14,000 accounts).
        """
        from cartera.accounts.models import AccountTeamMember

        on_team = AccountTeamMember.objects.filter(user_id__in=self.owners).values("account_id")
        return (
            Q(owner_id__in=self.owners)
            | Q(account__owner_id__in=self.owners)
            | Q(account_id__in=on_team)
        )

    def through_accounts(self) -> Q | None:
        """The deals they see only through the account: owned outside their scope."""
        if isinstance(self.accounts, list):
            if not self.accounts:
                return None
            return in_ids("account_id", self.accounts, probe=True) & ~Q(owner_id__in=self.owners)
        return Q(account_id__in=self.accounts) & ~Q(owner_id__in=self.owners)


def deal_visibility(user: Any) -> DealVisibility | None:
    """What ``user`` sees of the deals; ``None`` for everything (directors, administrators).

    Reads the accounts they see first (one small query), so the database can combine the owner
    and account indexes (``opp_owner_idx``, ``opp_account_idx``) instead of testing every deal
    against a join and a subquery; more than ``VISIBLE_ACCOUNTS_LIMIT`` keeps the subquery.
    """
    from cartera.accounts.models import Account, AccountTeamMember

    scope = scope_user_ids(user)
    if scope is None:
        return None
    if not scope:
        return DealVisibility(owners=frozenset(), accounts=[])
    on_team = AccountTeamMember.objects.filter(user_id__in=scope).values("account_id")
    accounts = Account.objects.filter(Q(owner_id__in=scope) | Q(pk__in=on_team)).values_list(
        "pk", flat=True
    )
    postgresql = connection.vendor == "postgresql"
    limit = VISIBLE_ACCOUNTS_ARRAY_LIMIT if postgresql else VISIBLE_ACCOUNTS_LIMIT
    # The same ids as ``accounts``, read as three index scans (``UNION ALL``): the alive
    # accounts they own (index-only on ``account_owner_name_idx``), the trashed ones they own
    # (``account_trash_idx``: a handful) and the account teams. ``owner IN … OR id IN (team)``
    # is a scan of the whole table no index serves (~45 ms for 100,000 accounts, against
    # ~10 ms). Duplicates (an owner also on the team) are dropped here; more than ``limit``
    # rows, duplicates included, keeps the subquery.
    owned = Account.objects.filter(owner_id__in=scope)
    rows = list(
        owned.filter(deleted_at=None)
        .values_list("pk", flat=True)
        .union(
            owned.filter(deleted_at__isnull=False).values_list("pk", flat=True),
            AccountTeamMember.objects.filter(user_id__in=scope).values_list(
                "account_id", flat=True
            ),
            all=True,
        )[: limit + 1]
    )
    if len(rows) > limit:
        return DealVisibility(owners=scope, accounts=accounts)
    return DealVisibility(owners=scope, accounts=IdList(dict.fromkeys(rows)))


class OpportunityQuerySet(SoftDeleteQuerySet):
    """Reusable filters over opportunities."""

    def visible_to(self, user: Any) -> Self:
        """Deals ``user`` may see: owned by someone in their scope, or on an account they see.

        See ``deal_visibility``.
        """
        return self.seen_with(deal_visibility(user))

    def seen_with(self, visibility: DealVisibility | None) -> Self:
        """The deals a ``deal_visibility()`` result allows (``None``: every deal)."""
        if visibility is None:
            return self
        if visibility.sees_nothing:
            return self.none()
        return self.filter(visibility.condition())

    def open(self) -> Self:
        """Deals still being worked."""
        return self.filter(status=StageKind.OPEN)


class Opportunity(SoftDeleteModel):
    """A deal: what we hope to sell to an account, for how much, and by when."""

    name = models.CharField(_("name"), max_length=200)
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("The record's id in the system it was imported from."),
    )
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    #: Copied from the stage's kind on every move: open, won or lost.
    status = models.CharField(
        _("status"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN
    )
    type = models.CharField(
        _("type"),
        max_length=14,
        choices=OpportunityType.choices,
        default=OpportunityType.NEW_BUSINESS,
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", validators=[validate_currency]
    )
    #: The stage's probability unless the owner overrides it.
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=10, validators=PERCENT
    )
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    loss_reason = models.ForeignKey(
        LossReason,
        verbose_name=_("loss reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    loss_note = models.TextField(_("loss details"), blank=True, default="", max_length=2000)
    next_step = models.CharField(_("next step"), max_length=255, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="", max_length=10000)
    stage_entered_at = models.DateTimeField(
        _("in stage since"), default=timezone.now, editable=False
    )
    name_key = models.CharField(max_length=200, editable=False, default="")
    search_text = models.CharField(max_length=500, editable=False, default="")

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            # Board columns: one index range per stage, soonest close first.
            models.Index(
                fields=["stage", "expected_close_date", "id"],
                name="opp_board_idx",
                condition=Q(deleted_at=None),
            ),
            # Won and lost columns of the board: latest close first.
            models.Index(
                fields=["stage", "-closed_on", "-id"],
                name="opp_board_closed_idx",
                condition=Q(deleted_at=None),
            ),
            # Board totals: an index-only range per stage (closed deals by recent close day).
            models.Index(
                fields=["stage", "closed_on", "currency", "amount", "probability"],
                name="opp_board_totals_idx",
                condition=Q(deleted_at=None),
            ),
            # The deal list sorted by amount.
            models.Index(
                fields=["amount", "id"], name="opp_amount_idx", condition=Q(deleted_at=None)
            ),
            # A rep's deals by stage and close date (board and forecast for one owner).
            models.Index(
                fields=["owner", "status", "expected_close_date"],
                name="opp_owner_idx",
                condition=Q(deleted_at=None),
            ),
            # The trash page: most recently trashed first (TRASH_ORDERING), trashed deals only.
            models.Index(
                fields=["-deleted_at", "-id"],
                name="opp_trash_idx",
                condition=~Q(deleted_at=None),
            ),
            # Forecast: open deals by expected close month.
            models.Index(
                fields=["status", "expected_close_date"],
                name="opp_forecast_idx",
                condition=Q(deleted_at=None),
            ),
            # Reports: closed deals by close date.
            models.Index(
                fields=["status", "closed_on"],
                name="opp_closed_idx",
                condition=Q(deleted_at=None),
            ),
            models.Index(
                fields=["account", "status"], name="opp_account_idx", condition=Q(deleted_at=None)
            ),
            models.Index(
                fields=["name_key", "id"], name="opp_name_idx", condition=Q(deleted_at=None)
            ),
            models.Index(
                fields=["-updated_at", "-id"], name="opp_updated_idx", condition=Q(deleted_at=None)
            ),
            models.Index(
                fields=["external_id"],
                name="opp_external_id_idx",
                condition=~Q(external_id="") & Q(deleted_at=None),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=100),
                name="opp_probability_range",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="opp_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_search_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "name_key", "search_text", "updated_at"}
        super().save(*args, **kwargs)

    def refresh_search_fields(self) -> None:
        """The derived sort and search columns; ``save()`` and bulk writers call it."""
        self.name_key = normalize(self.name)[:200]
        self.search_text = normalize(f"{self.name} {self.external_id}")[:500]

    @property
    def weighted_amount(self) -> Decimal:
        """Amount times probability, unrounded."""
        return self.amount * Decimal(self.probability) / Decimal(100)


class OpportunityContact(TimeStampedModel):
    """A contact involved in a deal, with their role in it."""

    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        related_name="contact_roles",
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="opportunity_roles",
    )
    role = models.CharField(
        _("role"), max_length=16, choices=ContactRole.choices, default=ContactRole.OTHER
    )

    class Meta:
        verbose_name = _("deal contact")
        verbose_name_plural = _("deal contacts")
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "contact"], name="opp_contact_unique")
        ]
        indexes = [models.Index(fields=["contact", "opportunity"], name="opp_contact_idx")]

    def __str__(self) -> str:
        return f"{self.contact} — {self.get_role_display()}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"opportunity_id": self.opportunity_id}


class OpportunityLine(TimeStampedModel):
    """A product on the deal (in the opportunity's currency)."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunity_lines",
    )
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["opportunity", "position", "id"]
        verbose_name = _("deal product")
        verbose_name_plural = _("deal products")
        indexes = [models.Index(fields=["product", "opportunity"], name="opp_line_product_idx")]

    def __str__(self) -> str:
        return self.description or str(self.product)

    def get_additional_data(self) -> dict[str, Any]:
        return {"opportunity_id": self.opportunity_id}


class StageChange(models.Model):
    """One move of a deal into a stage: the stage history, time in stage and conversion."""

    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        related_name="stage_changes",
    )
    from_stage = models.ForeignKey(
        Stage,
        verbose_name=_("from stage"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        Stage, verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["opportunity", "changed_at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            models.Index(fields=["opportunity", "changed_at"], name="stage_change_opp_idx"),
            models.Index(fields=["to_stage", "changed_at"], name="stage_change_to_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"


#: ``OpportunityRollup.month`` of deals without a forecast day (no expected close date).
NO_MONTH = dt.date(1, 1, 1)


class OpportunityRollup(models.Model):
    """Live deals summed per bucket, kept exact by every write: what the board and forecast read.

    One row per (pipeline, stage, owner, type, currency, status, forecast category, month);
    ``month`` is the first day of the month of the deal's forecast day (its close day when won
    or lost, its expected close date when open; ``NO_MONTH`` when it has none). Maintained in
    ``cartera.sales.rollups`` only; see ``docs/pipeline.md`` ("Totals at scale").
    """

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="+")
    # Served by the key's index (owner first) and ``opp_rollup_stage_idx``.
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+", db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    type = models.CharField(max_length=14)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=4)
    forecast_category = models.CharField(max_length=10)
    month = models.DateField()
    #: How many deals, Σ ROUND(amount x 100) and Σ ROUND(amount x 100) x probability.
    deals = models.BigIntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)
    weighted = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("deal totals")
        verbose_name_plural = _("deal totals")
        constraints = [
            # The upsert's conflict target; an owner's rows first (scoped boards, forecasts).
            models.UniqueConstraint(
                fields=[
                    "owner",
                    "stage",
                    "month",
                    "type",
                    "currency",
                    "forecast_category",
                    "status",
                    "pipeline",
                ],
                name="opp_rollup_key",
            )
        ]
        indexes = [
            models.Index(fields=["stage", "month"], name="opp_rollup_stage_idx"),
            models.Index(fields=["month", "status"], name="opp_rollup_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.stage_id}/{self.owner_id}/{self.month}: {self.deals}"
