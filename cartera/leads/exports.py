"""What a lead export holds: one column spec for the list page and the API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cartera.accounts.models import CompanySize, Industry
from cartera.core.export import Column, ExportSpec, Row, field

from .models import LeadSource, LeadStatus


def _owner(row: Row) -> str:
    return str(row["owner__full_name"] or row["owner__email"] or "")


LEAD_COLUMNS: tuple[Column[Row], ...] = (
    field(_("Company"), "company", width=28),
    field(_("First name"), "first_name", width=16),
    field(_("Last name"), "last_name", width=18),
    field(_("Job title"), "job_title", width=20),
    field(_("Email"), "email", width=28),
    field(_("Phone"), "phone_e164", width=16),
    field(_("Website"), "website", width=28),
    field(_("Country"), "country", width=8),
    field(_("Industry"), "industry", "choice", Industry.choices, width=24),
    field(_("Size"), "size", "choice", CompanySize.choices, width=18),
    field(_("Source"), "source", "choice", LeadSource.choices, width=14),
    field(_("Status"), "status", "choice", LeadStatus.choices, width=12),
    field(_("Score"), "score", "number", width=8),
    Column(_("Owner"), _owner, width=20, fields=("owner__full_name", "owner__email")),
    field(_("Team"), "team__name", width=16),
    field(_("Research notes"), "notes", width=40),
    field(_("Created"), "created_at", "datetime", width=18),
    field(_("Converted"), "converted_at", "datetime", width=18),
    field(_("External id"), "external_id", width=16),
)

LEAD_EXPORT: ExportSpec[Row] = ExportSpec("leads", _("Leads"), LEAD_COLUMNS)
