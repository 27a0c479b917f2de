"""Every write to contacts: atomic, access-checked, audited, concurrency-safe."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cartera.accounts.models import Account
from cartera.accounts.services import ensure_can_write
from cartera.core.audit import audited
from cartera.core.errors import InvalidInput, NotFound
from cartera.core.services import apply_changes, claim_version, validate
from cartera.users.models import User

from .models import Contact, ContactAccount

EDITABLE_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "email",
        "secondary_email",
        "phone",
        "mobile",
        "job_title",
        "buying_role",
        "preferred_channel",
        "report_preference",
        "language",
        "special_requests",
        "do_not_contact",
    }
)


def _writable_accounts(actor: User, ids: Iterable[Any]) -> list[Account]:
    """The accounts ``ids`` if the actor may write all of them, else a field error."""
    wanted: list[int] = []
    for value in ids:
        pk = value.pk if isinstance(value, Account) else value
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise InvalidInput(field_errors={"accounts": [_("Choose accounts you can see.")]})
        wanted.append(pk)
    found = list(Account.objects.visible_to(actor).alive().filter(pk__in=wanted))
    if len(found) != len(set(wanted)):
        raise InvalidInput(field_errors={"accounts": [_("Choose accounts you can see.")]})
    return found


def ensure_can_write_contact(actor: User, contact: Contact) -> None:
    """``actor`` writes, and sees the contact through one of its accounts."""
    ensure_can_write(actor)
    if not Contact.objects.visible_to(actor).filter(pk=contact.pk).exists():
        raise NotFound()


@transaction.atomic
def create_contact(*, actor: User, data: Mapping[str, Any]) -> Contact:
    """Create a contact at one or more accounts the actor may write (the first is primary)."""
    ensure_can_write(actor)
    values = dict(data)
    account_ids = values.pop("accounts", None) or []
    if not account_ids:
        raise InvalidInput(field_errors={"accounts": [_("Choose at least one account.")]})
    accounts = _writable_accounts(actor, account_ids)
    contact = Contact(created_by=actor)
    apply_changes(contact, values, allowed=EDITABLE_FIELDS)
    validate(contact)
    order = {
        pk: index
        for index, pk in enumerate(a.pk if isinstance(a, Account) else a for a in account_ids)
    }
    accounts.sort(key=lambda account: order[account.pk])
    with audited(actor):
        contact.save()
        for index, account in enumerate(accounts):
            ContactAccount.objects.create(contact=contact, account=account, is_primary=index == 0)
    return contact


@transaction.atomic
def update_contact(
    *, actor: User, contact: Contact, changes: Mapping[str, Any], expected_version: int | None
) -> Contact:
    """Apply ``changes`` if nobody changed the contact since ``expected_version``."""
    ensure_can_write_contact(actor, contact)
    values = dict(changes)
    account_ids = values.pop("accounts", None)
    changed = apply_changes(contact, values, allowed=EDITABLE_FIELDS)
    validate(contact)
    claim_version(contact, expected_version)
    with audited(actor):
        if changed:
            contact.save(update_fields=[*changed, "version"])
        if account_ids is not None:
            _replace_visible_links(actor, contact, account_ids)
    return contact


def _replace_visible_links(actor: User, contact: Contact, account_ids: list[Any]) -> None:
    """Make the contact's links among the accounts the actor sees exactly ``account_ids``.

    Links to accounts the actor cannot see are left alone: nobody removes what they cannot see.
    """
    if not account_ids:
        raise InvalidInput(field_errors={"accounts": [_("Choose at least one account.")]})
    accounts = _writable_accounts(actor, account_ids)
    visible = Account.objects.visible_to(actor).values("pk")
    current = {
        link.account_id: link
        for link in ContactAccount.objects.filter(contact=contact, account__in=visible)
    }
    wanted = {account.pk for account in accounts}
    for account_id, link in current.items():
        if account_id not in wanted:
            link.delete()
    has_primary = ContactAccount.objects.filter(contact=contact, is_primary=True).exists()
    for account in accounts:
        if account.pk not in current:
            ContactAccount.objects.create(
                contact=contact, account=account, is_primary=not has_primary
            )
            has_primary = True


@transaction.atomic
def trash_contact(*, actor: User, contact: Contact, expected_version: int | None) -> Contact:
    """Move a contact to the trash."""
    ensure_can_write_contact(actor, contact)
    claim_version(contact, expected_version)
    contact.deleted_at = timezone.now()
    with audited(actor):
        contact.save(update_fields=["deleted_at", "version"])
    return contact


@transaction.atomic
def restore_contact(*, actor: User, contact: Contact) -> Contact:
    """Bring a contact back from the trash."""
    ensure_can_write_contact(actor, contact)
    claim_version(contact, None)
    contact.deleted_at = None
    with audited(actor):
        contact.save(update_fields=["deleted_at", "version"])
    return contact
