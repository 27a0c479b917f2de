"""REST operations of the quotes app: build, approve, send, revise, PDF, settings."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from cartera.core.api import (
    READ_ERRORS,
    VERSIONED_WRITE_ERRORS,
    WRITE_ERRORS,
    PageOut,
    PageQuery,
    expected_version,
    not_modified,
    page_out,
    request_actor,
    with_etag,
)
from cartera.core.audit_api import AuditEntryOut, history_page
from cartera.sales.selectors import get_opportunity_for_user

from . import selectors, services
from .filters import QuoteFilters
from .models import Quote
from .pdf import render_quote_pdf
from .schemas import (
    ApprovalOut,
    ApprovalRequestIn,
    DecisionIn,
    QuoteDetailOut,
    QuoteIn,
    QuoteLineIn,
    QuoteLineOut,
    QuoteLinePatch,
    QuoteOut,
    QuotePatch,
    SendIn,
    SentOut,
    SettingsOut,
    SettingsPatch,
)

router = Router(tags=["quotes"])


def _detail(actor: Any, pk: int) -> Quote:
    quote = selectors.quote_detail(actor, pk)
    totals = services.quote_totals(quote, list(quote.lines.all()))
    quote.effective_discount = str(totals.effective_discount)  # type: ignore[attr-defined]
    quote.needs_approval = services.needs_approval(quote, totals)  # type: ignore[attr-defined]
    return quote


def _answer(response: HttpResponse, actor: Any, pk: int) -> Quote:
    quote = _detail(actor, pk)
    with_etag(response, quote)
    return quote


@router.get("/quotes", response={200: PageOut[QuoteOut], **READ_ERRORS})
def list_quotes(request: HttpRequest, filters: Query[QuoteFilters], page: Query[PageQuery]) -> Any:
    """Quotes of the deals the caller sees, newest change first."""
    return page_out(
        selectors.quote_list(request_actor(request), filters, cursor=page.cursor, limit=page.limit)
    )


@router.post("/quotes", response={201: QuoteDetailOut, **WRITE_ERRORS})
def create_quote(request: HttpRequest, response: HttpResponse, payload: QuoteIn) -> Any:
    """Start a quote for a deal (its currency; the deal's products become the first lines)."""
    actor = request_actor(request)
    opportunity = get_opportunity_for_user(actor, payload.opportunity, write=True)
    data = payload.model_dump(exclude_unset=True, exclude={"opportunity"})
    if data.get("language") is None:
        data.pop("language", None)
    quote = services.create_quote(actor=actor, opportunity=opportunity, data=data)
    response["Location"] = f"{request.path.rstrip('/')}/{quote.pk}"
    return Status(201, _answer(response, actor, quote.pk))


@router.get("/quotes/settings", response={200: SettingsOut, **READ_ERRORS})
def get_quote_settings(request: HttpRequest) -> Any:
    """The approval threshold, won-on-accept switch and link validity."""
    return services.quote_settings()


@router.patch("/quotes/settings", response={200: SettingsOut, **WRITE_ERRORS})
def update_quote_settings(request: HttpRequest, payload: SettingsPatch) -> Any:
    """Change the quote settings (administrators and directors)."""
    return services.update_settings(
        actor=request_actor(request), changes=payload.model_dump(exclude_unset=True)
    )


@router.get("/quotes/{pk}", response={200: QuoteDetailOut, 304: None, **READ_ERRORS})
def get_quote(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One quote with its lines and approvals."""
    quote = _detail(request_actor(request), pk)
    if cached := not_modified(request, quote):
        return cached
    with_etag(response, quote)
    return quote


@router.patch("/quotes/{pk}", response={200: QuoteDetailOut, **VERSIONED_WRITE_ERRORS})
def update_quote(request: HttpRequest, response: HttpResponse, pk: int, payload: QuotePatch) -> Any:
    """Change a draft's terms; needs ``If-Match``."""
    actor = request_actor(request)
    quote = selectors.get_quote_for_user(actor, pk, write=True)
    services.update_quote(
        actor=actor,
        quote=quote,
        changes=payload.model_dump(exclude_unset=True),
        expected_version=expected_version(request, quote),
    )
    return _answer(response, actor, pk)


@router.get("/quotes/{pk}/versions", response={200: list[QuoteOut], **READ_ERRORS})
def list_quote_versions(request: HttpRequest, pk: int) -> Any:
    """Every version of the quote, newest first."""
    quote = selectors.get_quote_for_user(request_actor(request), pk)
    return selectors.quote_versions(quote)


@router.post("/quotes/{pk}/lines", response={201: QuoteLineOut, **VERSIONED_WRITE_ERRORS})
def add_quote_line(
    request: HttpRequest, response: HttpResponse, pk: int, payload: QuoteLineIn
) -> Any:
    """Add a line; needs ``If-Match`` with the quote's ETag (the new one comes back)."""
    actor = request_actor(request)
    quote = selectors.get_quote_for_user(actor, pk, write=True)
    line = services.add_line(
        actor=actor,
        quote=quote,
        data={k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None},
        expected_version=expected_version(request, quote),
    )
    with_etag(response, quote)
    return Status(201, line)


@router.patch(
    "/quotes/{pk}/lines/{line_pk}", response={200: QuoteLineOut, **VERSIONED_WRITE_ERRORS}
)
def update_quote_line(
    request: HttpRequest, response: HttpResponse, pk: int, line_pk: int, payload: QuoteLinePatch
) -> Any:
    """Change a line; needs ``If-Match`` with the quote's ETag."""
    actor = request_actor(request)
    quote = selectors.get_quote_for_user(actor, pk, write=True)
    line = services.update_line(
        actor=actor,
        quote=quote,
        line=line_pk,
        changes=payload.model_dump(exclude_unset=True),
        expected_version=expected_version(request, quote),
    )
    with_etag(response, quote)
    return line


@router.delete("/quotes/{pk}/lines/{line_pk}", response={204: None, **VERSIONED_WRITE_ERRORS})
def remove_quote_line(request: HttpRequest, pk: int, line_pk: int) -> Any:
    """Remove a line; needs ``If-Match`` with the quote's ETag."""
    actor = request_actor(request)
    quote = selectors.get_quote_for_user(actor, pk, write=True)
    services.remove_line(
        actor=actor, quote=quote, line=line_pk, expected_version=expected_version(request, quote)
    )
    return Status(204, None)


@router.post("/quotes/{pk}/request-approval", response={201: ApprovalOut, **VERSIONED_WRITE_ERRORS})
def request_quote_approval(request: HttpRequest, pk: int, payload: ApprovalRequestIn) -> Any:
    """Ask the requester's manager (else the directors) to approve the discount."""
    actor = request_actor(request)
    quote = selectors.get_quote_for_user(actor, pk, write=True)
    approval = services.request_approval(
        actor=actor,
        quote=quote,
        note=payload.note,
        expected_version=expected_version(request, quote),
    )
    return Status(201, approval)


@router.post("/quotes/{pk}/decision", response={200: ApprovalOut, **VERSIONED_WRITE_ERRORS})
def decide_quote_approval(request: HttpRequest, pk: int, payload: DecisionIn) -> Any:
    """Approve or reject the pending request (a comment is required to reject)."""
    actor = request_actor(request)
    quote = selectors.get_quote_for_user(actor, pk)
    return services.decide_approval(
        actor=actor,
        quote=quote,
        approve=payload.approve,
        comment=payload.comment,
        expected_version=expected_version(request, quote),
    )


@router.post("/quotes/{pk}/send", response={200: SentOut, **VERSIONED_WRITE_ERRORS})
def send_quote(request: HttpRequest, response: HttpResponse, pk: int, payload: SendIn) -> Any:
    """Email the client the public link; answers the link too."""
    actor = request_actor(request)
    quote = selectors.get_quote_for_user(actor, pk, write=True)
    _quote, link = services.send_quote(
        actor=actor,
        quote=quote,
        recipient_email=payload.recipient_email,
        recipient_name=payload.recipient_name,
        message=payload.message,
        expected_version=expected_version(request, quote),
    )
    return {"quote": _answer(response, actor, pk), "public_url": link}


@router.post("/quotes/{pk}/revise", response={201: QuoteDetailOut, **VERSIONED_WRITE_ERRORS})
def revise_quote(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """Make version n+1 as a draft; this version becomes superseded."""
    actor = request_actor(request)
    quote = selectors.get_quote_for_user(actor, pk, write=True)
    new = services.revise_quote(
        actor=actor, quote=quote, expected_version=expected_version(request, quote)
    )
    response["Location"] = request.path.replace(f"/quotes/{pk}/revise", f"/quotes/{new.pk}")
    return Status(201, _answer(response, actor, new.pk))


@router.get(
    "/quotes/{pk}/pdf",
    response={200: None, **READ_ERRORS},
    openapi_extra={"responses": {"200": {"content": {"application/pdf": {}}}}},
)
def get_quote_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The quote as a PDF in its language."""
    quote = selectors.quote_detail(request_actor(request), pk)
    response = HttpResponse(render_quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.number}-v{quote.revision}.pdf"'
    return response


@router.get("/quotes/{pk}/history", response={200: PageOut[AuditEntryOut], **READ_ERRORS})
def list_quote_history(request: HttpRequest, pk: int, page: Query[PageQuery]) -> Any:
    """Audit entries of the quote, its lines, approvals and answer, newest first."""
    quote = selectors.get_quote_for_user(request_actor(request), pk)
    return history_page(selectors.quote_history(quote), page)
