"""Template tags of the timeline; the rules themselves live in the service layer."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django import template

from cartera.activities.models import Interaction, InteractionKind
from cartera.activities.services import can_edit_interaction
from cartera.core.display import DateFormatter, choice_labels, pk_url

register = template.Library()

#: Bootstrap icon of each kind of entry (status changes and the rest: a flag).
KIND_ICONS = {
    InteractionKind.CALL.value: "bi-telephone",
    InteractionKind.EMAIL.value: "bi-envelope",
    InteractionKind.MEETING.value: "bi-people",
    InteractionKind.NOTE.value: "bi-journal-text",
}


@register.filter
def editable_by(entry: Interaction, user: Any) -> bool:
    """Whether ``user`` may correct or remove ``entry`` (shows the buttons)."""
    return bool(getattr(user, "is_authenticated", False)) and can_edit_interaction(user, entry)


@register.simple_tag(takes_context=True)
def timeline_rows(context: template.Context, entries: list[Interaction]) -> list[dict[str, Any]]:
    """What each timeline entry shows, as plain values.

    ``{% timeline_rows page.items as timeline_items %}`` in ``timeline_entries.html``.

    Labels, dates and links are computed here once per page (per-language label lookups, one
    date formatter, one ``reverse()`` per kind of link) instead of per entry in the template.
    """
    user = context.get("user")
    request = context.get("request")
    back = context.get("return_url") or (request.get_full_path() if request else "")
    next_query = f"next={quote(back)}"
    labels = choice_labels(InteractionKind)
    dates = DateFormatter()
    account_url, contact_url = pk_url("accounts:detail"), pk_url("contacts:detail")
    edit_url, delete_url = pk_url("activities:edit"), pk_url("activities:delete")
    rows = []
    for entry in entries:
        contact, author = entry.contact, entry.author
        row: dict[str, Any] = {
            "pk": entry.pk,
            "kind": entry.kind,
            "kind_label": labels.get(entry.kind, entry.kind),
            "icon": KIND_ICONS.get(entry.kind, "bi-flag"),
            "subject": entry.subject,
            "account_url": account_url(entry.account_id),
            "account_name": entry.account.name,
            "occurred_iso": dates.iso(entry.occurred_at),
            "occurred": dates.datetime(entry.occurred_at),
            "duration_minutes": entry.duration_minutes,
            "contact_url": contact_url(entry.contact_id) if contact else "",
            "contact_name": contact.full_name if contact else "",
            "author_name": author.full_name if author else "",
            "has_author": author is not None,
            "body": entry.body,
            "editable": editable_by(entry, user),
        }
        if row["editable"]:
            row["edit_url"] = f"{edit_url(entry.pk)}?{next_query}"
            row["delete_url"] = delete_url(entry.pk)
            row["version"] = entry.version
            row["next"] = back
        rows.append(row)
    return rows
