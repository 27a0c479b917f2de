"""Every write to quotes: building, totals, approval, sending, versions, the client's answer.

Totals (``compute_totals``) are exact ``Decimal`` arithmetic rounded half-up to the currency's
minor unit (``cartera.core.money.round_money``):

1. each line's net = quantity * unit price * (1 - line discount), rounded per line;
2. subtotal = the sum of the line nets; the quote discount = subtotal * quote discount, rounded;
3. for tax, the quote discount is spread over the lines in proportion to their nets by
   cumulative rounding (line *i* gets round(D * C_i / S) - round(D * C_{i-1} / S), where C is
   the running sum of nets): the shares add up to the discount exactly and each is within one
   minor unit of its exact share;
4. each line's tax = (its net - its share of the discount) * its tax rate, rounded per line;
   the tax is the sum of the lines' taxes;
5. total = subtotal - discount + tax.

The public link is a random token (``secrets.token_urlsafe``) of which only the SHA-256 is
stored, with its own expiry. Unlike a signed link it can be revoked (a new version replaces it,
sending again renews it), a leaked database holds no usable link, and "already answered" is a
property of the row anyway; the expiry is stored so it cannot be stretched by re-signing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cartera.catalog.models import PriceList, Product
from cartera.catalog.selectors import price_for
from cartera.core.audit import audited
from cartera.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from cartera.core.money import round_money
from cartera.core.services import apply_changes, claim_version, validate
from cartera.core.templatetags.cartera import money
from cartera.users.models import Role, User

from .models import (
    ApprovalStatus,
    Quote,
    QuoteApproval,
    QuoteLine,
    QuoteResponse,
    QuoteSettings,
    QuoteStatus,
    ResponseDecision,
)

logger = logging.getLogger(__name__)

HUNDRED = Decimal(100)
ZERO = Decimal(0)

QUOTE_FIELDS = frozenset(
    {
        "title",
        "language",
        "valid_until",
        "price_list",
        "discount_percent",
        "notes",
        "terms",
        "recipient_name",
        "recipient_email",
    }
)
LINE_FIELDS = frozenset(
    {"product", "description", "quantity", "unit", "unit_price", "discount_percent", "tax_rate"}
)
SETTINGS_FIELDS = frozenset({"approval_threshold", "won_on_accept", "link_validity_days"})


# ---------------------------------------------------------------------------------------------
# Totals


@dataclass(frozen=True)
class LineInput:
    """What the arithmetic needs of one line."""

    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = ZERO
    tax_rate: Decimal = ZERO


@dataclass(frozen=True)
class LineTotals:
    """One line's stated figures."""

    net_amount: Decimal
    allocated_discount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True)
class Totals:
    """A quote's stated figures and each line's."""

    subtotal: Decimal
    discount_amount: Decimal
    tax_amount: Decimal
    total: Decimal
    lines: tuple[LineTotals, ...]
    #: Undiscounted value (quantity * unit price, unrounded) and the biggest line discount.
    gross: Decimal
    max_line_discount: Decimal

    @property
    def effective_discount(self) -> Decimal:
        """The biggest discount the client gets, in percent: the largest line discount, or all
        discounts together against the undiscounted value, whichever is higher."""
        overall = ZERO
        if self.gross > 0:
            overall = (self.gross - (self.subtotal - self.discount_amount)) * HUNDRED / self.gross
        return max(self.max_line_discount, overall).quantize(Decimal("0.01"))


def compute_totals(lines: Sequence[LineInput], discount_percent: Decimal, currency: str) -> Totals:
    """The quote's totals by the rules in this module's docstring."""
    nets: list[Decimal] = []
    gross = ZERO
    for line in lines:
        value = line.quantity * line.unit_price
        gross += value
        nets.append(round_money(value * (HUNDRED - line.discount_percent) / HUNDRED, currency))
    subtotal = sum(nets, ZERO)
    discount = round_money(subtotal * discount_percent / HUNDRED, currency)
    shares: list[Decimal] = []
    running, given = ZERO, ZERO
    for net in nets:
        running += net
        upto = round_money(discount * running / subtotal, currency) if subtotal else ZERO
        shares.append(upto - given)
        given = upto
    line_totals = []
    tax = ZERO
    for line, net, share in zip(lines, nets, shares, strict=True):
        line_tax = round_money((net - share) * line.tax_rate / HUNDRED, currency)
        tax += line_tax
        line_totals.append(LineTotals(net, share, line_tax))
    return Totals(
        subtotal=round_money(subtotal, currency),
        discount_amount=discount,
        tax_amount=round_money(tax, currency),
        total=round_money(subtotal - discount + tax, currency),
        lines=tuple(line_totals),
        gross=gross,
        max_line_discount=max((line.discount_percent for line in lines), default=ZERO),
    )


