"""REST operations of the leads app: leads, assignment, activities and conversion, and the lead
settings (web forms, assignment rules, scoring rules) for the people who configure them."""

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
    AssignmentRuleIn,
    AssignmentRuleOut,
    AssignmentRulePatch,
    ConversionPreviewOut,
    ConvertIn,
    LeadFormIn,
    LeadFormOut,
    LeadFormPatch,
    LeadIn,
    LeadOut,
    LeadPatch,
    ScoringRuleIn,
    ScoringRuleOut,
    ScoringRulePatch,
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


# --- settings (administrators, directors and managers; 403 for everyone else) ----------------
# Settings rows have no version: their ETag is their last change, and writes need If-Match.


def _created(request: HttpRequest, response: HttpResponse, row: Any) -> Any:
    with_etag(response, row)
    response["Location"] = f"{request.path.rstrip('/')}/{row.pk}"
    return Status(201, row)


@router.get("/leads/forms", response={200: list[LeadFormOut], **WRITE_ERRORS})
def list_lead_forms(request: HttpRequest) -> Any:
    """Web forms that capture leads, by name, with their public addresses."""
    return list(selectors.web_forms(request_actor(request)))


@router.post("/leads/forms", response={201: LeadFormOut, **WRITE_ERRORS})
def create_lead_form(request: HttpRequest, response: HttpResponse, payload: LeadFormIn) -> Any:
    """Add a web form; without ``slug`` its address is made from the name."""
    data = payload.model_dump(exclude_unset=True)
    web_form = services.save_web_form(actor=request_actor(request), data=data)
    return _created(request, response, web_form)


