"""Forms of the timeline: they parse input; the activity services sanitise, check and save."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cartera.contacts.models import Contact
from cartera.users.forms import BootstrapFormMixin

from .models import InteractionKind

LOGGABLE_KINDS = [
    (kind.value, kind.label) for kind in InteractionKind if kind != InteractionKind.STATUS_CHANGE
]
MAX_DURATION_MINUTES = 7 * 24 * 60


class InteractionForm(BootstrapFormMixin, forms.Form):
    """A call, email, meeting or note: what, with whom, when and for how long."""

    kind = forms.ChoiceField(
        label=_("Type"), choices=LOGGABLE_KINDS, initial=InteractionKind.CALL.value
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=50000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Bold, italics, lists and links are kept; anything else is removed."),
    )
    contact = forms.TypedChoiceField(
        label=_("Contact"), required=False, coerce=int, empty_value=None
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        required=False,
        min_value=0,
        max_value=MAX_DURATION_MINUTES,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, contacts: Iterable[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [  # type: ignore[attr-defined]
            ("", _("No one in particular")),
            *((contact.pk, contact.full_name) for contact in contacts),
        ]

    def service_data(self) -> dict[str, Any]:
        """The cleaned values the activity services accept; no time given means now."""
        fields = ("kind", "subject", "body", "contact", "occurred_at", "duration_minutes")
        data = {name: self.cleaned_data[name] for name in fields}
        if data["occurred_at"] is None:
            data.pop("occurred_at")
        return data
