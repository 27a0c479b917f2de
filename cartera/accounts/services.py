"""Every write to accounts: atomic, access-checked, audited, concurrency-safe."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cartera.core.audit import audited
from cartera.core.errors import Forbidden, InvalidInput, NotFound
from cartera.core.services import apply_changes, claim_version, validate
from cartera.users.access import can_assign_owner
from cartera.users.models import User

from .models import Account, AccountStatus, AccountTeamMember, Tag, TeamRole

EDITABLE_FIELDS = frozenset(
    {
        "name",
        "legal_name",
        "tax_id",
        "industry",
        "size",
        "website",
        "phone",
        "email",
        "street",
        "city",
        "region",
        "postal_code",
        "country",
        "tier",
        "is_key_account",
        "status",
        "annual_revenue",
        "currency",
        "description",
        "owner",
        "parent",
    }
)


def ensure_can_write(actor: User) -> None:
    """Read-only and inactive users change nothing."""
    if not actor.can_write:
        raise Forbidden()


def ensure_can_write_account(actor: User, account: Account) -> None:
    """``actor`` may change ``account``: they write, and the account is in their scope."""
    ensure_can_write(actor)
    if not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise NotFound()


def _resolve_references(actor: User, data: dict[str, Any], *, account: Account | None) -> None:
    """Turn ``owner`` / ``parent`` ids into rows the actor may use, or field errors."""
    errors: dict[str, list[str]] = {}
    if "owner" in data:
        owner = data["owner"]
        if not isinstance(owner, User):
            owner = User.objects.filter(pk=owner).first() if isinstance(owner, int) else None
        if owner is None or not can_assign_owner(actor, owner):
            errors["owner"] = [_("Choose an active person you may assign accounts to.")]
        data["owner"] = owner
    if data.get("parent") is not None:
        parent = data["parent"]
        parent_pk = parent.pk if isinstance(parent, Account) else parent
        found = (
            Account.objects.visible_to(actor).alive().filter(pk=parent_pk).first()
            if isinstance(parent_pk, int)
            else None
        )
        if found is None:
            errors["parent"] = [_("Choose an account you can see.")]
        elif account is not None and found.pk == account.pk:
            errors["parent"] = [_("An account cannot be its own parent or ancestor.")]
        data["parent"] = found
    if errors:
        raise InvalidInput(field_errors=errors)


def _set_tags(account: Account, names: Iterable[str]) -> None:
    cleaned = sorted({name.strip()[:50] for name in names if name and name.strip()})
    if any("\x00" in name for name in cleaned):
        raise InvalidInput(
            field_errors={"tags": [_("A tag contains a character that is not allowed.")]}
        )
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=cleaned)}
    for name in cleaned:
        if name not in existing:
            existing[name] = Tag.objects.create(name=name)
    account.tags.set(list(existing.values()))


def _log_status_change(actor: User, account: Account, old: str, new: str) -> None:
    from cartera.activities.models import Interaction, InteractionKind

    labels = dict(AccountStatus.choices)
    Interaction.objects.create(
        account=account,
        kind=InteractionKind.STATUS_CHANGE,
        subject=_("Status changed from %(old)s to %(new)s")
        % {"old": labels.get(old, old), "new": labels.get(new, new)},
        author=actor,
    )


@transaction.atomic
def create_account(*, actor: User, data: Mapping[str, Any]) -> Account:
    """Create an account owned by ``data['owner']`` (default: the actor)."""
    ensure_can_write(actor)
    values = dict(data)
    tags = values.pop("tags", None) or []
    values.setdefault("owner", actor)
    _resolve_references(actor, values, account=None)
    account = Account(created_by=actor)
    apply_changes(account, values, allowed=EDITABLE_FIELDS)
    validate(account)
    with audited(actor):
        account.save()
        if tags:
            _set_tags(account, tags)
    return account


@transaction.atomic
def update_account(
    *,
    actor: User,
    account: Account,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> Account:
    """Apply ``changes`` if nobody changed the account since ``expected_version``."""
    ensure_can_write_account(actor, account)
    values = dict(changes)
    tags = values.pop("tags", None)
    _resolve_references(actor, values, account=account)
    old_status = account.status
    changed = apply_changes(account, values, allowed=EDITABLE_FIELDS)
    validate(account)
    claim_version(account, expected_version)
    with audited(actor):
        if changed:
            account.save(update_fields=[*changed, "version"])
        if tags is not None:
            _set_tags(account, tags)
        if "status" in changed:
            _log_status_change(actor, account, old_status, account.status)
    return account


@transaction.atomic
def trash_account(*, actor: User, account: Account, expected_version: int | None) -> Account:
    """Move an account to the trash; its contacts and timeline stay for a restore."""
    ensure_can_write_account(actor, account)
    claim_version(account, expected_version)
    account.deleted_at = timezone.now()
    with audited(actor):
        account.save(update_fields=["deleted_at", "version"])
    return account


@transaction.atomic
def restore_account(*, actor: User, account: Account) -> Account:
    """Bring an account back from the trash."""
    ensure_can_write(actor)
    if not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise NotFound()
    claim_version(account, None)
    account.deleted_at = None
    with audited(actor):
        account.save(update_fields=["deleted_at", "version"])
    return account


@transaction.atomic
def set_team_member(*, actor: User, account: Account, user: User, role: str) -> AccountTeamMember:
    """Put ``user`` on the account's team with ``role`` (or change their role there)."""
    ensure_can_write_account(actor, account)
    if role not in TeamRole.values:
        raise InvalidInput(field_errors={"role": [_("Select a valid choice.")]})
    if not user.is_active:
        raise InvalidInput(field_errors={"user": [_("This person is not active.")]})
    with audited(actor):
        member, created = AccountTeamMember.objects.get_or_create(
            account=account, user=user, defaults={"role": role}
        )
        if not created and member.role != role:
            member.role = role
            member.save(update_fields=["role", "updated_at"])
    return member


@transaction.atomic
def remove_team_member(*, actor: User, account: Account, user: User) -> None:
    """Take ``user`` off the account's team."""
    ensure_can_write_account(actor, account)
    member = AccountTeamMember.objects.filter(account=account, user=user).first()
    if member is None:
        raise NotFound()
    with audited(actor):
        member.delete()
