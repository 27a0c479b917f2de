"""Quote pages: list, builder (lines by htmx, live totals), approval, send, versions, PDF,
settings, and the public page where the client accepts or declines without signing in.

Views only parse input, call a selector or a service and render; the services decide.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit  # type: ignore[import-untyped]

from cartera.catalog.models import PriceList, Unit
from cartera.catalog.selectors import visible_products
from cartera.core.display import translated_choices
from cartera.core.errors import Conflict, DomainError, InvalidInput
from cartera.core.filters import parse_filters
from cartera.core.views import render_page_or_partial
from cartera.sales.selectors import get_opportunity_for_user
from cartera.users.models import User

from . import services
from .filters import QuoteFilters
from .forms import QuoteForm, QuoteSettingsForm, SendForm
from .models import Quote, QuoteLine, QuoteStatus
from .pdf import render_quote_pdf
from .selectors import (
    get_quote_for_user,
    public_quote_lines,
    quote_detail,
    quote_history,
    quote_list,
    quote_versions,
)


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError, OverflowError):
        return None


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


@require_GET
@login_required
def quote_list_view(request: HttpRequest) -> HttpResponse:
    """Quotes of the deals the user sees, newest change first."""
    user = _user(request)
    context: dict[str, Any] = {"nav": "quotes", "statuses": translated_choices(QuoteStatus)}
    status = 200
    try:
        filters = parse_filters(QuoteFilters, request.GET)
        page = quote_list(user, filters, cursor=request.GET.get("cursor") or None)
    except InvalidInput as error:
        filters, page, status = QuoteFilters.model_validate({}), None, error.status
        context["filter_errors"] = error.field_errors
    context.update(filters=filters, page=page)
    return render_page_or_partial(
        request, "quotes/list.html", "quotes/partials/list_results.html", context, status
    )


@require_http_methods(["GET", "POST"])
@login_required
def quote_create(request: HttpRequest) -> HttpResponse:
    """Start a quote for the deal in ``?opportunity=``."""
    user = _user(request)
    opportunity = get_opportunity_for_user(
        user, request.GET.get("opportunity") or request.POST.get("opportunity") or "", write=True
    )
    price_lists = list(PriceList.objects.filter(currency=opportunity.currency, is_active=True))
    status = 200
    if request.method == "POST":
        form = QuoteForm(request.POST, price_lists=price_lists)
        if form.is_valid():
            try:
                quote = services.create_quote(
                    actor=user, opportunity=opportunity, data=form.quote_data()
                )
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Quote %(number)s created.") % {"number": quote})
                return redirect("quotes:detail", pk=quote.pk)
        status = 422
    else:
        default = services.default_price_list(opportunity)
        form = QuoteForm(
            price_lists=price_lists,
            initial={
                "language": (user.language or "en")[:2],
                "price_list": default.pk if default else "",
                "discount_percent": "0",
                "title": opportunity.name,
            },
        )
    context = {"nav": "quotes", "form": form, "opportunity": opportunity}
    return render(request, "quotes/new.html", context, status=status)


def _detail_context(user: User, pk: int, **extra: Any) -> dict[str, Any]:
    quote = quote_detail(user, pk)
    totals = services.quote_totals(quote, list(quote.lines.all()))
    settings_row = services.quote_settings()
    approval = next((a for a in quote.approvals.all() if a.status == "pending"), None)
    context = {
        "nav": "quotes",
        "quote": quote,
        "lines": list(quote.lines.all()),
        "totals": totals,
        "needs_approval": totals.effective_discount > settings_row.approval_threshold,
        "threshold": settings_row.approval_threshold,
        "pending_approval": approval,
        "can_write": user.can_write,
        "can_decide": approval is not None
        and services.can_approve(user, quote, approval.requested_by),
        "units": translated_choices(Unit),
        "products": list(
            visible_products(user).filter(is_active=True).order_by("name_key", "pk")[:500]
        )
        if quote.is_editable and user.can_write
        else [],
        "versions": quote_versions(quote),
        "send_form": SendForm(
            initial={"recipient_email": quote.recipient_email, "name": quote.recipient_name}
        ),
    }
    context.update(extra)
    return context


@require_GET
@login_required
def quote_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The quote: header, builder (if a draft), totals, approval, sending, versions."""
    context = _detail_context(_user(request), pk)
    return render(request, "quotes/detail.html", context)


def _builder(request: HttpRequest, pk: int, error: DomainError | None = None) -> HttpResponse:
    """The builder partial (lines and totals) after an htmx change, with the error if any."""
    status = 200
    extra: dict[str, Any] = {}
    if error is not None:
        status = 412 if isinstance(error, Conflict) else error.status
        extra["builder_error"] = error
        extra["builder_error_lines"] = error_lines(error)
    context = _detail_context(_user(request), pk, **extra)
    if request.htmx:  # type: ignore[attr-defined]
        # htmx swaps only 2xx by default; errors are shown in the builder, so answer 200.
        return render(request, "quotes/partials/workspace.html", context)
    if error is not None:
        messages.error(request, _error_text(error))
    return (
        redirect("quotes:detail", pk=pk)
        if status == 200
        else render(request, "quotes/detail.html", context, status=status)
    )


