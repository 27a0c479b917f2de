"""What a deal export holds: one column spec for the list page, the API and the CLI."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cartera.core.export import Column, ExportSpec, Row, field

from .models import ForecastCategory, OpportunityType, StageKind


def _owner(row: Row) -> str:
    # As ``User.__str__``: the full name, else the email.
    return str(row["owner__full_name"] or row["owner__email"])


OPPORTUNITY_COLUMNS: tuple[Column[Row], ...] = (
    field(_("Name"), "name", width=32),
    field(_("Account"), "account__name", width=28),
    field(_("Pipeline"), "pipeline__name", width=16),
    field(_("Stage"), "stage__name", width=16),
    field(_("Status"), "status", "choice", StageKind.choices, width=10),
    field(_("Type"), "type", "choice", OpportunityType.choices, width=14),
    field(_("Amount"), "amount", "number", width=14),
    field(_("Currency"), "currency", width=8),
    field(_("Probability (%)"), "probability", "number", width=10),
    field(_("Forecast category"), "forecast_category", "choice", ForecastCategory.choices),
    field(_("Expected close date"), "expected_close_date", "date", width=14),
    field(_("Closed on"), "closed_on", "date", width=14),
    Column(_("Owner"), _owner, width=20, fields=("owner__full_name", "owner__email")),
    field(_("Loss reason"), "loss_reason__name", width=20),
    field(_("Next step"), "next_step", width=28),
    field(_("In stage since"), "stage_entered_at", "datetime", width=18),
    field(_("Created"), "created_at", "datetime", width=18),
    field(_("Updated"), "updated_at", "datetime", width=18),
    field(_("External id"), "external_id", width=16),
)

OPPORTUNITY_EXPORT: ExportSpec[Row] = ExportSpec("opportunities", _("Deals"), OPPORTUNITY_COLUMNS)
