"""Reads of leads and their settings, always scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Iterator

from auditlog.models import LogEntry
from django.db.models import QuerySet

from cartera.core.audit import history_for
from cartera.core.errors import Forbidden, NotFound
from cartera.core.export import CHUNK_SIZE, Row, phone_text
from cartera.core.pagination import Page, keyset_page
from cartera.users.models import Team, User

from .exports import LEAD_EXPORT
from .filters import LeadFilters
from .models import AssignmentRule, Lead, LeadActivity, LeadForm, ScoringRule
from .services import ensure_can_configure


def visible_leads(user: User) -> QuerySet[Lead]:
    """Leads ``user`` may see, not in the trash."""
    return Lead.objects.visible_to(user).alive()


def get_lead_for_user(user: User, pk: int | str, *, write: bool = False) -> Lead:
    """The lead ``pk`` if ``user`` may see it (404 otherwise); with ``write``, 403 for readers."""
    try:
        lead = (
            visible_leads(user)
            .select_related(
                "owner",
                "team",
                "web_form",
                "converted_account",
                "converted_contact",
                "converted_opportunity",
            )
            .get(pk=int(pk))
        )
    except (Lead.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc
    if write and not user.can_write:
        raise Forbidden()
    return lead


def lead_list(
    user: User, filters: LeadFilters, *, cursor: str | None = None, limit: int | None = None
) -> Page[Lead]:
    """One keyset page of the user's leads, filtered, with owner and team loaded (1 query)."""
    queryset = filters.apply(visible_leads(user)).select_related("owner", "team")
    return keyset_page(queryset, ordering=filters.ordering, cursor=cursor, limit=limit)


def lead_export_rows(user: User, filters: LeadFilters) -> Iterator[Row]:
    """Every lead matching ``filters`` that ``user`` sees, in list order, as export rows."""
    queryset = (
        filters.apply(visible_leads(user))
        .annotate(phone_e164=phone_text("phone"))
        .order_by(*filters.ordering)
        .values("id", *LEAD_EXPORT.fields())
    )
    return queryset.iterator(chunk_size=CHUNK_SIZE)


def lead_activities(lead: Lead, *, limit: int = 100) -> list[LeadActivity]:
    """The lead's latest activities, newest first, with their authors."""
    return list(
        LeadActivity.objects.filter(lead=lead)
        .select_related("author")
        .order_by("-occurred_at", "-pk")[:limit]
    )


def lead_history(lead: Lead) -> QuerySet[LogEntry]:
    """Audit entries of a lead and its activities, newest first."""
    return history_for(lead, related_key="lead_id")


def unassigned_count(user: User) -> int:
    """How many open leads ``user`` sees without an owner (a manager's queue)."""
    return visible_leads(user).filter(owner__isnull=True).exclude(status="converted").count()


# --- settings --------------------------------------------------------------------------------


def web_forms(user: User) -> QuerySet[LeadForm]:
    """Web forms, for the people who configure them."""
    ensure_can_configure(user)
    return LeadForm.objects.select_related("team").order_by("name")


def get_web_form(user: User, pk: int) -> LeadForm:
    """One web form's settings (404 if missing)."""
    ensure_can_configure(user)
    form = LeadForm.objects.select_related("team").filter(pk=pk).first()
    if form is None:
        raise NotFound()
    return form


def public_web_form(slug: str) -> LeadForm:
    """An active web form by its public address (404 if missing or switched off)."""
    form = LeadForm.objects.filter(slug=slug, is_active=True).first()
    if form is None:
        raise NotFound()
    return form


def assignment_rules(user: User) -> QuerySet[AssignmentRule]:
    """Assignment rules in the order they are tried."""
    ensure_can_configure(user)
    return AssignmentRule.objects.select_related("user", "team").order_by("position", "pk")


def get_assignment_rule(user: User, pk: int) -> AssignmentRule:
    """One assignment rule (404 if missing)."""
    rule = assignment_rules(user).filter(pk=pk).first()
    if rule is None:
        raise NotFound()
    return rule


def scoring_rules(user: User) -> QuerySet[ScoringRule]:
    """Scoring rules, fit first then engagement."""
    ensure_can_configure(user)
    return ScoringRule.objects.order_by("kind", "pk")


def get_scoring_rule(user: User, pk: int) -> ScoringRule:
    """One scoring rule (404 if missing)."""
    rule = scoring_rules(user).filter(pk=pk).first()
    if rule is None:
        raise NotFound()
    return rule


def team_choices() -> QuerySet[Team]:
    """Teams to route leads to."""
    return Team.objects.order_by("name")
