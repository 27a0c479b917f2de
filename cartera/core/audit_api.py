"""REST read of the audit trail: who changed what, when, from what to what."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from auditlog.models import LogEntry
from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import BaseModel, ConfigDict, Field

from cartera.users.schemas import UserRef

from .api import Id, PageOut, PageQuery, Problem, page_out
from .audit import visible_log_entries
from .pagination import keyset_page

router = Router(tags=["audit"])

HISTORY_ORDERING = ("-timestamp", "-pk")

#: The ``object_type`` names the API accepts (auditlog's content type model names).
ObjectType = Literal[
    "account",
    "accountteammember",
    "tag",
    "contact",
    "contactaccount",
    "interaction",
    "user",
    "team",
    "apitoken",
    "opportunity",
    "opportunitycontact",
    "opportunityline",
    "pipeline",
    "stage",
    "lossreason",
    "lead",
    "leadactivity",
    "quote",
    "quoteline",
    "quoteapproval",
    "quoteresponse",
    "product",
    "pricelist",
    "pricelistitem",
    "target",
]
ACTIONS = {0: "create", 1: "update", 2: "delete", 3: "access"}


class AuditEntryOut(Schema):
    """One recorded change."""

    pk: int
    timestamp: datetime
    action: Literal["create", "update", "delete", "access"]
    object_type: str = Field(description="e.g. account, contact, interaction")
    object_id: int | None
    object_repr: str
    actor: UserRef | None
    changes: dict[str, Any] = Field(description="field → [before, after] (m2m: operation details)")

    @staticmethod
    def resolve_action(obj: LogEntry) -> str:
        """Readable action name."""
        return ACTIONS.get(obj.action, "update")

    @staticmethod
    def resolve_object_type(obj: LogEntry) -> str:
        """The model's name."""
        return str(obj.content_type.model)

    @staticmethod
    def resolve_changes(obj: LogEntry) -> dict[str, Any]:
        """Changes as recorded (JSON)."""
        changes = obj.changes
        return changes if isinstance(changes, dict) else {}


class AuditFilters(BaseModel):
    """Which entries to list."""

    model_config = ConfigDict(extra="forbid")

    object_type: ObjectType | None = None
    object_id: Id | None = None
    actor: Id | None = Field(None, description="User id of who changed it")


def history_page(queryset: Any, page: PageQuery) -> dict[str, Any]:
    """A keyset page of audit entries, newest first."""
    return page_out(
        keyset_page(queryset, ordering=HISTORY_ORDERING, cursor=page.cursor, limit=page.limit)
    )


@router.get("/audit", response={200: PageOut[AuditEntryOut], 401: Problem, 422: Problem})
def list_audit_entries(
    request: HttpRequest, filters: Query[AuditFilters], page: Query[PageQuery]
) -> Any:
    """Audit entries the caller may read, newest first, by object type, object id or actor.

    Directors and administrators read every entry; everyone else those of the accounts,
    contacts, interactions, deals, leads and quotes they can see, and of the catalogue.
    """
    queryset = visible_log_entries(request.auth)  # type: ignore[attr-defined]
    if filters.object_type:
        queryset = queryset.filter(content_type__model=filters.object_type)
    if filters.object_id is not None:
        queryset = queryset.filter(object_id=filters.object_id)
    if filters.actor is not None:
        queryset = queryset.filter(actor_id=filters.actor)
    return history_page(queryset, page)