def _field_label(field: str) -> str:
    """The translated label of a quote or line field named in an error ("" if none)."""
    for model in (QuoteLine, Quote):
        try:
            return str(capfirst(getattr(model._meta.get_field(field), "verbose_name", field)))
        except FieldDoesNotExist:
            continue
    return ""


def error_lines(error: DomainError) -> list[str]:
    """The error's messages, each field's under its translated label, never its raw name."""
    if not error.field_errors:
        return [str(error.message)]
    lines: list[str] = []
    for field, texts in error.field_errors.items():
        label = _field_label(field)
        lines.extend(f"{label}: {text}" if label else str(text) for text in texts)
    return lines


def _error_text(error: DomainError) -> str:
    return " ".join(error_lines(error))


def _line_data(request: HttpRequest) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in ("description", "quantity", "unit", "unit_price", "discount_percent", "tax_rate"):
        if name in request.POST:
            data[name] = request.POST[name]
    product = request.POST.get("product", "")
    if product:
        data["product"] = int(product) if product.isascii() and product.isdigit() else -1
        if not data.get("unit_price"):
            data.pop("unit_price", None)
        for name in ("description", "unit", "tax_rate"):
            if not data.get(name):
                data.pop(name, None)
    return data


@require_POST
@login_required
def line_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a line (product or free text); answers the builder with the new totals."""
    user = _user(request)
    quote = get_quote_for_user(user, pk, write=True)
    try:
        services.add_line(
            actor=user, quote=quote, data=_line_data(request), expected_version=_version(request)
        )
    except DomainError as error:
        return _builder(request, pk, error)
    return _builder(request, pk)


@require_POST
@login_required
def line_update(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    """Change a line (sent on every change of its inputs); answers the builder."""
    user = _user(request)
    quote = get_quote_for_user(user, pk, write=True)
    data = _line_data(request)
    data.pop("product", None)
    try:
        services.update_line(
            actor=user, quote=quote, line=line_pk, changes=data, expected_version=_version(request)
        )
    except DomainError as error:
        return _builder(request, pk, error)
    return _builder(request, pk)


@require_POST
@login_required
def line_remove(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    """Remove a line; answers the builder."""
    user = _user(request)
    quote = get_quote_for_user(user, pk, write=True)
    try:
        services.remove_line(
            actor=user, quote=quote, line=line_pk, expected_version=_version(request)
        )
    except DomainError as error:
        return _builder(request, pk, error)
    return _builder(request, pk)


@require_POST
@login_required
def quote_terms(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the quote-level discount, validity, language, notes and terms."""
    user = _user(request)
    quote = get_quote_for_user(user, pk, write=True)
    changes: dict[str, Any] = {}
    for name in ("title", "discount_percent", "notes", "terms", "language", "valid_until"):
        if name in request.POST:
            value: Any = request.POST[name]
            if name == "valid_until" and not value:
                value = None
            changes[name] = value
    try:
        services.update_quote(
            actor=user, quote=quote, changes=changes, expected_version=_version(request)
        )
    except DomainError as error:
        return _builder(request, pk, error)
    return _builder(request, pk)


def _action(request: HttpRequest, pk: int, done: str, call: Any) -> HttpResponse:
    user = _user(request)
    quote = get_quote_for_user(user, pk)
    try:
        result = call(user, quote)
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, done)
        if hasattr(result, "number") and result.pk != quote.pk:
            return redirect("quotes:detail", pk=result.pk)
    return redirect("quotes:detail", pk=pk)


