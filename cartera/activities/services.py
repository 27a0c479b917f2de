"""Logging and editing interactions on the timeline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nh3
from django.db import transaction
from django.utils.translation import gettext as _

from cartera.accounts.models import Account
from cartera.accounts.services import ensure_can_write, ensure_can_write_account
from cartera.contacts.models import Contact, ContactAccount
from cartera.core.audit import audited
from cartera.core.errors import Forbidden, InvalidInput
from cartera.core.services import apply_changes, claim_version, validate
from cartera.users.models import User

from .models import Interaction, InteractionKind

EDITABLE_FIELDS = frozenset(
    {"kind", "direction", "subject", "body", "occurred_at", "duration_minutes", "contact"}
)
ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "ul", "ol", "li", "blockquote", "a", "code",
    "pre", "h3", "h4",
}  # fmt: skip


def sanitize_html(value: str) -> str:
    """Rich text as the user wrote it, minus anything that could run or restyle the page."""
    return nh3.clean(value or "", tags=ALLOWED_TAGS, link_rel="noopener noreferrer nofollow")


def _resolve_contact(values: dict[str, Any], account: Account) -> None:
    if values.get("contact") in (None, ""):
        values["contact"] = None
        return
    contact = values["contact"]
    pk = contact.pk if isinstance(contact, Contact) else contact
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise InvalidInput(field_errors={"contact": [_("Choose a contact of this account.")]})
    linked = (
        ContactAccount.objects.filter(
            account=account,
            contact_id=pk,
            contact__deleted_at=None,
        )
        .select_related("contact")
        .first()
    )
    if linked is None:
        raise InvalidInput(field_errors={"contact": [_("Choose a contact of this account.")]})
    values["contact"] = linked.contact


def _prepare(values: dict[str, Any]) -> None:
    if values.get("kind") == InteractionKind.STATUS_CHANGE:
        raise InvalidInput(
            field_errors={"kind": [_("Status changes are logged when the status changes.")]}
        )
    if "body" in values and isinstance(values["body"], str):
        if "\x00" in values["body"]:
            raise InvalidInput(
                field_errors={
                    "body": [_("This text contains a character that is not allowed (NUL).")]
                }
            )
        values["body"] = sanitize_html(values["body"])


@transaction.atomic
def log_interaction(*, actor: User, account: Account, data: Mapping[str, Any]) -> Interaction:
    """Put a call, email, meeting or note on the account's timeline."""
    ensure_can_write_account(actor, account)
    values = dict(data)
    _prepare(values)
    _resolve_contact(values, account)
    interaction = Interaction(account=account, author=actor)
    apply_changes(interaction, values, allowed=EDITABLE_FIELDS)
    validate(interaction)
    with audited(actor):
        interaction.save()
    return interaction


def can_edit_interaction(actor: User, interaction: Interaction) -> bool:
    """Whether ``actor`` may correct or remove ``interaction`` (for showing the buttons)."""
    if not actor.can_write or interaction.kind == InteractionKind.STATUS_CHANGE:
        return False
    return interaction.author_id == actor.pk or actor.is_admin


def ensure_can_edit_interaction(actor: User, interaction: Interaction) -> None:
    """Authors correct their own entries; administrators anyone's; status changes nobody's."""
    ensure_can_write_account(actor, interaction.account)
    if interaction.kind == InteractionKind.STATUS_CHANGE:
        raise Forbidden(_("Status changes are part of the record and cannot be edited."))
    if interaction.author_id != actor.pk and not actor.is_admin:
        raise Forbidden(_("Only the person who logged this entry can change it."))


@transaction.atomic
def update_interaction(
    *,
    actor: User,
    interaction: Interaction,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> Interaction:
    """Correct an interaction if nobody changed it since ``expected_version``."""
    ensure_can_edit_interaction(actor, interaction)
    values = dict(changes)
    _prepare(values)
    if "contact" in values:
        _resolve_contact(values, interaction.account)
    changed = apply_changes(interaction, values, allowed=EDITABLE_FIELDS)
    validate(interaction)
    claim_version(interaction, expected_version)
    with audited(actor):
        if changed:
            interaction.save(update_fields=[*changed, "version", "updated_at"])
    return interaction


@transaction.atomic
def delete_interaction(
    *, actor: User, interaction: Interaction, expected_version: int | None
) -> None:
    """Remove an interaction from the timeline (the audit trail keeps what it said)."""
    ensure_can_edit_interaction(actor, interaction)
    ensure_can_write(actor)
    claim_version(interaction, expected_version)
    with audited(actor):
        interaction.delete()
