"""What an account export holds: one column spec for the list page, the API and the CLI.

Rows are ``values()`` dicts (``account_export_rows``): each column names the lookups it reads,
and the selector adds ``tags`` (names, per chunk of rows).
"""

from __future__ import annotations

from operator import itemgetter

from django.utils.translation import gettext_lazy as _

from cartera.core.export import Column, ExportSpec, Row, field

from .models import AccountStatus, CompanySize, Industry, Tier


def _owner(row: Row) -> str:
    # As ``User.__str__``: the full name, else the email.
    return str(row["owner__full_name"] or row["owner__email"])


ACCOUNT_COLUMNS: tuple[Column[Row], ...] = (
    field(_("Name"), "name", width=32),
    field(_("Legal name"), "legal_name", width=32),
    field(_("Tax id"), "tax_id", width=14),
    field(_("Status"), "status", "choice", AccountStatus.choices, width=12),
    field(_("Tier"), "tier", "choice", Tier.choices, width=8),
    field(_("Key account"), "is_key_account", "bool", width=8),
    Column(_("Owner"), _owner, width=20, fields=("owner__full_name", "owner__email")),
    field(_("Industry"), "industry", "choice", Industry.choices, width=24),
    field(_("Size"), "size", "choice", CompanySize.choices, width=18),
    field(_("Website"), "website", width=28),
    field(_("Email"), "email", width=28),
    field(_("Phone"), "phone_e164", width=16),  # the stored E.164 text (selector annotation)
    field(_("Street address"), "street", width=28),
    field(_("Postal code"), "postal_code", width=10),
    field(_("City"), "city", width=16),
    field(_("Region / province"), "region", width=16),
    field(_("Country"), "country", width=8),
    field(_("Annual revenue"), "annual_revenue", "number", width=16),
    field(_("Currency"), "currency", width=8),
    field(_("Parent account"), "parent__name", width=28),
    Column(_("Tags"), itemgetter("tags"), width=20),  # added per chunk by the selector
    field(_("Created"), "created_at", "datetime", width=18),
    field(_("Updated"), "updated_at", "datetime", width=18),
    field(_("External id"), "external_id", width=16),
)

ACCOUNT_EXPORT: ExportSpec[Row] = ExportSpec("accounts", _("Accounts"), ACCOUNT_COLUMNS)
