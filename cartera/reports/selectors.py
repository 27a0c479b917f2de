"""The sales reports: SQL aggregates over the deals the reader may see.

Every report starts from ``Opportunity.objects.visible_to(user)`` (a rep's reports cover their
own deals, a manager's their teams'), applies the shared ``ReportFilters`` and groups in the
database (``GROUP BY``); Python only turns the few grouped rows into ratios and averages with
``Decimal``. Amounts are never added across currencies: every money figure is grouped by
currency too.

Definitions (also in docs/reports.md):

- *Closed in the period*: ``closed_on`` within ``date_from``…``date_to``. Win rate, deal size,
  sales cycle and revenue use it. The pipeline by stage narrows open deals by expected close
  date; the conversion funnel takes the deals *created* in the period.
- *Win rate*: won ÷ (won + lost), as a percentage with two decimals (half-up).
- *Sales cycle*: days from the deal's creation day (``created_at`` in the reader's time zone)
  to ``closed_on``. Imports set ``created_at`` to the day the deal was engaged, so for the
  public data set this is ``engage_date`` → ``close_date``.
- *Revenue per product*: a won deal with one product line (or none) counts its whole amount for
  that product (or "No product"); a deal with several lines counts each line's net value
  (quantity times unit price, less the line discount) for the line's product.
- *Per product, a deal counts once*: the product breakdown joins each deal to its lines, so a
  deal listing a product on two lines is on two joined rows. Deal counts are ``DISTINCT``; per-deal
  figures (the sales cycle's days) are taken from the row of the deal's first line with that
  product only; revenue adds the net values of all the deal's lines with that product.
- Breakdowns by team, manager and office follow the owner's current team.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth, TruncQuarter
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cartera.core.errors import NotFound
from cartera.core.money import DECIMAL_PLACES, MAX_DIGITS, round_money
from cartera.sales.models import (
    Opportunity,
    OpportunityLine,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)
from cartera.users.models import User

from .filters import Dimension, ReportFilters

ColumnKind = Literal["text", "count", "money", "percent", "days", "currency", "date"]

HUNDRED = Decimal(100)
PERCENT_STEP = Decimal("0.01")
DAYS_STEP = Decimal("0.1")

MONEY: DecimalField[Decimal, Decimal] = DecimalField(
    max_digits=MAX_DIGITS + 6, decimal_places=DECIMAL_PLACES + 4
)


@dataclass(frozen=True, slots=True)
class ReportColumn:
    """One column of a report's table: the row key it shows, its header and its kind."""

    key: str
    header: str | Promise
    kind: ColumnKind = "text"


@dataclass(slots=True)
class Report:
    """A computed report: its table (columns and rows) and what its chart plots."""

    name: str
    title: str | Promise
    columns: tuple[ReportColumn, ...]
    rows: list[dict[str, Any]]
    chart: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Helpers


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole``, two decimals half-up; ``None`` when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(PERCENT_STEP, ROUND_HALF_UP)


def average_days(total: int | None, count: int) -> Decimal | None:
    """Average of ``count`` day counts summing to ``total``, one decimal half-up."""
    if not count or total is None:
        return None
    return (Decimal(total) / Decimal(count)).quantize(DAYS_STEP, ROUND_HALF_UP)


