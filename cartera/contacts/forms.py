"""Forms of the contact pages: they parse input; the contact services decide and save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cartera.users.forms import BootstrapFormMixin

from .models import Contact
from .services import EDITABLE_FIELDS

MAX_ACCOUNTS = 50


class AccountListField(forms.Field):
    """Account pks from repeated hidden inputs (picked with the autocomplete)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid": _("Choose accounts from the list."),
        "too_many": _("Choose at most %(max)s accounts."),
    }

    def to_python(self, value: Any) -> list[int]:
        """Distinct integers in the order given (the first is the primary account)."""
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        pks: list[int] = []
        for item in values:
            try:
                pk = int(item)
            except (TypeError, ValueError) as exc:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
            if pk <= 0 or pk > 2**63 - 1:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            if pk not in pks:
                pks.append(pk)
        if len(pks) > MAX_ACCOUNTS:
            raise ValidationError(
                self.error_messages["too_many"], code="too_many", params={"max": MAX_ACCOUNTS}
            )
        return pks


class ContactForm(BootstrapFormMixin, forms.ModelForm):
    """A contact's details and accounts; never saved by the form itself."""

    accounts = AccountListField(
        label=_("Accounts"),
        error_messages={"required": _("Choose at least one account.")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Contact
        fields = [
            "first_name",
            "last_name",
            "job_title",
            "email",
            "secondary_email",
            "phone",
            "mobile",
            "buying_role",
            "preferred_channel",
            "report_preference",
            "special_requests",
            "do_not_contact",
        ]
        widgets = {"special_requests": forms.Textarea(attrs={"rows": 3})}

    def service_data(self) -> dict[str, Any]:
        """The cleaned values the contact services accept (model field names and accounts)."""
        data = {key: self.cleaned_data[key] for key in EDITABLE_FIELDS if key in self.fields}
        data["accounts"] = self.cleaned_data["accounts"]
        return data
