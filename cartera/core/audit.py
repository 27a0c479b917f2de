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
    previous = auditlog_value.get(None)
    if previous is not None and previous.get("actor") == actor:
        yield
        return
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