class DaysBetween(Func):
    """Whole days from the date ``start`` to the date ``end`` (both ``DateField`` values)."""

    output_field = IntegerField()
    arity = 2
    template = "(%(expressions)s)"
    arg_joiner = " - "  # PostgreSQL: date - date is an integer number of days.

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(ROUND(julianday(%(expressions)s)) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


def visible_deals(user: User, filters: ReportFilters) -> QuerySet[Opportunity]:
    """Deals ``user`` may see, not in the trash, narrowed by ``filters`` (dates aside)."""
    return filters.apply(Opportunity.objects.visible_to(user).alive()).order_by()


#: Dimension → (the grouped key, its label) as ``values()`` lookups.
DIMENSIONS: dict[str, tuple[str, str]] = {
    "owner": ("owner_id", "owner__full_name"),
    "team": ("owner__team_id", "owner__team__name"),
    "manager": ("owner__team__manager_id", "owner__team__manager__full_name"),
    "office": ("owner__team__office", "owner__team__office"),
    "product": ("lines__product_id", "lines__product__name"),
}

DIMENSION_LABELS: dict[str, Promise] = {
    "owner": _("Owner"),
    "team": _("Team"),
    "manager": _("Manager"),
    "office": _("Office"),
    "product": _("Product"),
}

EMPTY_LABELS: dict[str, Promise] = {
    "owner": _("No owner"),
    "team": _("No team"),
    "manager": _("No manager"),
    "office": _("No office"),
    "product": _("No product"),
}


def _line_count() -> Any:
    lines = (
        OpportunityLine.objects.filter(opportunity_id=OuterRef("pk"))
        .order_by()
        .values("opportunity_id")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(lines, output_field=IntegerField()), Value(0))


def _product_amount() -> Any:
    """What a deal's row counts for its product: the whole amount, or the line's net value."""
    net = ExpressionWrapper(
        F("lines__quantity")
        * F("lines__unit_price")
        * (Value(HUNDRED) - F("lines__discount_percent"))
        / Value(HUNDRED),
        output_field=MONEY,
    )
    return Case(When(line_count__lte=1, then=F("amount")), default=net, output_field=MONEY)


def _first_line_of_its_product() -> Any:
    """Whether a joined (deal, line) row is the deal's first line with that line's product.

    True too for a deal without lines (its one row joins no line). Free-text lines (no product)
    are one product, "No product", like in the grouping.
    """
    product_key = Coalesce("product_id", Value(0))
    earlier = (
        OpportunityLine.objects.filter(opportunity_id=OuterRef("pk"), pk__lt=OuterRef("lines__pk"))
        .alias(product_key=product_key)
        .filter(
            product_key=Coalesce(
                OuterRef("lines__product_id"), Value(0), output_field=BigIntegerField()
            )
        )
    )
    return ~Exists(earlier)


def _grouped(queryset: QuerySet[Opportunity], dimension: str) -> tuple[QuerySet[Any], str, str]:
    """``queryset`` grouped by ``dimension``; the key and label lookups to read."""
    key, label = DIMENSIONS[dimension]
    if dimension == "product":
        queryset = queryset.annotate(
            line_count=_line_count(), first_of_product=_first_line_of_its_product()
        )
    return queryset.values(key, label), key, label


def _amount(dimension: str) -> Any:
    return _product_amount() if dimension == "product" else F("amount")


def _deal_count(dimension: str, condition: Q | None = None) -> Count:
    # Joined to its lines, a deal appears once per line: count it once.
    return Count("pk", filter=condition, distinct=dimension == "product")


def _once_per_deal(dimension: str, condition: Q | None = None) -> Q | None:
    """``condition``, narrowed (product breakdown) to one joined row per deal and product, for
    sums of per-deal values that ``DISTINCT`` cannot deduplicate."""
    if dimension != "product":
        return condition
    once = Q(first_of_product=True)
    return once if condition is None else condition & once


def _label(row: dict[str, Any], label: str, dimension: str) -> str:
    return str(row[label] or EMPTY_LABELS[dimension])


def _money(value: Decimal | None, currency: str) -> Decimal:
    return round_money(value or Decimal(0), currency)


def _chart(
    kind: str,
    labels: Sequence[str],
    series: dict[str, list[Any]],
    *,
    y_label: str | Promise = "",
    suggested_max: int | None = None,
) -> dict[str, Any]:
    """What Chart.js plots: one dataset per series (numbers as strings, parsed by the page)."""
    return {
        "type": kind,
        "labels": [str(label) for label in labels],
        "datasets": [
            {"label": str(name), "data": [None if v is None else str(v) for v in values]}
            for name, values in series.items()
        ],
        "y_label": str(y_label),
        "suggested_max": suggested_max,
    }


def _money_series(
    rows: list[dict[str, Any]], value_key: str
) -> tuple[list[str], dict[str, list[Any]]]:
    """Labels in row order and one series per currency (never added together)."""
    labels = list(dict.fromkeys(row["label"] for row in rows))
    position = {label: n for n, label in enumerate(labels)}
    series: dict[str, list[Any]] = {}
    for row in rows:
        values = series.setdefault(row["currency"], [None] * len(labels))
        values[position[row["label"]]] = row[value_key]
    return labels, series


# ---------------------------------------------------------------------------------------------
# Reports


def pipeline_by_stage(user: User, filters: ReportFilters) -> Report:
    """Open deals per stage and currency: how many, their amount and their weighted amount."""
    deals = filters.in_period(
        visible_deals(user, filters).filter(status=StageKind.OPEN), "expected_close_date"
    )
    grouped = (
        deals.values(
            "pipeline_id",
            "pipeline__name",
            "stage_id",
            "stage__name",
            "stage__position",
            "currency",
        )
        .annotate(
            deals=Count("pk"),
            total=Sum("amount"),
            weighted_total=Sum(
                ExpressionWrapper(F("amount") * F("probability"), output_field=MONEY),
            ),
        )
        .order_by("pipeline__name", "pipeline_id", "stage__position", "stage_id", "currency")
    )
    rows = [
        {
            "pipeline": row["pipeline__name"],
            "label": row["stage__name"],
            "stage_id": row["stage_id"],
            "currency": row["currency"],
            "deals": row["deals"],
            "amount": _money(row["total"], row["currency"]),
            "weighted": _money((row["weighted_total"] or Decimal(0)) / HUNDRED, row["currency"]),
        }
        for row in grouped
    ]
    if len({row["pipeline"] for row in rows}) > 1:
        # Stage names repeat across pipelines: the chart tells them apart.
        chart_rows = [{**row, "label": f"{row['pipeline']} · {row['label']}"} for row in rows]
    else:
        chart_rows = rows
    labels, series = _money_series(chart_rows, "amount")
    return Report(
        name="pipeline",
        title=_("Pipeline by stage"),
        columns=(
            ReportColumn("pipeline", _("Pipeline")),
            ReportColumn("label", _("Stage")),
            ReportColumn("currency", _("Currency"), "currency"),
            ReportColumn("deals", _("Open deals"), "count"),
            ReportColumn("amount", _("Amount"), "money"),
            ReportColumn("weighted", _("Weighted amount"), "money"),
        ),
        rows=rows,
        chart=_chart("bar", labels, series, y_label=_("Amount")),
    )


def _report_pipeline(filters: ReportFilters) -> Pipeline | None:
    """The pipeline a funnel is drawn for: the first one filtered on, else the default one
    (``None`` before any pipeline exists)."""
    queryset = Pipeline.objects.all()
    if filters.pipeline:
        found = queryset.filter(pk=filters.pipeline[0]).first()
        if found is None:
            raise NotFound()
        return found
    return queryset.order_by("-is_default", "position", "name").first()


CONVERSION_COLUMNS = (
    ReportColumn("label", _("Stage")),
    ReportColumn("reached", _("Deals that reached it"), "count"),
    ReportColumn("next", _("Went on to the next stage"), "count"),
    ReportColumn("conversion", _("Conversion to next stage (%)"), "percent"),
    ReportColumn("win_rate", _("Won from here (%)"), "percent"),
)


def stage_conversion(user: User, filters: ReportFilters) -> Report:
    """Of the deals created in the period that reached each open stage, how many went further.

    A deal *reached* a stage when its stage history (or its current stage) shows it there or in
    a later open stage, or it was won. Deals lost are counted up to the furthest open stage they
    reached.
    """
    pipeline = _report_pipeline(filters)
    if pipeline is None:
        return Report("conversion", _("Stage-to-stage conversion"), CONVERSION_COLUMNS, [])
    stages = list(
        Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).order_by("position", "pk")
    )
    furthest_in_history = (
        StageChange.objects.filter(opportunity_id=OuterRef("pk"), to_stage__kind=StageKind.OPEN)
        .order_by()
        .values("opportunity_id")
        .annotate(furthest=Max("to_stage__position"))
        .values("furthest")
    )
    won_mark = 1 + max((stage.position for stage in stages), default=0)
    deals = filters.in_period(
        visible_deals(user, filters).filter(pipeline=pipeline), "created_at__date"
    )
    reach = (
        deals.annotate(
            reach=Case(
                When(status=StageKind.WON, then=Value(won_mark)),
                default=Coalesce(
                    Subquery(furthest_in_history, output_field=IntegerField()),
                    Case(When(stage__kind=StageKind.OPEN, then=F("stage__position"))),
                ),
                output_field=IntegerField(),
            )
        )
        .values("reach")
        .annotate(deals=Count("pk"))
    )
    at_reach = {row["reach"]: row["deals"] for row in reach}
    won = at_reach.get(won_mark, 0)

    def reached(position: int) -> int:
        return sum(n for mark, n in at_reach.items() if mark is not None and mark >= position)

    rows = []
    for index, stage in enumerate(stages):
        here = reached(stage.position)
        after = reached(stages[index + 1].position) if index + 1 < len(stages) else won
        rows.append(
            {
                "label": stage.name,
                "stage_id": stage.pk,
                "reached": here,
                "next": after,
                "conversion": percent(after, here),
                "won": won,
                "win_rate": percent(won, here),
            }
        )
    return Report(
        name="conversion",
        title=_("Stage-to-stage conversion"),
        columns=CONVERSION_COLUMNS,
        rows=rows,
        chart=_chart(
            "bar",
            [row["label"] for row in rows] + [str(_("Won"))],
            {str(_("Deals")): [row["reached"] for row in rows] + [won]},
            y_label=_("Deals"),
        ),
    )


