"""What an interaction export holds: one column spec for the timeline page, the API and the CLI.

Rows are ``values()`` dicts (``interaction_export_rows``) with the account, contact and author
names joined in; each column names the lookups it reads.
"""

from __future__ import annotations

import html
import re

from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _

from cartera.core.export import Column, ExportSpec, Row, field

from .models import Direction, InteractionKind

_BREAKS = re.compile(r"<br\s*/?>|</(?:p|div|li|h[1-6]|blockquote|pre|tr)>", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(value: str) -> str:
    """A (sanitised) rich-text body as plain text: tags dropped, breaks kept, entities decoded."""
    if "<" not in value and "&" not in value:
        return value
    text = strip_tags(_BREAKS.sub("\n", value))
    return _BLANK_LINES.sub("\n\n", html.unescape(text)).strip()


def _contact(row: Row) -> str:
    return f"{row['contact__first_name'] or ''} {row['contact__last_name'] or ''}".strip()


def _author(row: Row) -> str:
    # As ``User.__str__``: the full name, else the email (nobody once the author is deleted).
    return str(row["author__full_name"] or row["author__email"] or "")


def _details(row: Row) -> str:
    return html_to_text(row["body"])


INTERACTION_COLUMNS: tuple[Column[Row], ...] = (
    field(_("When"), "occurred_at", "datetime", width=18),
    field(_("Type"), "kind", "choice", InteractionKind.choices, width=12),
    field(_("Direction"), "direction", "choice", Direction.choices, width=10),
    field(_("Subject"), "subject", width=40),
    field(_("Account"), "account__name", width=32),
    Column(_("Contact"), _contact, width=24, fields=("contact__first_name", "contact__last_name")),
    field(_("Duration (minutes)"), "duration_minutes", "number", width=10),
    Column(_("Logged by"), _author, width=20, fields=("author__full_name", "author__email")),
    Column(_("Details"), _details, width=60, fields=("body",)),
    field(_("External id"), "external_id", width=16),
)

INTERACTION_EXPORT: ExportSpec[Row] = ExportSpec(
    "interactions", _("Interactions"), INTERACTION_COLUMNS
)
