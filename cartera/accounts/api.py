"""REST operations on accounts, their trash, their account teams and their history."""

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
from cartera.users.selectors import get_person

from . import selectors, services
from .exports import ACCOUNT_EXPORT
from .filters import AccountFilters
from .schemas import (
    AccountDetailOut,
    AccountIn,
    AccountOut,
    AccountPatch,
    TeamMemberIn,
    TeamMemberOut,
    account_out_item,
)

router = Router(tags=["accounts"])


@router.get("/accounts", response={200: PageOut[AccountOut], **READ_ERRORS})
def list_accounts(
    request: HttpRequest,
    response: HttpResponse,
    filters: Query[AccountFilters],
    page: Query[PageQuery],
) -> Any:
    """Accounts the caller sees, filtered as on the account list (lists: repeat or comma-join)."""
    rows = selectors.account_list_rows(
        request_actor(request), filters, cursor=page.cursor, limit=page.limit
    )
    return rendered_page(request, response, rows, account_out_item)


@router.get("/accounts/export", response=EXPORT_ERRORS, openapi_extra=EXPORT_OPENAPI)
def export_accounts(
    request: HttpRequest, filters: Query[AccountFilters], options: Query[ExportQuery]
) -> HttpResponseBase:
    """Every account the caller sees matching the list's filters, as CSV (streamed) or XLSX."""
    rows = selectors.account_export_rows(request_actor(request), filters)
    return export_response(ACCOUNT_EXPORT, rows, options.format)


@router.post("/accounts", response={201: AccountDetailOut, **WRITE_ERRORS})
def create_account(request: HttpRequest, response: HttpResponse, payload: AccountIn) -> Any:
    """Create an account (owned by the caller unless ``owner`` says otherwise)."""
    actor = request_actor(request)
    account = services.create_account(actor=actor, data=payload.model_dump(exclude_unset=True))
    account = selectors.account_detail(actor, account.pk)
    with_etag(response, account)
    response["Location"] = f"{request.path.rstrip('/')}/{account.pk}"
    return Status(201, account)


@router.get("/accounts/trash", response={200: PageOut[AccountOut], **READ_ERRORS})
def list_trashed_accounts(
    request: HttpRequest,
    response: HttpResponse,
    filters: Query[AccountFilters],
    page: Query[PageQuery],
) -> Any:
    """Accounts in the trash that the caller sees, filtered like the account list."""
    rows = selectors.account_list_rows(
        request_actor(request), filters, cursor=page.cursor, limit=page.limit, trashed=True
    )
    return rendered_page(request, response, rows, account_out_item)


@router.get("/accounts/{pk}", response={200: AccountDetailOut, 304: None, **READ_ERRORS})
def get_account(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One account with its team and visible child accounts."""
    account = selectors.account_detail(request_actor(request), pk)
    if cached := not_modified(request, account):
        return cached
    with_etag(response, account)
    return account


@router.patch("/accounts/{pk}", response={200: AccountDetailOut, **VERSIONED_WRITE_ERRORS})
def update_account(
    request: HttpRequest, response: HttpResponse, pk: int, payload: AccountPatch
) -> Any:
    """Change the fields sent; needs ``If-Match`` with the ETag last read (412 if it moved on)."""
    actor = request_actor(request)
    account = selectors.get_account_for_user(actor, pk, write=True)
    version = expected_version(request, account)
    services.update_account(
        actor=actor,
        account=account,
        changes=payload.model_dump(exclude_unset=True),
        expected_version=version,
    )
    account = selectors.account_detail(actor, pk)
    with_etag(response, account)
    return account


@router.delete("/accounts/{pk}", response={204: None, **VERSIONED_WRITE_ERRORS})
def trash_account(request: HttpRequest, pk: int) -> Any:
    """Move an account to the trash (restorable); needs ``If-Match``."""
    actor = request_actor(request)
    account = selectors.get_account_for_user(actor, pk, write=True)
    version = expected_version(request, account)
    services.trash_account(actor=actor, account=account, expected_version=version)
    return Status(204, None)


@router.post("/accounts/{pk}/restore", response={200: AccountDetailOut, **WRITE_ERRORS})
def restore_account(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """Bring an account back from the trash."""
    actor = request_actor(request)
    account = selectors.get_account_for_user(actor, pk, write=True, trashed=True)
    services.restore_account(actor=actor, account=account)
    account = selectors.account_detail(actor, pk)
    with_etag(response, account)
    return account


@router.put("/accounts/{pk}/team/{user_pk}", response={200: TeamMemberOut, **WRITE_ERRORS})
def set_team_member(request: HttpRequest, pk: int, user_pk: int, payload: TeamMemberIn) -> Any:
    """Put a person on the account's team with a role, or change their role there."""
    actor = request_actor(request)
    account = selectors.get_account_for_user(actor, pk, write=True)
    return services.set_team_member(
        actor=actor, account=account, user=get_person(user_pk), role=payload.role
    )


@router.delete("/accounts/{pk}/team/{user_pk}", response={204: None, **WRITE_ERRORS})
def remove_team_member(request: HttpRequest, pk: int, user_pk: int) -> Any:
    """Take a person off the account's team."""
    actor = request_actor(request)
    account = selectors.get_account_for_user(actor, pk, write=True)
    services.remove_team_member(actor=actor, account=account, user=get_person(user_pk))
    return Status(204, None)


@router.get("/accounts/{pk}/history", response={200: PageOut[AuditEntryOut], **READ_ERRORS})
def list_account_history(request: HttpRequest, pk: int, page: Query[PageQuery]) -> Any:
    """Audit entries of the account and of its team and contact links, newest first."""
    actor = request_actor(request)
    account = selectors.get_account_for_user(actor, pk)
    return history_page(selectors.account_history(actor, account), page)
