"""Helpers every app's service layer uses: input hygiene, validation, optimistic concurrency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import Conflict, DomainError, InvalidInput


def clean_text(value: Any) -> Any:
    """Trim strings; refuse control characters no database or person wants."""
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        raise ValueError(_("This text contains a character that is not allowed (NUL)."))
    return value.strip()


def apply_changes(
    instance: models.Model, changes: Mapping[str, Any], *, allowed: Iterable[str]
) -> list[str]:
    """Set ``changes`` on ``instance``; return the names whose value really changed.

    Unknown or non-editable names, and text with NUL bytes, are field errors.
    """
    allowed_names = set(allowed)
    errors: dict[str, list[str]] = {}
    changed: list[str] = []
    for name, raw in changes.items():
        if name not in allowed_names:
            errors[name] = [_("Unknown field.")]
            continue
        try:
            value = clean_text(raw)
        except ValueError as exc:
            errors[name] = [str(exc)]
            continue
        field = instance._meta.get_field(name)
        if not isinstance(field, models.Field):  # reverse relations are never in ``allowed``
            errors[name] = [_("Unknown field.")]
            continue
        if (
            value is None
            and not field.null
            and isinstance(field, models.CharField | models.TextField)
        ):
            value = ""
        if field.is_relation:
            current = getattr(instance, field.attname)
            new = value.pk if isinstance(value, models.Model) else value
        else:
            current, new = getattr(instance, name), value
        if current != new or (field.is_relation and value is not None and current is None):
            setattr(instance, name, value)
            changed.append(name)
    if errors:
        raise InvalidInput(field_errors=errors)
    return changed


def validate(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    """Run the model's field validators and ``clean()``; a failure is a ``DomainError``."""
    try:
        instance.full_clean(exclude=list(exclude or []), validate_unique=True)
    except DjangoValidationError as exc:
        raise DomainError.from_django(exc) from exc


def claim_version(instance: models.Model, expected_version: int | None) -> None:
    """Bump the row's version only if it is still ``expected_version``, else raise ``Conflict``.

    The conditional ``UPDATE … WHERE version = expected`` is atomic on SQLite and PostgreSQL, so
    of two concurrent edits from the same version exactly one wins and the other is told.
    """
    model = type(instance)
    queryset = model._default_manager.filter(pk=instance.pk)
    if expected_version is not None:
        queryset = queryset.filter(version=expected_version)
    if queryset.update(version=F("version") + 1) != 1:
        raise Conflict()
    if expected_version is not None:
        instance.version = expected_version + 1  # type: ignore[attr-defined]
    else:
        instance.refresh_from_db(fields=["version"])


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def change_stamp(instance: models.Model) -> int:
    """A row without a version is told apart by its last change: ``updated_at`` in whole
    microseconds since 1970 (exact integer arithmetic, so it round-trips through an ETag)."""
    updated_at: dt.datetime = instance.updated_at  # type: ignore[attr-defined]
    return (updated_at - _EPOCH) // dt.timedelta(microseconds=1)


def claim_unchanged(instance: models.Model, expected_stamp: int | None) -> None:
    """``claim_version`` for rows without a version (settings rows with ``updated_at``).

    One conditional ``UPDATE … SET updated_at = now WHERE pk = … AND updated_at = seen``: if the
    row changed since the caller read it (``expected_stamp``, from its ETag), nothing is written
    and ``Conflict`` is raised; of two concurrent writers from the same read exactly one wins.
    ``None`` (no precondition) claims nothing.
    """
    if expected_stamp is None:
        return
    try:
        seen = _EPOCH + dt.timedelta(microseconds=expected_stamp)
    except OverflowError:
        raise Conflict() from None
    now = timezone.now()
    queryset = type(instance)._default_manager.filter(pk=instance.pk, updated_at=seen)
    if queryset.update(updated_at=now) != 1:
        raise Conflict()
    instance.updated_at = now  # type: ignore[attr-defined]