def _closed(user: User, filters: ReportFilters) -> QuerySet[Opportunity]:
    return filters.in_period(
        visible_deals(user, filters).filter(status__in=[StageKind.WON, StageKind.LOST]),
        "closed_on",
    )


def win_rate(user: User, filters: ReportFilters) -> Report:
    """Won ÷ (won + lost) among the deals closed in the period, per ``filters.by``."""
    dimension = filters.by
    grouped, key, label = _grouped(_closed(user, filters), dimension)
    counts = grouped.annotate(
        won=_deal_count(dimension, Q(status=StageKind.WON)),
        lost=_deal_count(dimension, Q(status=StageKind.LOST)),
    )
    rows = sorted(
        (
            {
                "key": row[key],
                "label": _label(row, label, dimension),
                "won": row["won"],
                "lost": row["lost"],
                "closed": row["won"] + row["lost"],
                "win_rate": percent(row["won"], row["won"] + row["lost"]),
            }
            for row in counts
        ),
        key=_row_order,
    )
    return Report(
        name="win-rate",
        title=_("Win rate"),
        columns=(
            ReportColumn("label", DIMENSION_LABELS[dimension]),
            ReportColumn("won", _("Won"), "count"),
            ReportColumn("lost", _("Lost"), "count"),
            ReportColumn("closed", _("Closed"), "count"),
            ReportColumn("win_rate", _("Win rate (%)"), "percent"),
        ),
        rows=rows,
        chart=_chart(
            "bar",
            [row["label"] for row in rows],
            {str(_("Win rate (%)")): [row["win_rate"] for row in rows]},
            y_label=_("Win rate (%)"),
            suggested_max=100,
        ),
    )