@require_POST
@login_required
def quote_request_approval(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the manager to approve the discount."""
    return _action(
        request,
        pk,
        _("Approval requested."),
        lambda user, quote: services.request_approval(
            actor=user,
            quote=quote,
            note=request.POST.get("note", "")[:2000],
            expected_version=_version(request),
        ),
    )


@require_POST
@login_required
def quote_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or reject the pending request (``decision`` = approve | reject)."""
    approve = request.POST.get("decision") == "approve"
    return _action(
        request,
        pk,
        _("Quote approved.") if approve else _("Quote rejected."),
        lambda user, quote: services.decide_approval(
            actor=user,
            quote=quote,
            approve=approve,
            comment=request.POST.get("comment", "")[:2000],
            expected_version=_version(request),
        ),
    )


@require_POST
@login_required
def quote_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Email the client the public link."""
    user = _user(request)
    form = SendForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _error_text(
                InvalidInput(field_errors={k: [str(m) for m in v] for k, v in form.errors.items()})
            ),
        )
        return redirect("quotes:detail", pk=pk)
    return _action(
        request,
        pk,
        _("Quote sent to %(email)s.") % {"email": form.cleaned_data["recipient_email"]},
        lambda actor, quote: services.send_quote(
            actor=user,
            quote=quote,
            recipient_email=form.cleaned_data["recipient_email"],
            recipient_name=form.cleaned_data["name"],
            message=form.cleaned_data["message"],
            expected_version=_version(request),
        ),
    )


@require_POST
@login_required
def quote_revise(request: HttpRequest, pk: int) -> HttpResponse:
    """Make a new version and open it."""
    return _action(
        request,
        pk,
        _("New version created."),
        lambda user, quote: services.revise_quote(
            actor=user, quote=quote, expected_version=_version(request)
        ),
    )


@require_GET
@login_required
def quote_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The quote as a PDF in its language."""
    quote = quote_detail(_user(request), pk)
    return _pdf_response(quote)


def _pdf_response(quote: Any) -> HttpResponse:
    response = HttpResponse(render_quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.number}-v{quote.revision}.pdf"'
    return response


@require_GET
@login_required
def quote_history_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Who did what to the quote: lines, approvals, sending, the client's answer."""
    quote = get_quote_for_user(_user(request), pk)
    entries = list(quote_history(quote)[:200])
    return render(
        request, "quotes/history.html", {"nav": "quotes", "quote": quote, "entries": entries}
    )


@require_http_methods(["GET", "POST"])
@login_required
def quote_settings_view(request: HttpRequest) -> HttpResponse:
    """Approval threshold, won-on-accept and link validity (administrators and directors)."""
    user = _user(request)
    row = services.quote_settings()
    can_edit = services.can_manage_settings(user)
    status = 200
    if request.method == "POST":
        form = QuoteSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_settings(actor=user, changes=form.cleaned_data)
            except DomainError as error:
                form.add_domain_error(error)
                status = error.status
            else:
                messages.success(request, _("Quote settings saved."))
                return redirect("quotes:settings")
        else:
            status = 422
    else:
        form = QuoteSettingsForm(
            initial={
                "approval_threshold": row.approval_threshold,
                "won_on_accept": row.won_on_accept,
                "link_validity_days": row.link_validity_days,
            }
        )
    context = {"nav": "quotes", "form": form, "can_edit": can_edit}
    return render(request, "quotes/settings.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# The public link (no sign-in)


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _public_error(request: HttpRequest, error: services.LinkError) -> HttpResponse:
    status = {"invalid": 404, "expired": 410, "superseded": 410, "withdrawn": 410}[error.reason]
    return render(
        request, "quotes/public/unavailable.html", {"reason": error.reason}, status=status
    )


def public_rate(group: str, request: HttpRequest) -> str:
    """Answers per IP address the public page accepts (``CARTERA_QUOTE_PUBLIC_RATE``)."""
    return str(getattr(settings, "CARTERA_QUOTE_PUBLIC_RATE", "20/m"))


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=public_rate, method="POST", block=False)
def public_quote(request: HttpRequest, token: str) -> HttpResponse:
    """The client's page: the quote, its PDF, and accept (typing their name) or decline."""
    try:
        quote = services.quote_for_token(token)
    except services.LinkError as error:
        if error.reason == "expired" and error.quote is not None:
            services.expire_quote(quote=error.quote)
        return _public_error(request, error)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        if getattr(request, "limited", False):
            return render(
                request,
                "quotes/public/unavailable.html",
                {"reason": "limited"},
                status=429,
            )
        try:
            services.respond_to_quote(
                token=token,
                decision=request.POST.get("decision", ""),
                name=request.POST.get("name", ""),
                email=request.POST.get("email", ""),
                comment=request.POST.get("comment", ""),
                ip_address=_client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except services.LinkError as error:
            return _public_error(request, error)
        except DomainError as error:
            errors = dict(error.field_errors) or {"__all__": [error.message]}
            status = 412 if isinstance(error, Conflict) else error.status
        else:
            return redirect("quotes:public", token=token)
        quote = services.quote_for_token(token)
    from django.utils import translation

    with translation.override(quote.language):
        return render(
            request,
            "quotes/public/quote.html",
            {
                "quote": quote,
                "lines": public_quote_lines(quote),
                "token": token,
                "company": settings.CARTERA_COMPANY_NAME,
                "errors": errors,
                "answer": getattr(quote, "response", None)
                if quote.status in {QuoteStatus.ACCEPTED, QuoteStatus.DECLINED}
                else None,
                "posted": request.POST if request.method == "POST" else {},
            },
            status=status,
        )


@require_GET
def public_quote_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The quote's PDF through the public link."""
    try:
        quote = services.quote_for_token(token)
    except services.LinkError as error:
        return _public_error(request, error)
    return _pdf_response(quote)
