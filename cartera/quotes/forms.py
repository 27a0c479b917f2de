"""Forms of the quote pages: they parse and render input; the services decide and save."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cartera.accounts.forms import style_widgets
from cartera.catalog.models import PriceList
from cartera.core.errors import DomainError
from cartera.core.views import add_domain_error

from .models import QuoteLanguage


class _Styled(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepare_fields()
        # Marking invalid fields validates a bound form: every choice must be known by now.
        style_widgets(self)

    def prepare_fields(self) -> None:
        """Fill in what the request decides (choices) before the form is validated."""

    def add_domain_error(self, error: DomainError) -> None:
        """Show a service's refusal on the form."""
        add_domain_error(self, error)


class QuoteForm(_Styled):
    """Start a quote."""

    title = forms.CharField(label=_("title"), max_length=200, required=False)
    language = forms.ChoiceField(label=_("language"), choices=QuoteLanguage.choices)
    valid_until = forms.DateField(
        label=_("valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    price_list = forms.TypedChoiceField(
        label=_("price list"), coerce=int, required=False, empty_value=None
    )
    discount_percent = forms.DecimalField(
        label=_("quote discount (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        required=False,
    )
    notes = forms.CharField(
        label=_("notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    terms = forms.CharField(
        label=_("terms and conditions"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, price_lists: list[PriceList], **kwargs: Any) -> None:
        self.price_lists = price_lists
        super().__init__(*args, **kwargs)

    def prepare_fields(self) -> None:
        """The price lists in the deal's currency."""
        self.fields["price_list"].choices = [("", _("None"))] + [  # type: ignore[attr-defined]
            (plist.pk, str(plist)) for plist in self.price_lists
        ]

    def quote_data(self) -> dict[str, Any]:
        """What the service takes."""
        data = dict(self.cleaned_data)
        if data.get("discount_percent") is None:
            data["discount_percent"] = Decimal("0")
        if data.get("valid_until") is None:
            data.pop("valid_until")
        return data


class SendForm(_Styled):
    """Send the quote to the client."""

    recipient_email = forms.EmailField(label=_("client's email"))
    name = forms.CharField(label=_("client's name"), max_length=200, required=False)
    message = forms.CharField(
        label=_("message"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class QuoteSettingsForm(_Styled):
    """The quote settings."""

    approval_threshold = forms.DecimalField(
        label=_("approval threshold (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        help_text=_("A discount above this needs a manager's approval before the quote is sent."),
    )
    won_on_accept = forms.BooleanField(
        label=_("move the deal to won when accepted"), required=False
    )
    link_validity_days = forms.IntegerField(
        label=_("link validity (days)"), min_value=1, max_value=365
    )
