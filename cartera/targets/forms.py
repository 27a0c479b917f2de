"""Forms of the target pages: set a target, change its value."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PeriodKind, TargetMetric


class TargetForm(forms.Form):
    """A new target: whose (a person or a team), which period, which metric, how much."""

    subject = forms.ChoiceField(label=_("For"))
    period_kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices)
    period_start = forms.DateField(
        label=_("Period starts"), widget=forms.DateInput(attrs={"type": "date"})
    )
    metric = forms.ChoiceField(label=_("Metric"), choices=TargetMetric.choices)
    value = forms.DecimalField(label=_("Target"), min_value=0, max_digits=16, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)

    def __init__(self, *args: Any, subjects: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = subjects  # type: ignore[attr-defined]
        _style(self)

    def service_data(self) -> dict[str, Any]:
        """What ``set_target`` takes."""
        data = dict(self.cleaned_data)
        kind, _sep, pk = data.pop("subject").partition(":")
        data["user" if kind == "user" else "team"] = int(pk)
        return data


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


class TargetValueForm(forms.Form):
    """A target's new value (and currency), from the version it was read at."""

    value = forms.DecimalField(label=_("Target"), min_value=0, max_digits=16, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)
