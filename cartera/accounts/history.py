"""The History tab: audit entries shaped for people (labels, names, local values).

Used by the account and the contact pages; names of records the viewer cannot see stay ``#pk``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from cartera.contacts.models import Contact
from cartera.contacts.selectors import visible_contacts
from cartera.users.models import User

from .models import Account
from .selectors import visible_accounts

_HIDDEN_HISTORY_FIELDS = {"id", "created_at", "updated_at", "created_by", "account", "contact"}


def _label(field: models.ForeignKey[Any, Any]) -> str:
    """``app.Model`` of the record a foreign key points to."""
    return cast(type[models.Model], field.related_model)._meta.label


def _plain(value: Any) -> Any:
    """Audit values are stored as text; turn ``"None"`` into empty."""
    return "" if value in (None, "None") else value


def _display_value(field: models.Field | None, raw: Any, names: dict[tuple[str, str], str]) -> Any:
    """One before/after value as people read it: labels, names, local dates, numbers."""
    value = _plain(raw)
    if value == "" or field is None:
        return value
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(field, models.BooleanField):
        return _("Yes") if value == "True" else _("No")
    if isinstance(field, models.ForeignKey):
        return names.get((_label(field), str(value)), f"#{value}")
    if isinstance(field, models.DateTimeField):
        parsed = parse_datetime(str(value))
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, dt.UTC)
        return parsed or value
    if isinstance(field, models.DecimalField):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return value
    return value


def _related_names(user: User, entries: list[LogEntry]) -> dict[tuple[str, str], str]:
    """Names of the people and records the entries point to, one query per kind of record.

    Accounts and contacts the user cannot see stay as ``#pk``: history never leaks them.
    """
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        model = entry.content_type.model_class()
        for name, values in (entry.changes or {}).items():
            try:
                field = model._meta.get_field(name) if model else None
            except FieldDoesNotExist:
                continue
            if isinstance(field, models.ForeignKey) and isinstance(values, list):
                for value in values:
                    if str(value).isdigit():
                        wanted.setdefault(_label(field), set()).add(int(value))
    lookups: dict[str, models.QuerySet[Any]] = {
        User._meta.label: User.objects.all(),
        Account._meta.label: visible_accounts(user),
        Contact._meta.label: visible_contacts(user),
    }
    names: dict[tuple[str, str], str] = {}
    for label, pks in wanted.items():
        if label in lookups:
            for row in lookups[label].filter(pk__in=pks):
                names[(label, str(row.pk))] = str(row)
    return names


def history_rows(
    user: User, entries: list[LogEntry], subject: models.Model | None = None
) -> list[dict[str, Any]]:
    """Audit entries shaped for the History tab: who, when, what, and each field before → after."""
    names = _related_names(user, entries)
    action_labels = {
        LogEntry.Action.CREATE: pgettext("history action", "created"),
        LogEntry.Action.UPDATE: pgettext("history action", "changed"),
        LogEntry.Action.DELETE: pgettext("history action", "deleted"),
    }
    rows = []
    for entry in entries:
        model = entry.content_type.model_class()
        position = {f.name: i for i, f in enumerate(model._meta.get_fields())} if model else {}
        changes = []
        for name, values in sorted(
            (entry.changes or {}).items(), key=lambda item: position.get(item[0], len(position))
        ):
            if name in _HIDDEN_HISTORY_FIELDS:
                continue
            try:
                field = model._meta.get_field(name) if model else None
            except FieldDoesNotExist:
                field = None
            label = str(getattr(field, "verbose_name", name))
            if isinstance(values, dict):  # many-to-many: {"operation": "add", "objects": [...]}
                verb = _("added") if values.get("operation") == "add" else _("removed")
                changes.append(
                    {"field": label, "m2m": verb, "objects": ", ".join(values.get("objects", []))}
                )
                continue
            before, after = [*values, "", ""][:2]
            if entry.action == LogEntry.Action.CREATE and _plain(after) == "":
                continue
            changes.append(
                {
                    "field": label,
                    "before": _display_value(field, before, names),
                    "after": _display_value(field, after, names),
                }
            )
        is_subject = model is type(subject) if subject is not None else model is Account
        rows.append(
            {
                "entry": entry,
                "action": action_labels.get(entry.action, ""),
                "subject": "" if is_subject else entry.object_repr,
                "subject_kind": "" if is_subject or model is None else model._meta.verbose_name,
                "changes": changes,
            }
        )
    return rows
