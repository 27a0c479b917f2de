"""Quotes (proposals): versioned documents built from an opportunity, approved, sent, accepted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cartera.catalog.models import Unit
from cartera.core.models import TimeStampedModel, VersionedModel
from cartera.core.money import DECIMAL_PLACES, MAX_DIGITS, validate_currency

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


def _money(label: Any, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        default=Decimal("0"),
        **kwargs,
    )


def _percent(label: Any) -> models.DecimalField:
    return models.DecimalField(
        label, max_digits=5, decimal_places=2, default=Decimal("0"), validators=PERCENT
    )


class QuoteStatus(models.TextChoices):
    """Where a quote (one version of it) stands."""

    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded")


#: Statuses whose lines and terms may still be edited.
EDITABLE_STATUSES = frozenset({QuoteStatus.DRAFT, QuoteStatus.REJECTED})
#: Statuses a new version may be made from.
REVISABLE_STATUSES = frozenset(
    {
        QuoteStatus.APPROVED,
        QuoteStatus.REJECTED,
        QuoteStatus.SENT,
        QuoteStatus.DECLINED,
        QuoteStatus.EXPIRED,
    }
)


class QuoteLanguage(models.TextChoices):
    """The language the client reads the quote in."""

    EN = "en", _("English")
    ES = "es", _("Spanish")


class QuoteSettings(TimeStampedModel):
    """The one row of quote settings, edited by administrators and directors."""

    approval_threshold = models.DecimalField(
        _("approval threshold (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("15"),
        validators=PERCENT,
        help_text=_("A discount above this needs a manager's approval before the quote is sent."),
    )
    won_on_accept = models.BooleanField(_("move the deal to won when accepted"), default=True)
    link_validity_days = models.PositiveSmallIntegerField(
        _("link validity (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )

    class Meta:
        verbose_name = _("quote settings")
        verbose_name_plural = _("quote settings")

    def __str__(self) -> str:
        return str(_("Quote settings"))

    @classmethod
    def load(cls) -> QuoteSettings:
        """The settings row (created with the defaults on first use)."""
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class QuoteQuerySet(models.QuerySet["Quote"]):
    """Reusable filters over quotes."""

    def visible_to(self, user: Any) -> Self:
        """Quotes of opportunities ``user`` may see (and that are not in the trash)."""
        from cartera.sales.models import Opportunity

        deals = Opportunity.objects.visible_to(user).alive().values("pk")
        return self.filter(opportunity_id__in=deals)


class Quote(VersionedModel):
    """One version of a quote. ``number`` names the family, ``revision`` the version in it.

    (``version`` is the optimistic-concurrency counter every versioned row has.)
    """

    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    number = models.CharField(_("number"), max_length=32, editable=False, default="")
    revision = models.PositiveSmallIntegerField(_("version"), default=1, editable=False)
    title = models.CharField(_("title"), max_length=200, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=16, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", validators=[validate_currency]
    )
    language = models.CharField(
        _("language"), max_length=2, choices=QuoteLanguage.choices, default=QuoteLanguage.EN
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    price_list = models.ForeignKey(
        "catalog.PriceList",
        verbose_name=_("price list"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    discount_percent = _percent(_("quote discount (%)"))
    notes = models.TextField(_("notes"), blank=True, default="", max_length=5000)
    terms = models.TextField(_("terms and conditions"), blank=True, default="", max_length=10000)
    # Stored totals, recomputed by the service on every change (see services.compute_totals).
    subtotal = _money(_("subtotal"))
    discount_amount = _money(_("discount"))
    tax_amount = _money(_("tax"))
    total = _money(_("total"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    recipient_name = models.CharField(_("recipient name"), max_length=200, blank=True, default="")
    recipient_email = models.EmailField(_("recipient email"), blank=True, default="")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, editable=False)
    # The public link: a random token whose SHA-256 is stored, valid until ``link_expires_at``.
    token_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    link_expires_at = models.DateTimeField(_("link expires"), null=True, blank=True, editable=False)

    objects = QuoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="quote_number_revision"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="quote_discount_range",
            ),
        ]
        indexes = [
            models.Index(fields=["opportunity", "-created_at"], name="quote_opp_idx"),
            models.Index(fields=["-updated_at", "-id"], name="quote_updated_idx"),
            models.Index(fields=["status", "-updated_at"], name="quote_status_idx"),
            models.Index(
                fields=["token_hash"], name="quote_token_idx", condition=~Q(token_hash="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.revision}"

    @property
    def is_editable(self) -> bool:
        """Lines and terms may change (draft or rejected)."""
        return self.status in EDITABLE_STATUSES

    @property
    def is_revisable(self) -> bool:
        """A new version may be made from it."""
        return self.status in REVISABLE_STATUSES


class QuoteLine(TimeStampedModel):
    """A line of a quote: a catalogue product or free text."""

    quote = models.ForeignKey(
        Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quote_lines",
    )
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.UNIT)
    unit_price = _money(_("unit price"), validators=[MinValueValidator(Decimal("0"))])
    discount_percent = _percent(_("discount (%)"))
    tax_rate = _percent(_("tax rate (%)"))
    #: quantity * unit price * (1 - line discount), rounded to the currency.
    net_amount = _money(_("net amount"))
    #: The share of the quote discount allocated to this line (for its tax).
    allocated_discount = _money(_("allocated quote discount"))
    tax_amount = _money(_("tax"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["quote", "position", "id"]
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        indexes = [models.Index(fields=["product", "quote"], name="quote_line_product_idx")]

    def __str__(self) -> str:
        return self.description

    def get_additional_data(self) -> dict[str, Any]:
        """Line changes show on the quote's history."""
        return {"quote_id": self.quote_id}


class ApprovalStatus(models.TextChoices):
    """Where an approval request stands."""

    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class QuoteApproval(TimeStampedModel):
    """A request for a manager to approve a quote's discount, and their decision."""

    quote = models.ForeignKey(
        Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="approvals"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    request_note = models.TextField(_("note"), blank=True, default="", max_length=2000)
    discount_percent = models.DecimalField(
        _("effective discount (%)"), max_digits=6, decimal_places=2, default=Decimal("0")
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    comment = models.TextField(_("comment"), blank=True, default="", max_length=2000)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["quote", "-created_at", "-id"]
        verbose_name = _("quote approval")
        verbose_name_plural = _("quote approvals")
        indexes = [models.Index(fields=["status", "created_at"], name="quote_approval_idx")]

    def __str__(self) -> str:
        return f"{self.quote_id}: {self.status}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"quote_id": self.quote_id}


class ResponseDecision(models.TextChoices):
    """What the client answered."""

    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class QuoteResponse(models.Model):
    """The client's answer through the public link: who, when, from where."""

    quote = models.OneToOneField(
        Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="response"
    )
    decision = models.CharField(_("decision"), max_length=8, choices=ResponseDecision.choices)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True, default="")
    comment = models.TextField(_("comment"), blank=True, default="", max_length=2000)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=500, blank=True, default="")
    responded_at = models.DateTimeField(_("answered"))

    class Meta:
        verbose_name = _("quote response")
        verbose_name_plural = _("quote responses")

    def __str__(self) -> str:
        return f"{self.quote_id}: {self.decision} ({self.name})"

    def get_additional_data(self) -> dict[str, Any]:
        return {"quote_id": self.quote_id}
