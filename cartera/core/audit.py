"""Audit trail: every service write runs inside ``audited(actor)`` so django-auditlog records who.

django-auditlog writes one ``LogEntry`` per create, update and delete of a registered model with
the fields before → after; this module adds the actor context and the reads the UI and API use.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from auditlog.context import auditlog_value, set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models


@contextmanager
def audited(actor: Any) -> Iterator[None]:
    """Attribute every audited write inside the block to ``actor``.

    Keeps the request's remote address when the request middleware already set one, and restores
    the outer context afterwards (auditlog's own ``set_actor`` does not).
    """
    # Always connect a fresh receiver: auditlog's own context manager leaves a stale value
    # behind after its block, so "an actor is already set" cannot be trusted.
    previous = auditlog_value.get(None)
    remote_addr = previous.get("remote_addr") if previous else None
    try:
        with set_actor(actor, remote_addr=remote_addr):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)


def history_for(obj: models.Model, *, related_key: str | None = None) -> models.QuerySet[LogEntry]:
    """Log entries of ``obj``, plus those of related rows that carry ``related_key`` = its pk.

    Related rows (an account's team members, a contact's account links) put their parent's pk
    in ``additional_data`` through ``get_additional_data()``.
    """
    content_type = ContentType.objects.get_for_model(type(obj))
    condition = models.Q(content_type=content_type, object_id=obj.pk)
    if related_key:
        condition |= models.Q(**{f"additional_data__{related_key}": obj.pk})
    return (
        LogEntry.objects.filter(condition)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")
    )


def register(
    model: type[models.Model], *, exclude: list[str] | None = None, m2m: set[str] | None = None
) -> None:
    """Put ``model`` in the audit trail; reverse relations and bookkeeping columns are left out."""
    from auditlog.registry import auditlog

    reverse = [f.name for f in model._meta.get_fields() if f.auto_created and not f.concrete]
    auditlog.register(
        model,
        exclude_fields=[*reverse, *(exclude or []), "updated_at"],
        m2m_fields=m2m or set(),
    )


def visible_log_entries(user: Any) -> models.QuerySet[LogEntry]:
    """Audit entries ``user`` may read, newest first.

    Directors and administrators read everything. Everyone else reads the entries of the
    records they can see (trashed ones included): accounts, contacts, interactions, deals,
    leads and quotes, the rows that belong to them (account team members, contact links, deal
    contacts and products, lead activities, quote lines, approvals and answers), and the
    catalogue, which everyone reads.
    """
    from django.db.models.fields.json import KT
    from django.db.models.functions import Cast

    from cartera.accounts.models import Account, AccountTeamMember
    from cartera.activities.models import Interaction
    from cartera.catalog.models import PriceList, PriceListItem, Product
    from cartera.contacts.models import Contact, ContactAccount
    from cartera.leads.models import Lead, LeadActivity
    from cartera.quotes.models import Quote, QuoteApproval, QuoteLine, QuoteResponse
    from cartera.sales.models import Opportunity, OpportunityContact, OpportunityLine
    from cartera.users.access import scope_user_ids

    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")
    if scope_user_ids(user) is None:
        return entries
    types = ContentType.objects.get_for_models(
        Account,
        Contact,
        Interaction,
        AccountTeamMember,
        ContactAccount,
        Opportunity,
        OpportunityContact,
        OpportunityLine,
        Lead,
        LeadActivity,
        Quote,
        QuoteLine,
        QuoteApproval,
        QuoteResponse,
        Product,
        PriceList,
        PriceListItem,
    )

    def linked(key: str) -> Cast:
        return Cast(KT(f"additional_data__{key}"), models.BigIntegerField())

    accounts = Account.objects.visible_to(user).values("pk")
    deals = Opportunity.objects.visible_to(user).values("pk")
    leads = Lead.objects.visible_to(user).values("pk")
    quotes = Quote.objects.filter(opportunity__in=deals).values("pk")
    condition = (
        models.Q(content_type=types[Account], object_id__in=accounts)
        | models.Q(
            content_type=types[Contact], object_id__in=Contact.objects.visible_to(user).values("pk")
        )
        | models.Q(
            content_type=types[Interaction],
            object_id__in=Interaction.objects.visible_to(user).values("pk"),
        )
        | models.Q(
            content_type__in=[types[AccountTeamMember], types[ContactAccount]],
            linked_account__in=accounts,
        )
        | models.Q(content_type=types[Opportunity], object_id__in=deals)
        | models.Q(
            content_type__in=[types[OpportunityContact], types[OpportunityLine]],
            linked_deal__in=deals,
        )
        | models.Q(content_type=types[Lead], object_id__in=leads)
        | models.Q(content_type=types[LeadActivity], linked_lead__in=leads)
        | models.Q(content_type=types[Quote], object_id__in=quotes)
        | models.Q(
            content_type__in=[types[QuoteLine], types[QuoteApproval], types[QuoteResponse]],
            linked_quote__in=quotes,
        )
        | models.Q(content_type__in=[types[Product], types[PriceList], types[PriceListItem]])
    )
    return entries.alias(
        linked_account=linked("account_id"),
        linked_deal=linked("opportunity_id"),
        linked_lead=linked("lead_id"),
        linked_quote=linked("quote_id"),
    ).filter(condition)