def quote_totals(quote: Quote, lines: Sequence[QuoteLine] | None = None) -> Totals:
    """``compute_totals`` over the quote's saved lines."""
    rows = list(quote.lines.all()) if lines is None else list(lines)
    return compute_totals(
        [LineInput(r.quantity, r.unit_price, r.discount_percent, r.tax_rate) for r in rows],
        quote.discount_percent,
        quote.currency,
    )


def _recompute(quote: Quote) -> None:
    """Store the totals on the quote and its lines (inside the caller's ``audited`` block)."""
    lines = list(QuoteLine.objects.filter(quote=quote).order_by("position", "id"))
    totals = quote_totals(quote, lines)
    for line, figures in zip(lines, totals.lines, strict=True):
        if (line.net_amount, line.allocated_discount, line.tax_amount) != (
            figures.net_amount,
            figures.allocated_discount,
            figures.tax_amount,
        ):
            line.net_amount = figures.net_amount
            line.allocated_discount = figures.allocated_discount
            line.tax_amount = figures.tax_amount
            line.save(
                update_fields=["net_amount", "allocated_discount", "tax_amount", "updated_at"]
            )
    quote.subtotal = totals.subtotal
    quote.discount_amount = totals.discount_amount
    quote.tax_amount = totals.tax_amount
    quote.total = totals.total


# ---------------------------------------------------------------------------------------------
# Settings and rules


def quote_settings() -> QuoteSettings:
    """The quote settings row."""
    return QuoteSettings.load()


def can_manage_settings(actor: User) -> bool:
    """Administrators and directors configure quotes."""
    return bool(actor.is_active and (actor.sees_everything))


@transaction.atomic
def update_settings(*, actor: User, changes: Mapping[str, Any]) -> QuoteSettings:
    """Change the approval threshold, the won-on-accept switch or the link validity."""
    if not can_manage_settings(actor):
        raise Forbidden(_("Only administrators and directors can change the quote settings."))
    row = QuoteSettings.load()
    changed = apply_changes(row, changes, allowed=SETTINGS_FIELDS)
    validate(row)
    with audited(actor):
        if changed:
            row.save(update_fields=[*changed, "updated_at"])
    return row


def needs_approval(quote: Quote, totals: Totals | None = None) -> bool:
    """Whether the quote's discount is above the threshold (and so needs a manager's yes)."""
    figures = totals or quote_totals(quote)
    return figures.effective_discount > QuoteSettings.load().approval_threshold


def can_approve(actor: User, quote: Quote, requester: User) -> bool:
    """Managers of the requester's team, directors and administrators; never the requester."""
    if not actor.is_active or actor.pk == requester.pk or actor.role == Role.READ_ONLY:
        return False
    if actor.sees_everything:
        return True
    team = requester.team
    return bool(actor.role == Role.MANAGER and team is not None and team.manager_id == actor.pk)


def _approvers_for(requester: User) -> list[User]:
    team = requester.team
    if team is not None and team.manager_id and team.manager_id != requester.pk:
        manager = team.manager
        if manager is not None and manager.is_active:
            return [manager]
    return list(
        User.objects.filter(role=Role.DIRECTOR, is_active=True)
        .exclude(pk=requester.pk)
        .order_by("pk")
    )


def _visible_quote(actor: User, quote: Quote) -> None:
    if not Quote.objects.visible_to(actor).filter(pk=quote.pk).exists():
        raise NotFound()