def _row_order(row: dict[str, Any]) -> tuple[Any, ...]:
    return (str(row["label"]).casefold(), str(row.get("key")), row.get("currency", ""))


def deal_size(user: User, filters: ReportFilters) -> Report:
    """Won deals closed in the period per ``filters.by`` and currency: count, total, average."""
    dimension = filters.by
    won = _closed(user, filters).filter(status=StageKind.WON)
    grouped, key, label = _grouped(won, dimension)
    totals = grouped.annotate(deals=_deal_count(dimension), total=Sum(_amount(dimension))).values(
        key, label, "currency", "deals", "total"
    )
    rows = sorted(
        (
            {
                "key": row[key],
                "label": _label(row, label, dimension),
                "currency": row["currency"],
                "deals": row["deals"],
                "total": _money(row["total"], row["currency"]),
                "average": _money(
                    (row["total"] or Decimal(0)) / row["deals"] if row["deals"] else None,
                    row["currency"],
                ),
            }
            for row in totals
        ),
        key=_row_order,
    )
    labels, series = _money_series(rows, "average")
    return Report(
        name="deal-size",
        title=_("Average deal size"),
        columns=(
            ReportColumn("label", DIMENSION_LABELS[dimension]),
            ReportColumn("currency", _("Currency"), "currency"),
            ReportColumn("deals", _("Won deals"), "count"),
            ReportColumn("total", _("Won amount"), "money"),
            ReportColumn("average", _("Average won deal"), "money"),
        ),
        rows=rows,
        chart=_chart("bar", labels, series, y_label=_("Average won deal")),
    )


