"""REST operations on the timeline: every interaction, an account's, a contact's."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from cartera.accounts.selectors import get_account_for_user
from cartera.contacts.selectors import get_contact_for_user
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
from cartera.core.errors import InvalidInput, NotFound
from cartera.core.export import EXPORT_ERRORS, EXPORT_OPENAPI, ExportQuery, export_response

from . import selectors, services
from .exports import INTERACTION_EXPORT
from .filters import InteractionFilters
from .schemas import InteractionIn, InteractionOut, InteractionPatch

router = Router(tags=["timeline"])


@router.get("/interactions", response={200: PageOut[InteractionOut], **READ_ERRORS})
def list_interactions(
    request: HttpRequest, filters: Query[InteractionFilters], page: Query[PageQuery]
) -> Any:
    """Every interaction on the accounts the caller sees, newest first."""
    return page_out(
        selectors.interaction_list(
            request_actor(request), filters, cursor=page.cursor, limit=page.limit
        )
    )


@router.get("/interactions/export", response=EXPORT_ERRORS, openapi_extra=EXPORT_OPENAPI)
def export_interactions(
    request: HttpRequest, filters: Query[InteractionFilters], options: Query[ExportQuery]
) -> HttpResponseBase:
    """Every interaction the caller sees matching the filters, newest first, as CSV or XLSX."""
    rows = selectors.interaction_export_rows(request_actor(request), filters)
    return export_response(INTERACTION_EXPORT, rows, options.format)


@router.post("/interactions", response={201: InteractionOut, **WRITE_ERRORS})
def log_interaction(request: HttpRequest, response: HttpResponse, payload: InteractionIn) -> Any:
    """Log a call, email, meeting or note on an account's timeline."""
    actor = request_actor(request)
    try:
        account = get_account_for_user(actor, payload.account, write=True)
    except NotFound as exc:
        # Missing and hidden alike: the body names an account the caller cannot use.
        raise InvalidInput(field_errors={"account": [_("Choose an account you can see.")]}) from exc
    data = payload.model_dump(exclude_unset=True, exclude={"account"})
    interaction = services.log_interaction(actor=actor, account=account, data=data)
    interaction = selectors.get_interaction_for_user(actor, interaction.pk)
    with_etag(response, interaction)
    response["Location"] = f"{request.path.rstrip('/')}/{interaction.pk}"
    return Status(201, interaction)


@router.get("/interactions/{pk}", response={200: InteractionOut, 304: None, **READ_ERRORS})
def get_interaction(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One interaction."""
    interaction = selectors.get_interaction_for_user(request_actor(request), pk)
    if cached := not_modified(request, interaction):
        return cached
    with_etag(response, interaction)
    return interaction


@router.patch("/interactions/{pk}", response={200: InteractionOut, **VERSIONED_WRITE_ERRORS})
def update_interaction(
    request: HttpRequest, response: HttpResponse, pk: int, payload: InteractionPatch
) -> Any:
    """Correct an interaction; needs ``If-Match`` (status changes cannot be edited)."""
    actor = request_actor(request)
    interaction = selectors.get_interaction_for_user(actor, pk, write=True)
    version = expected_version(request, interaction)
    services.update_interaction(
        actor=actor,
        interaction=interaction,
        changes=payload.model_dump(exclude_unset=True),
        expected_version=version,
    )
    interaction = selectors.get_interaction_for_user(actor, pk)
    with_etag(response, interaction)
    return interaction


@router.delete("/interactions/{pk}", response={204: None, **VERSIONED_WRITE_ERRORS})
def delete_interaction(request: HttpRequest, pk: int) -> Any:
    """Remove an interaction (the audit trail keeps it); needs ``If-Match``."""
    actor = request_actor(request)
    interaction = selectors.get_interaction_for_user(actor, pk, write=True)
    version = expected_version(request, interaction)
    services.delete_interaction(actor=actor, interaction=interaction, expected_version=version)
    return Status(204, None)


@router.get("/accounts/{pk}/timeline", response={200: PageOut[InteractionOut], **READ_ERRORS})
def list_account_timeline(
    request: HttpRequest, pk: int, filters: Query[InteractionFilters], page: Query[PageQuery]
) -> Any:
    """An account's timeline, newest first."""
    account = get_account_for_user(request_actor(request), pk)
    return page_out(
        selectors.account_timeline(account, filters, cursor=page.cursor, limit=page.limit)
    )


@router.get("/contacts/{pk}/timeline", response={200: PageOut[InteractionOut], **READ_ERRORS})
def list_contact_timeline(
    request: HttpRequest, pk: int, filters: Query[InteractionFilters], page: Query[PageQuery]
) -> Any:
    """A contact's timeline on the accounts the caller sees, newest first."""
    actor = request_actor(request)
    contact = get_contact_for_user(actor, pk)
    return page_out(
        selectors.contact_timeline(actor, contact, filters, cursor=page.cursor, limit=page.limit)
    )
