"""Writes to users, teams and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cartera.core.audit import audited
from cartera.core.errors import Forbidden, InvalidInput, NotFound
from cartera.core.services import apply_changes, validate

from .models import ApiToken, Role, Team, User

USER_FIELDS = frozenset(
    {"email", "full_name", "role", "team", "language", "time_zone", "is_active"}
)
PROFILE_FIELDS = frozenset({"full_name", "language", "time_zone"})
TEAM_FIELDS = frozenset({"name", "manager", "office"})
TOKEN_PREFIX = "crt_"


def ensure_admin(actor: User) -> None:
    """Only administrators manage people and teams."""
    if not actor.is_admin:
        raise Forbidden()


def _check_password(password: str | None, user: User) -> None:
    if not password:
        raise InvalidInput(field_errors={"password": [_("This field is required.")]})
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise InvalidInput(field_errors={"password": list(exc.messages)}) from exc


def _normalise_user_values(values: dict[str, Any]) -> None:
    if isinstance(values.get("email"), str):
        values["email"] = values["email"].strip().lower()
    team = values.get("team")
    if team is not None and not isinstance(team, Team):
        found = Team.objects.filter(pk=team).first() if isinstance(team, int) else None
        if found is None:
            raise InvalidInput(field_errors={"team": [_("Choose an existing team.")]})
        values["team"] = found


@transaction.atomic
def create_user(*, actor: User | None, data: Mapping[str, Any], password: str | None) -> User:
    """Create a person who can sign in (``actor`` None only for the first administrator)."""
    if actor is not None:
        ensure_admin(actor)
    values = dict(data)
    _normalise_user_values(values)
    user = User()
    apply_changes(user, values, allowed=USER_FIELDS)
    validate(user, exclude=["password"])
    _check_password(password, user)
    user.set_password(password)
    if user.role == Role.ADMIN:
        user.is_staff = user.is_superuser = True
    with audited(actor):
        user.save()
    return user


@transaction.atomic
def update_user(*, actor: User, user: User, changes: Mapping[str, Any]) -> User:
    """Change a person's details, role or team (administrators), or one's own profile."""
    allowed = USER_FIELDS if actor.is_admin else PROFILE_FIELDS
    if not actor.is_admin and actor.pk != user.pk:
        raise NotFound()
    values = dict(changes)
    _normalise_user_values(values)
    if actor.pk == user.pk and (
        values.get("is_active") is False
        or ("role" in values and values["role"] != Role.ADMIN and user.role == Role.ADMIN)
    ):
        raise InvalidInput(field_errors={"role": [_("You cannot demote or deactivate yourself.")]})
    changed = apply_changes(user, values, allowed=allowed)
    validate(user, exclude=["password"])
    if "role" in changed:
        user.is_staff = user.is_superuser = user.role == Role.ADMIN
        changed += ["is_staff", "is_superuser"]
    with audited(actor):
        if changed:
            user.save(update_fields=changed)
    return user


@transaction.atomic
def set_language(*, actor: User, language: str) -> User:
    """Remember the language the person chose in the interface."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(field_errors={"language": [_("Select a valid choice.")]})
    return update_user(actor=actor, user=actor, changes={"language": language})


@transaction.atomic
def create_team(*, actor: User, data: Mapping[str, Any]) -> Team:
    """Create a team, optionally with its manager."""
    ensure_admin(actor)
    team = Team()
    apply_changes(team, _team_values(data), allowed=TEAM_FIELDS)
    validate(team)
    with audited(actor):
        team.save()
    return team


@transaction.atomic
def update_team(*, actor: User, team: Team, changes: Mapping[str, Any]) -> Team:
    """Rename a team or change its manager."""
    ensure_admin(actor)
    changed = apply_changes(team, _team_values(changes), allowed=TEAM_FIELDS)
    validate(team)
    with audited(actor):
        if changed:
            team.save(update_fields=[*changed, "updated_at"])
    return team


def _team_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(data)
    manager = values.get("manager")
    if manager is not None and not isinstance(manager, User):
        found = (
            User.objects.filter(pk=manager, is_active=True).first()
            if isinstance(manager, int)
            else None
        )
        if found is None:
            raise InvalidInput(field_errors={"manager": [_("Choose an active person.")]})
        values["manager"] = found
    return values


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_api_token(
    *, actor: User, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new personal access token; the plain text is returned once and never stored."""
    if actor.pk != user.pk and not actor.is_admin:
        raise NotFound()
    name = (name or "").strip()
    if not name:
        raise InvalidInput(field_errors={"name": [_("This field is required.")]})
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput(field_errors={"expires_at": [_("Choose a date in the future.")]})
    prefix = secrets.token_hex(6)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user=user, name=name, prefix=prefix, token_hash=_hash_token(raw), expires_at=expires_at
    )
    validate(token, exclude=["token_hash", "prefix"])
    with audited(actor):
        token.save()
    return token, raw


@transaction.atomic
def revoke_api_token(*, actor: User, token: ApiToken) -> ApiToken:
    """Stop a token from working, for good."""
    if actor.pk != token.user_id and not actor.is_admin:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        with audited(actor):
            token.save(update_fields=["revoked_at", "updated_at"])
    return token


def authenticate_api_token(raw: str) -> User | None:
    """The active user a presented token belongs to, or None (wrong, revoked, expired)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix = raw[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    if not hmac.compare_digest(token.token_hash, _hash_token(raw)):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