def sales_cycle(user: User, filters: ReportFilters) -> Report:
    """Average days from creation to close of the deals closed in the period, per ``by``."""
    dimension = filters.by
    grouped, key, label = _grouped(
        _closed(user, filters).annotate(days=DaysBetween(F("closed_on"), TruncDate("created_at"))),
        dimension,
    )
    won = Q(status=StageKind.WON)
    totals = grouped.annotate(
        deals=_deal_count(dimension),
        days_total=Sum("days", filter=_once_per_deal(dimension)),
        won_deals=_deal_count(dimension, won),
        won_days=Sum("days", filter=_once_per_deal(dimension, won)),
    )
    rows = sorted(
        (
            {
                "key": row[key],
                "label": _label(row, label, dimension),
                "deals": row["deals"],
                "average_days": average_days(row["days_total"], row["deals"]),
                "won_deals": row["won_deals"],
                "average_days_won": average_days(row["won_days"], row["won_deals"]),
            }
            for row in totals
        ),
        key=_row_order,
    )
    return Report(
        name="sales-cycle",
        title=_("Sales cycle length"),
        columns=(
            ReportColumn("label", DIMENSION_LABELS[dimension]),
            ReportColumn("deals", _("Closed deals"), "count"),
            ReportColumn("average_days", _("Average days to close"), "days"),
            ReportColumn("won_deals", _("Won deals"), "count"),
            ReportColumn("average_days_won", _("Average days to win"), "days"),
        ),
        rows=rows,
        chart=_chart(
            "bar",
            [row["label"] for row in rows],
            {
                str(_("Average days to close")): [row["average_days"] for row in rows],
                str(_("Average days to win")): [row["average_days_won"] for row in rows],
            },
            y_label=_("Days"),
        ),
    )


def revenue_by_product(user: User, filters: ReportFilters) -> Report:
    """Won amount per product and currency among the deals closed in the period."""
    won = _closed(user, filters).filter(status=StageKind.WON)
    grouped, key, label = _grouped(won, "product")
    totals = grouped.annotate(deals=_deal_count("product"), revenue=Sum(_product_amount())).values(
        key, label, "currency", "deals", "revenue"
    )
    rows = sorted(
        (
            {
                "key": row[key],
                "label": _label(row, label, "product"),
                "currency": row["currency"],
                "deals": row["deals"],
                "revenue": _money(row["revenue"], row["currency"]),
            }
            for row in totals
        ),
        key=_row_order,
    )
    labels, series = _money_series(rows, "revenue")
    return Report(
        name="revenue-by-product",
        title=_("Revenue won per product"),
        columns=(
            ReportColumn("label", _("Product")),
            ReportColumn("currency", _("Currency"), "currency"),
            ReportColumn("deals", _("Won deals"), "count"),
            ReportColumn("revenue", _("Revenue won"), "money"),
        ),
        rows=rows,
        chart=_chart("bar", labels, series, y_label=_("Revenue won")),
    )


def period_label(start: Any, kind: str) -> str:
    """``2017-03`` for a month, ``2017 Q1`` for a quarter."""
    if kind == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


def revenue_by_period(user: User, filters: ReportFilters) -> Report:
    """Won amount per month or quarter of closing, and currency."""
    trunc: Callable[..., Any] = TruncQuarter if filters.period == "quarter" else TruncMonth
    won = _closed(user, filters).filter(status=StageKind.WON)
    totals = (
        won.annotate(bucket=trunc("closed_on"))
        .values("bucket", "currency")
        .annotate(deals=Count("pk"), revenue=Sum("amount"))
        .order_by("bucket", "currency")
    )
    rows = [
        {
            "key": row["bucket"],
            "label": period_label(row["bucket"], filters.period),
            "period_start": row["bucket"],
            "currency": row["currency"],
            "deals": row["deals"],
            "revenue": _money(row["revenue"], row["currency"]),
        }
        for row in totals
    ]
    labels, series = _money_series(rows, "revenue")
    return Report(
        name="revenue-by-period",
        title=_("Revenue won per period"),
        columns=(
            ReportColumn("label", _("Period")),
            ReportColumn("period_start", _("Starts"), "date"),
            ReportColumn("currency", _("Currency"), "currency"),
            ReportColumn("deals", _("Won deals"), "count"),
            ReportColumn("revenue", _("Revenue won"), "money"),
        ),
        rows=rows,
        chart=_chart("line", labels, series, y_label=_("Revenue won")),
    )