def ensure_can_write_quote(actor: User, quote: Quote) -> None:
    """``actor`` writes and sees the quote's deal."""
    _visible_quote(actor, quote)
    if not actor.can_write:
        raise Forbidden()


def _ensure_editable(quote: Quote) -> None:
    if not quote.is_editable:
        raise Conflict(
            _(
                "This quote is %(status)s and can no longer be edited; revise it to make a new "
                "version."
            )
            % {"status": quote.get_status_display().lower()}
        )


def _decimal(value: Any, field: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(field_errors={field: [_("Enter a number.")]}) from None
    if not number.is_finite():
        raise InvalidInput(field_errors={field: [_("Enter a number.")]})
    return number


def _notify(recipient: User, actor: User | None, title: Any, body: Any, quote: Quote) -> None:
    from cartera.notifications.services import notify, override_for

    with override_for(recipient):
        notify(
            recipient=recipient,
            title=str(title()),
            body=str(body()),
            url=reverse("quotes:detail", args=[quote.pk]),
            actor=actor,
        )


# ---------------------------------------------------------------------------------------------
# Building


def default_price_list(opportunity: Any) -> PriceList | None:
    """The price list a new quote for ``opportunity`` starts from: its currency, the account's
    tier's list first, else the all-customers list."""
    segment = getattr(opportunity.account, "tier", "") if opportunity.account_id else ""
    candidates = PriceList.objects.filter(
        is_active=True, currency=opportunity.currency, segment__in=[segment or "", ""]
    ).order_by("pk")
    ranked = sorted(candidates, key=lambda plist: (plist.segment == "", plist.pk))
    return ranked[0] if ranked else None


def _resolve_quote_refs(values: dict[str, Any], currency: str) -> None:
    if "price_list" in values and values["price_list"] is not None:
        plist = values["price_list"]
        if not isinstance(plist, PriceList):
            plist = PriceList.objects.filter(pk=plist).first() if isinstance(plist, int) else None
        if plist is None or plist.currency != currency:
            raise InvalidInput(
                field_errors={"price_list": [_("Choose a price list in the quote's currency.")]}
            )
        values["price_list"] = plist


@transaction.atomic
def create_quote(*, actor: User, opportunity: Any, data: Mapping[str, Any] | None = None) -> Quote:
    """Start a quote for ``opportunity`` in its currency, with the deal's products as lines."""
    from cartera.sales.models import Opportunity

    if not actor.can_write:
        raise Forbidden()
    if not Opportunity.objects.visible_to(actor).alive().filter(pk=opportunity.pk).exists():
        raise NotFound()
    values = dict(data or {})
    values.setdefault("language", (actor.language or settings.LANGUAGE_CODE)[:2])
    if values["language"] not in {"en", "es"}:
        values["language"] = "en"
    quota = quote_settings()
    values.setdefault("valid_until", timezone.localdate() + dt.timedelta(quota.link_validity_days))
    if "price_list" not in values:
        values["price_list"] = default_price_list(opportunity)
    _resolve_quote_refs(values, opportunity.currency)
    quote = Quote(opportunity=opportunity, currency=opportunity.currency, owner=actor)
    if not values.get("title"):
        values["title"] = opportunity.name[:200]
    apply_changes(quote, values, allowed=QUOTE_FIELDS)
    validate(quote, exclude=["number"])
    with audited(actor):
        quote.save()
        quote.number = f"Q-{timezone.localdate().year}-{quote.pk:05d}"
        quote.save(update_fields=["number", "updated_at"])
        for position, deal_line in enumerate(opportunity.lines.select_related("product")):
            product = deal_line.product
            QuoteLine.objects.create(
                quote=quote,
                product=product,
                description=(deal_line.description or (product.name if product else ""))[:500]
                or "—",
                quantity=deal_line.quantity,
                unit=product.unit if product else "unit",
                unit_price=deal_line.unit_price,
                discount_percent=deal_line.discount_percent,
                tax_rate=product.tax_rate if product else ZERO,
                position=position,
            )
        _recompute(quote)
        quote.save(update_fields=["subtotal", "discount_amount", "tax_amount", "total"])
    return quote


@transaction.atomic
def update_quote(
    *, actor: User, quote: Quote, changes: Mapping[str, Any], expected_version: int | None
) -> Quote:
    """Change the quote's terms (discount, validity, language, notes…) while it is a draft."""
    ensure_can_write_quote(actor, quote)
    _ensure_editable(quote)
    values = dict(changes)
    _resolve_quote_refs(values, quote.currency)
    changed = apply_changes(quote, values, allowed=QUOTE_FIELDS)
    validate(quote)
    claim_version(quote, expected_version)
    with audited(actor):
        _back_to_draft(quote, changed)
        _recompute(quote)
        quote.save()
    return quote


def _back_to_draft(quote: Quote, changed: list[str]) -> None:
    if quote.status == QuoteStatus.REJECTED:
        quote.status = QuoteStatus.DRAFT
        changed.append("status")


def _line_values(quote: Quote, values: dict[str, Any], *, new: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    product = values.get("product")
    if product is not None and not isinstance(product, Product):
        product = Product.objects.filter(pk=product).first() if isinstance(product, int) else None
        if product is None:
            errors["product"] = [_("Choose a product from the catalogue.")]
    if "product" in values:
        values["product"] = product
    if isinstance(product, Product):
        if new and not product.is_active:
            errors["product"] = [_("This product is no longer sold.")]
        values.setdefault("description", product.name)
        values.setdefault("unit", product.unit)
        values.setdefault("tax_rate", product.tax_rate)
        if values.get("unit_price") in (None, ""):
            account = quote.opportunity.account
            segment = account.tier if account is not None else ""
            price = None
            if quote.price_list is not None:
                price = (
                    quote.price_list.items.filter(product=product)
                    .values_list("unit_price", flat=True)
                    .first()
                )
            if price is None:
                price = price_for(product=product, currency=quote.currency, segment=segment)
            if price is None:
                errors["unit_price"] = [
                    _("No price list prices this product in %(currency)s: enter a price.")
                    % {"currency": quote.currency}
                ]
            values["unit_price"] = price
    for name in ("quantity", "unit_price", "discount_percent", "tax_rate"):
        if name in values and values[name] is not None and name not in errors:
            try:
                values[name] = _decimal(values[name], name)
            except InvalidInput as error:
                errors.update(error.field_errors)
    quantity = values.get("quantity")
    if "quantity" not in errors and isinstance(quantity, Decimal) and quantity <= 0:
        errors["quantity"] = [_("Enter a quantity above zero.")]
    if new and not (values.get("description") or "").strip():
        errors["description"] = [_("Describe the line or choose a product.")]
    if errors:
        raise InvalidInput(field_errors=errors)
    return values


@transaction.atomic
def add_line(
    *, actor: User, quote: Quote, data: Mapping[str, Any], expected_version: int | None
) -> QuoteLine:
    """Add a line: a catalogue product (price from the quote's price list unless given) or free
    text."""
    ensure_can_write_quote(actor, quote)
    _ensure_editable(quote)
    values = _line_values(quote, dict(data), new=True)
    last = quote.lines.aggregate(last=Max("position"))["last"]
    line = QuoteLine(quote=quote, position=0 if last is None else last + 1)
    apply_changes(line, values, allowed=LINE_FIELDS)
    validate(line, exclude=["quote"])
    claim_version(quote, expected_version)
    with audited(actor):
        line.save()
        changed: list[str] = []
        _back_to_draft(quote, changed)
        _recompute(quote)
        quote.save()
    line.refresh_from_db()
    return line


def _line_of(quote: Quote, line: QuoteLine | int) -> QuoteLine:
    pk = line.pk if isinstance(line, QuoteLine) else line
    found = QuoteLine.objects.filter(quote=quote, pk=pk).first()
    if found is None:
        raise NotFound()
    return found


@transaction.atomic
def update_line(
    *,
    actor: User,
    quote: Quote,
    line: QuoteLine | int,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> QuoteLine:
    """Change a line's quantity, price, discount, tax or text."""
    ensure_can_write_quote(actor, quote)
    _ensure_editable(quote)
    row = _line_of(quote, line)
    values = _line_values(quote, dict(changes), new=False)
    apply_changes(row, values, allowed=LINE_FIELDS)
    if not row.description.strip():
        raise InvalidInput(field_errors={"description": [_("This field cannot be blank.")]})
    validate(row, exclude=["quote"])
    claim_version(quote, expected_version)
    with audited(actor):
        row.save()
        changed: list[str] = []
        _back_to_draft(quote, changed)
        _recompute(quote)
        quote.save()
    row.refresh_from_db()
    return row


@transaction.atomic
def remove_line(
    *, actor: User, quote: Quote, line: QuoteLine | int, expected_version: int | None
) -> None:
    """Take a line off the quote."""
    ensure_can_write_quote(actor, quote)
    _ensure_editable(quote)
    row = _line_of(quote, line)
    claim_version(quote, expected_version)
    with audited(actor):
        row.delete()
        changed: list[str] = []
        _back_to_draft(quote, changed)
        _recompute(quote)
        quote.save()


# ---------------------------------------------------------------------------------------------
# Approval


@transaction.atomic
def request_approval(
    *, actor: User, quote: Quote, note: str = "", expected_version: int | None
) -> QuoteApproval:
    """Ask a manager to approve the quote's discount; notifies the approver(s)."""
    ensure_can_write_quote(actor, quote)
    if quote.status != QuoteStatus.DRAFT:
        raise Conflict(_("Only a draft quote can be sent for approval."))
    totals = quote_totals(quote)
    if not quote.lines.exists():
        raise InvalidInput(_("Add at least one line before asking for approval."))
    if not needs_approval(quote, totals):
        raise InvalidInput(_("This quote's discount is within the limit: it needs no approval."))
    claim_version(quote, expected_version)
    with audited(actor):
        approval = QuoteApproval.objects.create(
            quote=quote,
            requested_by=actor,
            request_note=(note or "").strip()[:2000],
            discount_percent=totals.effective_discount,
        )
        quote.status = QuoteStatus.PENDING_APPROVAL
        quote.save(update_fields=["status", "version", "updated_at"])
        for approver in _approvers_for(actor):
            _notify(
                approver,
                actor,
                lambda: (
                    _("%(person)s asks you to approve quote %(number)s")
                    % {"person": actor, "number": quote}
                ),
                lambda: (
                    _("Discount %(discount)s%% on %(deal)s (total %(total)s).")
                    % {
                        "discount": totals.effective_discount,
                        "deal": quote.opportunity,
                        "total": money(quote.total, quote.currency),
                    }
                ),
                quote,
            )
    return approval


@transaction.atomic
def decide_approval(
    *,
    actor: User,
    quote: Quote,
    approve: bool,
    comment: str = "",
    expected_version: int | None,
) -> QuoteApproval:
    """Approve or reject the pending request (with a comment); tells the requester."""
    _visible_quote(actor, quote)
    approval = (
        QuoteApproval.objects.select_related("requested_by__team")
        .filter(quote=quote, status=ApprovalStatus.PENDING)
        .first()
    )
    if quote.status != QuoteStatus.PENDING_APPROVAL or approval is None:
        raise Conflict(_("This quote is not waiting for approval."))
    if not can_approve(actor, quote, approval.requested_by):
        if actor.pk == approval.requested_by_id:
            raise Forbidden(_("You cannot approve your own request."))
        raise Forbidden(_("Only the requester's manager or a director can decide this."))
    comment = (comment or "").strip()
    if not approve and not comment:
        raise InvalidInput(field_errors={"comment": [_("Say why the discount is rejected.")]})
    claim_version(quote, expected_version)
    with audited(actor):
        approval.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        approval.approver = actor
        approval.comment = comment[:2000]
        approval.decided_at = timezone.now()
        approval.save()
        quote.status = QuoteStatus.APPROVED if approve else QuoteStatus.REJECTED
        quote.save(update_fields=["status", "version", "updated_at"])
        requester = approval.requested_by
        _notify(
            requester,
            actor,
            lambda: (
                (
                    _("%(person)s approved quote %(number)s")
                    if approve
                    else _("%(person)s rejected quote %(number)s")
                )
                % {"person": actor, "number": quote}
            ),
            lambda: comment,
            quote,
        )
    return approval


# ---------------------------------------------------------------------------------------------
# Sending and the public link


def hash_token(token: str) -> str:
    """The stored form of a public link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def public_path(token: str) -> str:
    """The public link's path."""
    return reverse("quotes:public", args=[token])


@transaction.atomic
def send_quote(
    *,
    actor: User,
    quote: Quote,
    recipient_email: str | None = None,
    recipient_name: str | None = None,
    message: str = "",
    expected_version: int | None,
) -> tuple[Quote, str]:
    """Email the client a link to the quote (view, PDF, accept or decline) with the quote's PDF
    attached (typeset by the worker: ``tasks.send_quote_email``); returns the quote and the
    link. A quote whose discount needs approval must have been approved."""
    from .tasks import send_quote_email

    ensure_can_write_quote(actor, quote)
    if quote.status == QuoteStatus.DRAFT and needs_approval(quote):
        raise Conflict(
            _("This quote's discount is above the limit: a manager must approve it first.")
        )
    if quote.status not in {QuoteStatus.DRAFT, QuoteStatus.APPROVED, QuoteStatus.SENT}:
        raise Conflict(
            _("A %(status)s quote cannot be sent.") % {"status": quote.get_status_display().lower()}
        )
    if not quote.lines.exists():
        raise InvalidInput(_("Add at least one line before sending the quote."))
    values: dict[str, Any] = {}
    if recipient_email is not None:
        values["recipient_email"] = recipient_email
    if recipient_name is not None:
        values["recipient_name"] = recipient_name
    apply_changes(quote, values, allowed=QUOTE_FIELDS)
    if not quote.recipient_email:
        raise InvalidInput(field_errors={"recipient_email": [_("This field is required.")]})
    validate(quote)
    if quote.valid_until and quote.valid_until < timezone.localdate():
        raise InvalidInput(field_errors={"valid_until": [_("The validity date has passed.")]})
    claim_version(quote, expected_version)
    token = secrets.token_urlsafe(32)
    days = quote_settings().link_validity_days
    quote.token_hash = hash_token(token)
    quote.link_expires_at = timezone.now() + dt.timedelta(days=days)
    quote.status = QuoteStatus.SENT
    quote.sent_at = timezone.now()
    link = f"{settings.CARTERA_BASE_URL.rstrip('/')}{public_path(token)}"
    with audited(actor):
        quote.save()
    with translation.override(quote.language):
        subject = _("Quote %(number)s from %(company)s") % {
            "number": quote,
            "company": getattr(settings, "CARTERA_COMPANY_NAME", "Cartera"),
        }
        greeting = (
            _("Dear %(name)s,") % {"name": quote.recipient_name}
            if quote.recipient_name
            else _("Hello,")
        )
        body = "\n\n".join(
            part
            for part in (
                greeting,
                message.strip(),
                _(
                    "The quote is attached as a PDF. You can also read it and accept or decline "
                    "it here (the link works until %(date)s):"
                )
                % {"date": quote.link_expires_at.date().isoformat()},
                link,
                str(quote.owner),
            )
            if part
        )
    recipient, quote_id = quote.recipient_email, quote.pk
    transaction.on_commit(
        lambda: send_quote_email.enqueue(
            quote_id=quote_id, subject=subject, body=body, to=[recipient]
        )
    )
    return quote, link


class LinkError(DomainError):
    """The public link cannot be used; ``reason`` says why (for the page the client sees)."""

    status = 404

    def __init__(self, reason: str, quote: Quote | None = None) -> None:
        self.reason = reason
        self.quote = quote
        super().__init__(reason)


def quote_for_token(token: str) -> Quote:
    """The quote behind a public link, or ``LinkError`` (``invalid``, ``expired``,
    ``superseded``, ``withdrawn``). An answered quote is returned: its page shows the answer."""
    if not token or len(token) > 200:
        raise LinkError("invalid")
    quote = (
        Quote.objects.select_related("opportunity__account", "owner", "response")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if quote is None:
        raise LinkError("invalid")
    if quote.status == QuoteStatus.SUPERSEDED:
        raise LinkError("superseded", quote)
    if quote.status in {QuoteStatus.ACCEPTED, QuoteStatus.DECLINED}:
        return quote
    if quote.status == QuoteStatus.EXPIRED or _is_expired(quote):
        raise LinkError("expired", quote)
    if quote.status != QuoteStatus.SENT:
        raise LinkError("withdrawn", quote)
    return quote


def _is_expired(quote: Quote) -> bool:
    now = timezone.now()
    if quote.link_expires_at is not None and quote.link_expires_at <= now:
        return True
    return bool(quote.valid_until and quote.valid_until < timezone.localdate())


@transaction.atomic
def respond_to_quote(
    *,
    token: str,
    decision: str,
    name: str,
    email: str = "",
    comment: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
) -> QuoteResponse:
    """The client accepts or declines through the public link (once). Accepting moves the deal
    to won (as the quote's owner) when the settings say so."""
    quote = quote_for_token(token)
    # Lock the row: two clicks at once must not both answer.
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.status != QuoteStatus.SENT or QuoteResponse.objects.filter(quote=quote).exists():
        raise Conflict(_("This quote has already been answered."))
    if decision not in ResponseDecision.values:
        raise InvalidInput(field_errors={"decision": [_("Select a valid choice.")]})
    name = (name or "").strip()
    if not name:
        raise InvalidInput(field_errors={"name": [_("Type your full name.")]})
    response = QuoteResponse(
        quote=quote,
        decision=decision,
        name=name[:200],
        email=(email or "").strip()[:254],
        comment=(comment or "").strip()[:2000],
        ip_address=ip_address or None,
        user_agent=(user_agent or "")[:500],
        responded_at=timezone.now(),
    )
    validate(response, exclude=["quote"])
    accepted = decision == ResponseDecision.ACCEPTED
    with audited(None):
        response.save()
        quote.status = QuoteStatus.ACCEPTED if accepted else QuoteStatus.DECLINED
        claim_version(quote, None)
        quote.save(update_fields=["status", "updated_at"])
    owner = quote.owner
    _notify(
        owner,
        None,
        lambda: (
            (
                _("%(name)s accepted quote %(number)s")
                if accepted
                else _("%(name)s declined quote %(number)s")
            )
            % {"name": name, "number": quote}
        ),
        lambda: response.comment,
        quote,
    )
    if accepted and quote_settings().won_on_accept:
        _win_deal(quote)
    return response


def deal_lines(quote: Quote) -> list[dict[str, Any]]:
    """The accepted quote's lines as the deal's product lines ("quote sync").

    Each deal line is worth the quote line's net less its share of the quote discount, so the
    lines add up exactly to the quote before tax. A deal line stores quantity, unit price and a
    discount % (two decimals), so that share is expressed as: the combined discount % when it
    gives the exact value; else the quantity at the exact unit price (value / quantity); else
    (rare) one unit at the line's value, the description keeping "quantity x unit price"."""
    currency = quote.currency
    names = dict(
        Product.objects.filter(
            pk__in=[line.product_id for line in quote.lines.all() if line.product_id],
            is_active=True,
        ).values_list("pk", "name")
    )
    rows: list[dict[str, Any]] = []
    for line in quote.lines.all().order_by("position", "id"):
        value = line.net_amount - line.allocated_discount
        gross = line.quantity * line.unit_price
        product = line.product_id if line.product_id in names else None
        row: dict[str, Any] = {
            "product": product,
            # a description that only repeats the product's name is not repeated on the deal
            "description": ""
            if product and line.description == names[product]
            else line.description[:300],
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
        }
        if round_money(gross * (HUNDRED - line.discount_percent) / HUNDRED, currency) != value:
            percent = (
                ((gross - value) * HUNDRED / gross).quantize(Decimal("0.01")) if gross else ZERO
            )
            unit = (value / line.quantity) if line.quantity else value
            if gross and round_money(gross * (HUNDRED - percent) / HUNDRED, currency) == value:
                row["discount_percent"] = percent
            elif line.quantity and round_money(unit, currency) * line.quantity == value:
                row.update(unit_price=round_money(unit, currency), discount_percent=ZERO)
            else:
                row.update(
                    quantity=Decimal(1),
                    unit_price=value,
                    discount_percent=ZERO,
                    description=(
                        f"{line.description} ({line.quantity.normalize():f} x {line.unit_price})"
                    )[:300],
                )
        rows.append(row)
    return rows


def _win_deal(quote: Quote) -> None:
    """Move the quote's deal to the won stage of its pipeline, as the quote's owner; the deal is
    then worth what the client accepted: the quote's value before tax (subtotal - discount), and
    its product lines become the quote's (``deal_lines``), in the same transaction."""
    from cartera.sales import services as sales
    from cartera.sales.models import Opportunity, StageKind

    opportunity = Opportunity.objects.select_related("pipeline").get(pk=quote.opportunity_id)
    if opportunity.status != StageKind.OPEN:
        return
    changes: dict[str, Any] = {"stage": sales.won_stage(opportunity.pipeline).pk}
    if quote.currency == opportunity.currency:
        changes["amount"] = quote.subtotal - quote.discount_amount
    try:
        with transaction.atomic():
            sales.update_opportunity(
                actor=quote.owner,
                opportunity=opportunity,
                changes=changes,
                expected_version=opportunity.version,
            )
            if quote.currency == opportunity.currency:
                sales.replace_opportunity_lines(
                    actor=quote.owner, opportunity=opportunity, lines=deal_lines(quote)
                )
    except DomainError as error:  # the acceptance stands; the owner moves the deal by hand
        logger.warning("quote %s accepted but deal %s not won: %s", quote.pk, opportunity.pk, error)


@transaction.atomic
def expire_quote(*, quote: Quote) -> Quote:
    """Mark a sent quote whose link or validity has run out as expired (idempotent).

    The row is locked and read again: a client's answer arriving at the same moment (which locks
    it too) is never overwritten by the daily expiry working from an older copy."""
    locked = Quote.objects.select_for_update().get(pk=quote.pk)
    if locked.status == QuoteStatus.SENT and _is_expired(locked):
        with audited(None):
            locked.status = QuoteStatus.EXPIRED
            claim_version(locked, None)
            locked.save(update_fields=["status", "updated_at"])
    quote.status, quote.version, quote.updated_at = locked.status, locked.version, locked.updated_at
    return quote


# ---------------------------------------------------------------------------------------------
# Versions


@transaction.atomic
def revise_quote(*, actor: User, quote: Quote, expected_version: int | None) -> Quote:
    """Make version n+1 (a draft with the same lines); n becomes superseded and read-only."""
    ensure_can_write_quote(actor, quote)
    if not quote.is_revisable:
        raise Conflict(
            _("A %(status)s quote cannot be revised.")
            % {"status": quote.get_status_display().lower()}
        )
    claim_version(quote, expected_version)
    latest = Quote.objects.filter(number=quote.number).aggregate(last=Max("revision"))["last"]
    if latest != quote.revision:
        raise Conflict(_("A newer version of this quote exists."))
    lines = list(quote.lines.all())
    days = quote_settings().link_validity_days
    new = Quote(
        opportunity=quote.opportunity,
        number=quote.number,
        revision=quote.revision + 1,
        title=quote.title,
        currency=quote.currency,
        language=quote.language,
        valid_until=max(
            quote.valid_until or timezone.localdate(),
            timezone.localdate() + dt.timedelta(days=days),
        ),
        price_list=quote.price_list,
        discount_percent=quote.discount_percent,
        notes=quote.notes,
        terms=quote.terms,
        owner=actor,
        recipient_name=quote.recipient_name,
        recipient_email=quote.recipient_email,
    )
    with audited(actor):
        quote.status = QuoteStatus.SUPERSEDED
        quote.save(update_fields=["status", "updated_at"])
        new.save()
        QuoteLine.objects.bulk_create(
            QuoteLine(
                quote=new,
                product_id=line.product_id,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                tax_rate=line.tax_rate,
                position=line.position,
            )
            for line in lines
        )
        _recompute(new)
        new.save()
    return new
