"""REST operations on contacts, their trash and their history."""

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
    rendered_page,
    request_actor,
    with_etag,
)
from cartera.core.audit_api import AuditEntryOut, history_page
from cartera.core.export import EXPORT_ERRORS, EXPORT_OPENAPI, ExportQuery, export_response

from . import selectors, services
from .exports import CONTACT_EXPORT
from .filters import ContactFilters
from .schemas import ContactIn, ContactOut, ContactPatch, contact_out_item

router = Router(tags=["contacts"])


@router.get("/contacts", response={200: PageOut[ContactOut], **READ_ERRORS})
def list_contacts(
    request: HttpRequest,
    response: HttpResponse,
    filters: Query[ContactFilters],
    page: Query[PageQuery],
) -> Any:
    """Contacts of the accounts the caller sees, filtered as on the contact list."""
    rows = selectors.contact_list_rows(
        request_actor(request), filters, cursor=page.cursor, limit=page.limit
    )
    return rendered_page(request, response, rows, contact_out_item)


@router.get("/contacts/export", response=EXPORT_ERRORS, openapi_extra=EXPORT_OPENAPI)
def export_contacts(
    request: HttpRequest, filters: Query[ContactFilters], options: Query[ExportQuery]
) -> HttpResponseBase:
    """Every contact the caller sees matching the list's filters, as CSV (streamed) or XLSX."""
    rows = selectors.contact_export_rows(request_actor(request), filters)
    return export_response(CONTACT_EXPORT, rows, options.format)


@router.post("/contacts", response={201: ContactOut, **WRITE_ERRORS})
def create_contact(request: HttpRequest, response: HttpResponse, payload: ContactIn) -> Any:
    """Create a contact at one or more accounts (the first is their primary account)."""
    actor = request_actor(request)
    contact = services.create_contact(actor=actor, data=payload.model_dump(exclude_unset=True))
    contact = selectors.get_contact_for_user(actor, contact.pk)
    with_etag(response, contact)
    response["Location"] = f"{request.path.rstrip('/')}/{contact.pk}"
    return Status(201, contact)


@router.get("/contacts/trash", response={200: PageOut[ContactOut], **READ_ERRORS})
def list_trashed_contacts(
    request: HttpRequest,
    response: HttpResponse,
    filters: Query[ContactFilters],
    page: Query[PageQuery],
) -> Any:
    """Contacts in the trash that the caller sees."""
    rows = selectors.contact_list_rows(
        request_actor(request), filters, cursor=page.cursor, limit=page.limit, trashed=True
    )
    return rendered_page(request, response, rows, contact_out_item)


@router.get("/contacts/{pk}", response={200: ContactOut, 304: None, **READ_ERRORS})
def get_contact(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One contact with the accounts the caller sees."""
    contact = selectors.get_contact_for_user(request_actor(request), pk)
    if cached := not_modified(request, contact):
        return cached
    with_etag(response, contact)
    return contact


@router.patch("/contacts/{pk}", response={200: ContactOut, **VERSIONED_WRITE_ERRORS})
def update_contact(
    request: HttpRequest, response: HttpResponse, pk: int, payload: ContactPatch
) -> Any:
    """Change the fields sent; needs ``If-Match`` with the ETag last read (412 if it moved on)."""
    actor = request_actor(request)
    contact = selectors.get_contact_for_user(actor, pk, write=True)
    version = expected_version(request, contact)
    services.update_contact(
        actor=actor,
        contact=contact,
        changes=payload.model_dump(exclude_unset=True),
        expected_version=version,
    )
    contact = selectors.get_contact_for_user(actor, pk)
    with_etag(response, contact)
    return contact


@router.delete("/contacts/{pk}", response={204: None, **VERSIONED_WRITE_ERRORS})
def trash_contact(request: HttpRequest, pk: int) -> Any:
    """Move a contact to the trash (restorable); needs ``If-Match``."""
    actor = request_actor(request)
    contact = selectors.get_contact_for_user(actor, pk, write=True)
    version = expected_version(request, contact)
    services.trash_contact(actor=actor, contact=contact, expected_version=version)
    return Status(204, None)


@router.post("/contacts/{pk}/restore", response={200: ContactOut, **WRITE_ERRORS})
def restore_contact(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """Bring a contact back from the trash."""
    actor = request_actor(request)
    contact = selectors.get_contact_for_user(actor, pk, write=True, trashed=True)
    services.restore_contact(actor=actor, contact=contact)
    contact = selectors.get_contact_for_user(actor, pk)
    with_etag(response, contact)
    return contact


@router.get("/contacts/{pk}/history", response={200: PageOut[AuditEntryOut], **READ_ERRORS})
def list_contact_history(request: HttpRequest, pk: int, page: Query[PageQuery]) -> Any:
    """Audit entries of the contact and of its account links, newest first."""
    actor = request_actor(request)
    contact = selectors.get_contact_for_user(actor, pk)
    return history_page(selectors.contact_history(actor, contact), page)