@dataclass(frozen=True, slots=True)
class ReportKind:
    """A report the pages and the API offer: its URL name, title, blurb and selector."""

    name: str
    title: str | Promise
    description: str | Promise
    build: Callable[[User, ReportFilters], Report]
    uses_by: bool = False
    uses_period: bool = False


REPORTS: dict[str, ReportKind] = {
    kind.name: kind
    for kind in (
        ReportKind(
            "pipeline",
            _("Pipeline by stage"),
            _("Open deals per stage: count, amount and weighted amount."),
            pipeline_by_stage,
        ),
        ReportKind(
            "conversion",
            _("Stage-to-stage conversion"),
            _("Of the deals that reached each stage, how many went on and how many were won."),
            stage_conversion,
        ),
        ReportKind(
            "win-rate",
            _("Win rate"),
            _("Won against won plus lost, per rep, team, manager, office or product."),
            win_rate,
            uses_by=True,
        ),
        ReportKind(
            "deal-size",
            _("Average deal size"),
            _("Won deals: how many, their total and their average, per currency."),
            deal_size,
            uses_by=True,
        ),
        ReportKind(
            "sales-cycle",
            _("Sales cycle length"),
            _("Average days from a deal's creation to its close."),
            sales_cycle,
            uses_by=True,
        ),
        ReportKind(
            "revenue-by-product",
            _("Revenue won per product"),
            _("Won amount per product on the deals."),
            revenue_by_product,
        ),
        ReportKind(
            "revenue-by-period",
            _("Revenue won per period"),
            _("Won amount per month or quarter of closing."),
            revenue_by_period,
            uses_period=True,
        ),
    )
}


def build_report(user: User, name: str, filters: ReportFilters) -> Report:
    """The report called ``name`` for ``user``; an unknown name is a ``NotFound``."""
    kind = REPORTS.get(name)
    if kind is None:
        raise NotFound()
    return kind.build(user, filters)


def report_dimensions() -> list[tuple[Dimension, Promise]]:
    """The breakdowns a report can group by, with their labels."""
    return [(name, label) for name, label in DIMENSION_LABELS.items()]  # type: ignore[misc]


@dataclass(slots=True)
class FilterOptions:
    """What the report filter bar offers ``user``: only people and teams they may see."""

    pipelines: list[tuple[int, str]]
    owners: list[tuple[int, str]]
    teams: list[tuple[int, str]]
    managers: list[tuple[int, str]]
    offices: list[tuple[str, str]]


def report_filter_options(user: User) -> FilterOptions:
    """Pipelines, and the people, teams, managers and offices in ``user``'s scope."""
    from cartera.users.access import scope_user_ids
    from cartera.users.models import Team

    scope = scope_user_ids(user)
    people = User.objects.filter(is_active=True)
    teams = Team.objects.all()
    if scope is not None:
        people = people.filter(pk__in=scope)
        teams = teams.filter(Q(members__in=scope) | Q(manager__in=scope)).distinct()
    team_rows = list(teams.order_by("name").values_list("pk", "name", "manager_id", "office"))
    manager_ids = {manager for _, _, manager, _ in team_rows if manager}
    managers = (
        list(User.objects.filter(pk__in=manager_ids).order_by("full_name")) if manager_ids else []
    )
    return FilterOptions(
        pipelines=list(Pipeline.objects.order_by("position", "name").values_list("pk", "name")),
        owners=[(person.pk, str(person)) for person in people.order_by("full_name")],
        teams=[(pk, name) for pk, name, _, _ in team_rows],
        managers=[(person.pk, str(person)) for person in managers],
        offices=[(office, office) for office in sorted({row[3] for row in team_rows if row[3]})],
    )