@router.get("/leads/forms/{pk}", response={200: LeadFormOut, 304: None, **WRITE_ERRORS})
def get_lead_form(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One web form."""
    web_form = selectors.get_web_form(request_actor(request), pk)
    if cached := not_modified(request, web_form):
        return cached
    with_etag(response, web_form)
    return web_form


@router.patch("/leads/forms/{pk}", response={200: LeadFormOut, **VERSIONED_WRITE_ERRORS})
def update_lead_form(
    request: HttpRequest, response: HttpResponse, pk: int, payload: LeadFormPatch
) -> Any:
    """Change the fields sent; needs ``If-Match`` with the ETag last read (412 if it moved on)."""
    actor = request_actor(request)
    web_form = selectors.get_web_form(actor, pk)
    stamp = expected_version(request, web_form)
    web_form = services.save_web_form(
        actor=actor,
        data=payload.model_dump(exclude_unset=True),
        web_form=web_form,
        expected_stamp=stamp,
    )
    with_etag(response, web_form)
    return web_form


@router.delete("/leads/forms/{pk}", response={204: None, **VERSIONED_WRITE_ERRORS})
def delete_lead_form(request: HttpRequest, pk: int) -> Any:
    """Delete a web form (its leads stay); needs ``If-Match``."""
    actor = request_actor(request)
    web_form = selectors.get_web_form(actor, pk)
    stamp = expected_version(request, web_form)
    services.delete_web_form(actor=actor, web_form=web_form, expected_stamp=stamp)
    return Status(204, None)


@router.get("/leads/assignment-rules", response={200: list[AssignmentRuleOut], **WRITE_ERRORS})
def list_assignment_rules(request: HttpRequest) -> Any:
    """Assignment rules in the order they are tried (the first match wins)."""
    return list(selectors.assignment_rules(request_actor(request)))


@router.post("/leads/assignment-rules", response={201: AssignmentRuleOut, **WRITE_ERRORS})
def create_assignment_rule(
    request: HttpRequest, response: HttpResponse, payload: AssignmentRuleIn
) -> Any:
    """Add an assignment rule; without ``position`` it is tried last."""
    actor = request_actor(request)
    rule = services.save_assignment_rule(actor=actor, data=payload.model_dump(exclude_unset=True))
    return _created(request, response, selectors.get_assignment_rule(actor, rule.pk))


@router.get(
    "/leads/assignment-rules/{pk}", response={200: AssignmentRuleOut, 304: None, **WRITE_ERRORS}
)
def get_assignment_rule(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One assignment rule."""
    rule = selectors.get_assignment_rule(request_actor(request), pk)
    if cached := not_modified(request, rule):
        return cached
    with_etag(response, rule)
    return rule


@router.patch(
    "/leads/assignment-rules/{pk}", response={200: AssignmentRuleOut, **VERSIONED_WRITE_ERRORS}
)
def update_assignment_rule(
    request: HttpRequest, response: HttpResponse, pk: int, payload: AssignmentRulePatch
) -> Any:
    """Change the fields sent; needs ``If-Match`` with the ETag last read (412 if it moved on)."""
    actor = request_actor(request)
    rule = selectors.get_assignment_rule(actor, pk)
    stamp = expected_version(request, rule)
    services.save_assignment_rule(
        actor=actor,
        data=payload.model_dump(exclude_unset=True),
        rule=rule,
        expected_stamp=stamp,
    )
    rule = selectors.get_assignment_rule(actor, pk)
    with_etag(response, rule)
    return rule


@router.delete("/leads/assignment-rules/{pk}", response={204: None, **VERSIONED_WRITE_ERRORS})
def delete_assignment_rule(request: HttpRequest, pk: int) -> Any:
    """Delete an assignment rule; needs ``If-Match``."""
    actor = request_actor(request)
    rule = selectors.get_assignment_rule(actor, pk)
    stamp = expected_version(request, rule)
    services.delete_assignment_rule(actor=actor, rule=rule, expected_stamp=stamp)
    return Status(204, None)


@router.get("/leads/scoring-rules", response={200: list[ScoringRuleOut], **WRITE_ERRORS})
def list_scoring_rules(request: HttpRequest) -> Any:
    """Scoring rules, fit first then engagement."""
    return list(selectors.scoring_rules(request_actor(request)))


@router.post("/leads/scoring-rules", response={201: ScoringRuleOut, **WRITE_ERRORS})
def create_scoring_rule(
    request: HttpRequest, response: HttpResponse, payload: ScoringRuleIn
) -> Any:
    """Add a scoring rule; every open lead is rescored."""
    data = payload.model_dump(exclude_unset=True)
    rule = services.save_scoring_rule(actor=request_actor(request), data=data)
    return _created(request, response, rule)


@router.get("/leads/scoring-rules/{pk}", response={200: ScoringRuleOut, 304: None, **WRITE_ERRORS})
def get_scoring_rule(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One scoring rule."""
    rule = selectors.get_scoring_rule(request_actor(request), pk)
    if cached := not_modified(request, rule):
        return cached
    with_etag(response, rule)
    return rule


@router.patch("/leads/scoring-rules/{pk}", response={200: ScoringRuleOut, **VERSIONED_WRITE_ERRORS})
def update_scoring_rule(
    request: HttpRequest, response: HttpResponse, pk: int, payload: ScoringRulePatch
) -> Any:
    """Change the fields sent (every open lead is rescored); needs ``If-Match``."""
    actor = request_actor(request)
    rule = selectors.get_scoring_rule(actor, pk)
    stamp = expected_version(request, rule)
    rule = services.save_scoring_rule(
        actor=actor,
        data=payload.model_dump(exclude_unset=True),
        rule=rule,
        expected_stamp=stamp,
    )
    with_etag(response, rule)
    return rule


@router.delete("/leads/scoring-rules/{pk}", response={204: None, **VERSIONED_WRITE_ERRORS})
def delete_scoring_rule(request: HttpRequest, pk: int) -> Any:
    """Delete a scoring rule (every open lead is rescored); needs ``If-Match``."""
    actor = request_actor(request)
    rule = selectors.get_scoring_rule(actor, pk)
    stamp = expected_version(request, rule)
    services.delete_scoring_rule(actor=actor, rule=rule, expected_stamp=stamp)
    return Status(204, None)


# --- leads (after the settings: /leads/{pk} would otherwise take /leads/forms) ---------------


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
