"""Every write to targets: who may set whose quota, validated, audited, concurrency-safe.

Directors and administrators set targets for anyone; managers for the teams they manage and
those teams' members (not for themselves); everyone else reads only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cartera.core.audit import audited
from cartera.core.errors import Forbidden, InvalidInput
from cartera.core.services import apply_changes, claim_version, validate
from cartera.users.models import Role, Team, User

from .models import Target

EDITABLE_FIELDS = frozenset(
    {"user", "team", "period_kind", "period_start", "metric", "value", "currency"}
)


def can_set_targets(actor: User) -> bool:
    """Whether ``actor`` sets targets at all (directors, administrators, managers)."""
    return actor.can_write and (actor.sees_everything or actor.role == Role.MANAGER)


def may_set_target_for(actor: User, *, user: User | None = None, team: Team | None = None) -> bool:
    """Whether ``actor`` may set the target of ``user`` or ``team``."""
    if not can_set_targets(actor):
        return False
    if actor.sees_everything:
        return True
    if team is not None:
        return team.manager_id == actor.pk
    if user is not None and user.pk != actor.pk and user.team_id is not None:
        return Team.objects.filter(pk=user.team_id, manager_id=actor.pk).exists()
    return False


def _resolve_subject(data: dict[str, Any]) -> None:
    """``user`` / ``team`` ids → rows (a missing one is a field error)."""
    errors: dict[str, list[str]] = {}
    for name, model in (("user", User), ("team", Team)):
        if name not in data or data[name] in (None, ""):
            data[name] = None
            continue
        value = data[name]
        if not isinstance(value, model):
            pk = value if isinstance(value, int) else None
            found = model.objects.filter(pk=pk).first() if pk else None
            if found is None:
                errors[name] = [_("Choose an existing person or team.")]
            data[name] = found
    if errors:
        raise InvalidInput(field_errors=errors)


def _normalise(data: dict[str, Any]) -> None:
    if "value" in data and data["value"] is not None and not isinstance(data["value"], Decimal):
        try:
            data["value"] = Decimal(str(data["value"]).strip())
        except InvalidOperation as exc:
            raise InvalidInput(field_errors={"value": [_("Enter a number.")]}) from exc
        if not data["value"].is_finite():
            raise InvalidInput(field_errors={"value": [_("Enter a number.")]})
    if isinstance(data.get("currency"), str):
        data["currency"] = data["currency"].strip().upper()
    if isinstance(data.get("period_start"), str):
        try:
            data["period_start"] = dt.date.fromisoformat(data["period_start"])
        except ValueError as exc:
            raise InvalidInput(field_errors={"period_start": [_("Enter a valid date.")]}) from exc


def _ensure_may_set(actor: User, target: Target) -> None:
    if not may_set_target_for(actor, user=target.user, team=target.team):
        raise Forbidden(_("You may set targets only for your teams and their members."))


@transaction.atomic
def set_target(*, actor: User, data: Mapping[str, Any]) -> Target:
    """Create a target for a person or a team (``user`` xor ``team``)."""
    if not can_set_targets(actor):
        raise Forbidden()
    values = dict(data)
    _resolve_subject(values)
    _normalise(values)
    target = Target(created_by=actor)
    apply_changes(target, values, allowed=EDITABLE_FIELDS)
    validate(target)
    _ensure_may_set(actor, target)
    with audited(actor):
        target.save()
    return target


@transaction.atomic
def update_target(
    *, actor: User, target: Target, changes: Mapping[str, Any], expected_version: int | None
) -> Target:
    """Change a target if nobody changed it since ``expected_version``."""
    _ensure_may_set(actor, target)
    values = dict(changes)
    if "user" in values or "team" in values:
        values.setdefault("user", target.user)
        values.setdefault("team", target.team)
        _resolve_subject(values)
    _normalise(values)
    changed = apply_changes(target, values, allowed=EDITABLE_FIELDS)
    validate(target)
    _ensure_may_set(actor, target)  # the new subject too
    claim_version(target, expected_version)
    with audited(actor):
        if changed:
            target.save(update_fields=[*set(changed), "currency", "version"])
    return target


@transaction.atomic
def delete_target(*, actor: User, target: Target, expected_version: int | None) -> None:
    """Remove a target."""
    _ensure_may_set(actor, target)
    claim_version(target, expected_version)
    with audited(actor):
        target.delete()
