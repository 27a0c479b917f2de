"""Forms of the deal pages: they parse and render input; the services decide and save."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cartera.core.money import DECIMAL_PLACES, MAX_DIGITS

from .models import (
    ContactRole,
    ForecastCategory,
    LossReason,
    Opportunity,
    OpportunityType,
    Pipeline,
    Stage,
    StageKind,
)

OPEN_CATEGORY_CHOICES = [
    (value, label)
    for value, label in ForecastCategory.choices
    if value not in {ForecastCategory.CLOSED}
]


class ChoicesMixin:
    """``self.choice(name)``: a choice field, typed, to fill its options when built."""

    fields: dict[str, forms.Field]

    def choice(self, name: str) -> forms.ChoiceField:
        """The choice field ``name``."""
        return cast(forms.ChoiceField, self.fields[name])


def style_widgets(form: forms.BaseForm) -> None:
    """Give every widget its Bootstrap class (and mark fields with errors invalid)."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        if form.is_bound and name in form.errors:
            css += " is-invalid"
        widget.attrs["class"] = css


class OpportunityForm(ChoicesMixin, forms.Form):
    """Create or edit a deal; the hidden ``version`` guards against overwriting others."""

    name = forms.CharField(label=_("name"), max_length=200)
    account = forms.IntegerField(label=_("account"), required=False, widget=forms.HiddenInput)
    pipeline = forms.TypedChoiceField(label=_("pipeline"), coerce=int)
    stage = forms.TypedChoiceField(label=_("stage"), coerce=int)
    type = forms.ChoiceField(label=_("type"), choices=OpportunityType.choices)
    amount = forms.DecimalField(
        label=_("amount"), min_value=0, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES
    )
    currency = forms.CharField(
        label=_("currency"),
        max_length=3,
        min_length=3,
        widget=forms.TextInput(attrs={"list": "currency-codes", "autocomplete": "off"}),
    )
    probability = forms.IntegerField(
        label=_("probability (%)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Leave empty to use the stage's probability."),
    )
    forecast_category = forms.ChoiceField(
        label=_("forecast category"), choices=OPEN_CATEGORY_CHOICES, required=False
    )
    expected_close_date = forms.DateField(
        label=_("expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    owner = forms.TypedChoiceField(label=_("owner"), coerce=int)
    next_step = forms.CharField(label=_("next step"), max_length=255, required=False)
    loss_reason = forms.TypedChoiceField(
        label=_("loss reason"), coerce=int, required=False, empty_value=None
    )
    loss_note = forms.CharField(
        label=_("loss details"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    description = forms.CharField(
        label=_("description"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        owners: list[Any],
        pipelines: list[Pipeline],
        stages: list[Stage],
        reasons: list[LossReason],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.choice("owner").choices = [(p.pk, str(p)) for p in owners]
        self.choice("pipeline").choices = [(p.pk, p.name) for p in pipelines]
        by_pipeline = {p.pk: p.name for p in pipelines}
        self.choice("stage").choices = [
            (s.pk, f"{by_pipeline.get(s.pipeline_id, '')} · {s.name}") for s in stages
        ]
        self.choice("loss_reason").choices = [("", "—"), *[(r.pk, r.name) for r in reasons]]
        style_widgets(self)

    def clean_currency(self) -> str:
        """Upper case, as stored."""
        return str(self.cleaned_data["currency"]).strip().upper()

    def changes(self, opportunity: Opportunity | None) -> dict[str, Any]:
        """What the services get: every field (a create), or the ones that differ (an edit)."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if data.get("probability") is None:
            data.pop("probability", None)
        if not data.get("forecast_category"):
            data.pop("forecast_category", None)
        if opportunity is None:
            if data.get("loss_reason") is None:
                data.pop("loss_reason", None)
            return data
        changes: dict[str, Any] = {}
        for name, value in data.items():
            current = getattr(opportunity, f"{name}_id" if name in _RELATIONS else name)
            if value != current:
                changes[name] = value
        if opportunity.status != StageKind.OPEN:
            changes.pop("forecast_category", None)
        return changes


_RELATIONS = {"account", "pipeline", "stage", "owner", "loss_reason"}


def opportunity_initial(opportunity: Opportunity) -> dict[str, Any]:
    """The form's values for an existing deal."""
    return {
        "name": opportunity.name,
        "account": opportunity.account_id,
        "pipeline": opportunity.pipeline_id,
        "stage": opportunity.stage_id,
        "type": opportunity.type,
        "amount": opportunity.amount,
        "currency": opportunity.currency,
        "probability": opportunity.probability,
        "forecast_category": opportunity.forecast_category,
        "expected_close_date": opportunity.expected_close_date,
        "owner": opportunity.owner_id,
        "next_step": opportunity.next_step,
        "loss_reason": opportunity.loss_reason_id,
        "loss_note": opportunity.loss_note,
        "description": opportunity.description,
        "version": opportunity.version,
    }


class MoveForm(ChoicesMixin, forms.Form):
    """Move a deal to another stage from its page (the board does it by drag and drop)."""

    stage = forms.TypedChoiceField(label=_("stage"), coerce=int)
    loss_reason = forms.TypedChoiceField(
        label=_("loss reason"), coerce=int, required=False, empty_value=None
    )
    loss_note = forms.CharField(label=_("loss details"), max_length=2000, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, stages: list[Stage], reasons: list[LossReason], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.choice("stage").choices = [(s.pk, s.name) for s in stages]
        self.choice("loss_reason").choices = [("", "—"), *[(r.pk, r.name) for r in reasons]]
        style_widgets(self)


class ContactRoleForm(forms.Form):
    """Add a contact to the deal with a role."""

    contact = forms.IntegerField(label=_("contact"), widget=forms.HiddenInput)
    role = forms.ChoiceField(label=_("role"), choices=ContactRole.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_widgets(self)


class LineForm(ChoicesMixin, forms.Form):
    """Add a product (or a free-text line) to the deal."""

    product = forms.TypedChoiceField(label=_("product"), coerce=int, required=False)
    description = forms.CharField(label=_("description"), max_length=300, required=False)
    quantity = forms.DecimalField(
        label=_("quantity"), min_value=0, max_digits=12, decimal_places=3, initial=1
    )
    unit_price = forms.DecimalField(
        label=_("unit price"),
        min_value=0,
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        required=False,
        help_text=_("Leave empty for the catalogue price."),
    )
    discount_percent = forms.DecimalField(
        label=_("discount (%)"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        required=False,
    )

    def __init__(self, *args: Any, products: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice("product").choices = [
            ("", _("— free text —")),
            *[(p.pk, f"{p.sku} · {p.name}") for p in products],
        ]
        style_widgets(self)

    def data_for_service(self) -> dict[str, Any]:
        """Only what was given: an empty price means the catalogue's."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class PipelineForm(forms.Form):
    """A pipeline's name and settings."""

    name = forms.CharField(label=_("name"), max_length=120)
    description = forms.CharField(
        label=_("description"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    is_default = forms.BooleanField(label=_("default pipeline"), required=False)
    is_active = forms.BooleanField(label=_("active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_widgets(self)


class StageForm(forms.Form):
    """A stage's settings."""

    name = forms.CharField(label=_("name"), max_length=80)
    probability = forms.IntegerField(label=_("probability (%)"), min_value=0, max_value=100)
    kind = forms.ChoiceField(label=_("kind"), choices=StageKind.choices)
    forecast_category = forms.ChoiceField(
        label=_("forecast category"), choices=ForecastCategory.choices
    )
    usual_days = forms.IntegerField(
        label=_("usual days in stage"), min_value=1, max_value=3650, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_widgets(self)


class LossReasonForm(forms.Form):
    """A loss reason."""

    name = forms.CharField(label=_("name"), max_length=120)
    is_active = forms.BooleanField(label=_("active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_widgets(self)
