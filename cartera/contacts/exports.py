"""What a contact export holds: one column spec for the list page, the API and the CLI.

Rows are ``values()`` dicts (``contact_export_rows``): each column names the lookups it reads,
and the selector adds ``accounts`` (the names of the accounts the reader sees, per chunk).
"""

from __future__ import annotations

from operator import itemgetter

from django.utils.translation import gettext_lazy as _

from cartera.core.export import Column, ExportSpec, Row, field

from .models import BuyingRole, Channel, ReportPreference

CONTACT_COLUMNS: tuple[Column[Row], ...] = (
    field(_("First name"), "first_name", width=16),
    field(_("Last name"), "last_name", width=20),
    field(_("Job title"), "job_title", width=24),
    field(_("Email"), "email", width=28),
    field(_("Secondary email"), "secondary_email", width=28),
    field(_("Phone"), "phone_e164", width=16),  # stored E.164 texts (selector annotations)
    field(_("Mobile"), "mobile_e164", width=16),
    field(_("Buying role"), "buying_role", "choice", BuyingRole.choices, width=16),
    field(_("Preferred channel"), "preferred_channel", "choice", Channel.choices, width=16),
    field(
        _("Report preference"),
        "report_preference",
        "choice",
        ReportPreference.choices,
        width=16,
    ),
    field(_("Do not contact"), "do_not_contact", "bool", width=10),
    Column(_("Accounts"), itemgetter("accounts"), width=32),  # added per chunk by the selector
    field(_("Updated"), "updated_at", "datetime", width=18),
    field(_("Language"), "language", width=8),
    field(_("Special requests and preferences"), "special_requests", width=40),
    field(_("Created"), "created_at", "datetime", width=18),
    field(_("External id"), "external_id", width=16),
)

CONTACT_EXPORT: ExportSpec[Row] = ExportSpec("contacts", _("Contacts"), CONTACT_COLUMNS)
