"""REST operations of the leads app: leads, assignment, activities and conversion."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
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
from cartera.core.export import EXPORT_ERRORS, EXPORT_OPENAPI, ExportQuery, export_response

from . import selectors, services
from .exports import LEAD_EXPORT
from .filters import LeadFilters
from .schemas import (
    ActivityIn,
    ActivityOut,
    AssignIn,
    ConversionPreviewOut,
    ConvertIn,
    LeadIn,
    LeadOut,
    LeadPatch,
)

router = Router(tags=["leads"])


@router.get("/leads", response={200: PageOut[LeadOut], **READ_ERRORS})
def list_leads(request: HttpRequest, filters: Query[LeadFilters], page: Query[PageQuery]) -> Any:
    """Leads the caller sees, filtered as on the lead list (lists: repeat or comma-join)."""
    return page_out(
        selectors.lead_list(request_actor(request), filters, cursor=page.cursor, limit=page.limit)
    )


@router.get("/leads/export", response=EXPORT_ERRORS, openapi_extra=EXPORT_OPENAPI)
def export_leads(
    request: HttpRequest, filters: Query[LeadFilters], options: Query[ExportQuery]
) -> HttpResponseBase:
    """Every lead the caller sees matching the list's filters, as CSV (streamed) or XLSX."""
    rows = selectors.lead_export_rows(request_actor(request), filters)
    return export_response(LEAD_EXPORT, rows, options.format)


@router.post("/leads", response={201: LeadOut, **WRITE_ERRORS})
def create_lead(request: HttpRequest, response: HttpResponse, payload: LeadIn) -> Any:
    """Create a lead; without ``owner`` the assignment rules choose who gets it."""
    actor = request_actor(request)
    data = payload.model_dump(exclude_unset=True) | {"source": payload.source}
    lead = services.create_lead(actor=actor, data=data)
    # The rules may route it to someone whose leads the caller does not see: answer with it anyway.
    with_etag(response, lead)
    response["Location"] = f"{request.path.rstrip('/')}/{lead.pk}"
    return Status(201, lead)


@router.get("/leads/{pk}", response={200: LeadOut, 304: None, **READ_ERRORS})
def get_lead(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One lead with its score reasons and what it was converted into."""
    lead = selectors.get_lead_for_user(request_actor(request), pk)
    if cached := not_modified(request, lead):
        return cached
    with_etag(response, lead)
    return lead


@router.patch("/leads/{pk}", response={200: LeadOut, **VERSIONED_WRITE_ERRORS})
def update_lead(request: HttpRequest, response: HttpResponse, pk: int, payload: LeadPatch) -> Any:
    """Change the fields sent; needs ``If-Match`` with the ETag last read (412 if it moved on)."""
    actor = request_actor(request)
    lead = selectors.get_lead_for_user(actor, pk, write=True)
    version = expected_version(request, lead)
    services.update_lead(
        actor=actor,
        lead=lead,
        changes=payload.model_dump(exclude_unset=True),
        expected_version=version,
    )
    lead = selectors.get_lead_for_user(actor, pk)
    with_etag(response, lead)
    return lead


@router.delete("/leads/{pk}", response={204: None, **VERSIONED_WRITE_ERRORS})
def trash_lead(request: HttpRequest, pk: int) -> Any:
    """Move a lead to the trash; needs ``If-Match``."""
    actor = request_actor(request)
    lead = selectors.get_lead_for_user(actor, pk, write=True)
    services.trash_lead(actor=actor, lead=lead, expected_version=expected_version(request, lead))
    return Status(204, None)


@router.post("/leads/{pk}/assign", response={200: LeadOut, **VERSIONED_WRITE_ERRORS})
def assign_lead(request: HttpRequest, response: HttpResponse, pk: int, payload: AssignIn) -> Any:
    """Give the lead to someone (notified), to nobody, or to whom the rules say (``auto``)."""
    actor = request_actor(request)
    lead = selectors.get_lead_for_user(actor, pk, write=True)
    version = expected_version(request, lead)
    if payload.auto:
        services.auto_assign_lead(actor=actor, lead=lead, expected_version=version)
    else:
        services.assign_lead(actor=actor, lead=lead, owner=payload.owner, expected_version=version)
    lead = selectors.get_lead_for_user(actor, pk)
    with_etag(response, lead)
    return lead


@router.get("/leads/{pk}/activities", response={200: list[ActivityOut], **READ_ERRORS})
def list_lead_activities(request: HttpRequest, pk: int) -> Any:
    """The lead's latest 100 activities, newest first."""
    lead = selectors.get_lead_for_user(request_actor(request), pk)
    return selectors.lead_activities(lead)


@router.post("/leads/{pk}/activities", response={201: ActivityOut, **WRITE_ERRORS})
def log_lead_activity(request: HttpRequest, pk: int, payload: ActivityIn) -> Any:
    """Log a call, email, meeting or note; the lead's score is recomputed."""
    actor = request_actor(request)
    lead = selectors.get_lead_for_user(actor, pk, write=True)
    data = payload.model_dump(exclude_unset=True, exclude_none=True)
    return Status(201, services.log_lead_activity(actor=actor, lead=lead, data=data))


@router.get("/leads/{pk}/conversion", response={200: ConversionPreviewOut, **READ_ERRORS})
def preview_conversion(request: HttpRequest, pk: int) -> Any:
    """The existing account and contact a conversion would reuse (or that new ones are made)."""
    actor = request_actor(request)
    lead = selectors.get_lead_for_user(actor, pk)
    plan = services.plan_conversion(actor, lead)
    return {
        "account": plan.account,
        "account_match": plan.account_match,
        "contact": None
        if plan.contact is None
        else {"pk": plan.contact.pk, "full_name": plan.contact.full_name},
        "account_name": plan.account_name,
        "opportunity_name": plan.opportunity_name,
    }


@router.post("/leads/{pk}/convert", response={200: LeadOut, **VERSIONED_WRITE_ERRORS})
def convert_lead(request: HttpRequest, response: HttpResponse, pk: int, payload: ConvertIn) -> Any:
    """Convert into account + contact + deal in one go; a second conversion is refused (412)."""
    actor = request_actor(request)
    lead = selectors.get_lead_for_user(actor, pk, write=True)
    version = expected_version(request, lead)
    opportunity = payload.opportunity.model_dump(exclude_none=True) if payload.opportunity else None
    services.convert_lead(
        actor=actor,
        lead=lead,
        expected_version=version,
        account=payload.account,
        contact=payload.contact,
        create_opportunity=payload.create_opportunity,
        opportunity=opportunity,
    )
    lead = selectors.get_lead_for_user(actor, pk)
    with_etag(response, lead)
    return lead
