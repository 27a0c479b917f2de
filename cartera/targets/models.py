"""Sales targets (quotas): how much a person or a team should win in a month, quarter or year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cartera.core.models import VersionedModel
from cartera.core.money import DECIMAL_PLACES, MAX_DIGITS, validate_currency
from cartera.users.access import scope_user_ids


class PeriodKind(models.TextChoices):
    """How long a target's period is."""

    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class TargetMetric(models.TextChoices):
    """What a target counts: the amount won, or the number of deals won."""

    WON_AMOUNT = "won_amount", _("Won amount")
    DEAL_COUNT = "deal_count", _("Deals won")


def period_start_of(kind: str, day: dt.date) -> dt.date:
    """The first day of the period of ``kind`` that contains ``day``."""
    if kind == PeriodKind.YEAR:
        return day.replace(month=1, day=1)
    if kind == PeriodKind.QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(day=1)


def shift_period(kind: str, start: dt.date, periods: int) -> dt.date:
    """The start of the period ``periods`` away from the one starting on ``start``."""
    months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[PeriodKind(kind)]
    index = start.year * 12 + start.month - 1 + months * periods
    return dt.date(index // 12, index % 12 + 1, 1)


def period_end_of(kind: str, start: dt.date) -> dt.date:
    """The last day of the period of ``kind`` starting on ``start``."""
    return shift_period(kind, start, 1) - dt.timedelta(days=1)


class TargetQuerySet(models.QuerySet["Target"]):
    """Reusable filters over targets."""

    def visible_to(self, user: Any) -> Self:
        """Targets ``user`` may read: of people in their scope, and of teams they belong to or
        manage (directors and administrators: all)."""
        scope = scope_user_ids(user)
        if scope is None:
            return self
        if not user.is_authenticated:
            return self.none()
        teams = Q(team__manager_id=user.pk)
        if user.team_id:
            teams |= Q(team_id=user.team_id)
        return self.filter(Q(user_id__in=scope) | teams)


class Target(VersionedModel):
    """A quota for one person or one team (never both) over one period, on one metric."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="targets",
    )
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="targets",
    )
    period_kind = models.CharField(
        _("period"), max_length=7, choices=PeriodKind.choices, default=PeriodKind.MONTH
    )
    period_start = models.DateField(_("period starts"))
    metric = models.CharField(
        _("metric"), max_length=10, choices=TargetMetric.choices, default=TargetMetric.WON_AMOUNT
    )
    value = models.DecimalField(
        _("target"),
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        blank=True,
        default="",
        help_text=_("For amount targets: only deals in this currency count."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = TargetQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "period_kind", "id"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(team__isnull=True))
                | (Q(user__isnull=True) & Q(team__isnull=False)),
                name="target_user_xor_team",
                violation_error_message=_("A target is for one person or one team."),
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="target_value_positive"),
            models.UniqueConstraint(
                fields=["user", "period_kind", "period_start", "metric"],
                condition=Q(user__isnull=False),
                name="target_user_period_unique",
                violation_error_message=_(
                    "This person already has a target on this metric for this period."
                ),
            ),
            models.UniqueConstraint(
                fields=["team", "period_kind", "period_start", "metric"],
                condition=Q(team__isnull=False),
                name="target_team_period_unique",
                violation_error_message=_(
                    "This team already has a target on this metric for this period."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["period_kind", "period_start"], name="target_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_name} — {self.period_label}"

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if (self.user_id is None) == (self.team_id is None):
            errors["user"] = [_("Choose a person or a team, not both.")]
        if self.period_start and self.period_start != period_start_of(
            self.period_kind, self.period_start
        ):
            errors["period_start"] = [
                _("A period starts on the first day of its month, quarter or year.")
            ]
        if self.metric == TargetMetric.WON_AMOUNT:
            if not self.currency:
                errors["currency"] = [_("An amount target needs a currency.")]
            else:
                try:
                    validate_currency(self.currency)
                except ValidationError as exc:
                    errors["currency"] = list(exc.messages)
        else:
            self.currency = ""
            if self.value is not None and self.value != self.value.to_integral_value():
                errors["value"] = [_("A number of deals is a whole number.")]
        if errors:
            raise ValidationError(errors)

    @property
    def period_end(self) -> dt.date:
        """The period's last day."""
        return period_end_of(self.period_kind, self.period_start)

    @property
    def period_label(self) -> str:
        """``2026-03``, ``2026 Q1`` or ``2026``."""
        start = self.period_start
        if self.period_kind == PeriodKind.YEAR:
            return str(start.year)
        if self.period_kind == PeriodKind.QUARTER:
            return f"{start.year} Q{(start.month - 1) // 3 + 1}"
        return f"{start.year}-{start.month:02d}"

    @property
    def subject_name(self) -> str:
        """Whose target it is."""
        return str(self.user if self.user_id else self.team)
