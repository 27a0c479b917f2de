"""Forms of the account pages: they parse and render input; the services decide and save."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import Field as ModelField
from django.db.models import URLField
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from cartera.users.models import User

from .models import Account, TeamRole

#: Account fields the form edits as the model defines them (validators, choices, widgets).
MODEL_FIELDS = [
    "name",
    "legal_name",
    "tax_id",
    "status",
    "tier",
    "is_key_account",
    "industry",
    "size",
    "website",
    "email",
    "phone",
    "street",
    "city",
    "postal_code",
    "region",
    "country",
    "annual_revenue",
    "currency",
    "description",
]

MAX_TAGS = 20


def _formfield(field: ModelField[Any, Any], **kwargs: Any) -> forms.Field:
    """The model field's own form field; addresses typed without a scheme get https://."""
    if isinstance(field, URLField):
        kwargs["assume_scheme"] = "https"
    return cast(forms.Field, field.formfield(**kwargs))


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


class AccountForm(forms.Form):
    """Create or edit an account; the hidden ``version`` guards against overwriting others."""

    owner = forms.TypedChoiceField(label=_("owner"), coerce=int)
    parent = forms.IntegerField(label=_("parent account"), required=False, widget=forms.HiddenInput)
    tags = forms.CharField(
        label=_("tags"),
        required=False,
        max_length=1000,
        help_text=_("Separate tags with commas."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, owners: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(Account, fields=MODEL_FIELDS, formfield_callback=_formfield)
        )
        self.fields["description"].widget.attrs["rows"] = 4
        self.fields["currency"].widget.attrs.update({"maxlength": 3, "list": "currency-codes"})
        self.fields["website"].widget.attrs["placeholder"] = "https://"
        self.fields["owner"].choices = [(user.pk, str(user)) for user in owners]  # type: ignore[attr-defined]
        style_widgets(self)

    def clean_tags(self) -> list[str]:
        """Comma-separated names → a clean list (each at most 50 characters)."""
        names: list[str] = []
        for raw in self.cleaned_data.get("tags", "").split(","):
            name = raw.strip()
            if not name or name in names:
                continue
            if len(name) > 50:
                raise forms.ValidationError(
                    _("Tag “%(tag)s…” is longer than 50 characters."), params={"tag": name[:20]}
                )
            names.append(name)
        if len(names) > MAX_TAGS:
            raise forms.ValidationError(
                _("Use at most %(max)s tags."), params={"max": MAX_TAGS}, code="max_tags"
            )
        return names

    def account_data(self, account: Account | None = None) -> dict[str, Any]:
        """Values for the account services.

        Owner and parent go only when they change, so editing other fields of an account whose
        owner or parent is outside the editor's reach still works.
        """
        data = {name: self.cleaned_data[name] for name in MODEL_FIELDS}
        data["tags"] = self.cleaned_data["tags"]
        owner, parent = self.cleaned_data["owner"], self.cleaned_data["parent"]
        if account is None or owner != account.owner_id:
            data["owner"] = owner
        if account is None or parent != account.parent_id:
            data["parent"] = parent
        return data


def account_initial(account: Account) -> dict[str, Any]:
    """The edit form's starting values, from the stored account."""
    initial: dict[str, Any] = {name: getattr(account, name) for name in MODEL_FIELDS}
    initial["country"] = account.country.code or ""
    initial["owner"] = account.owner_id
    initial["parent"] = account.parent_id
    initial["tags"] = ", ".join(tag.name for tag in account.tags.all())
    initial["version"] = account.version
    return initial


class TeamMemberForm(forms.Form):
    """Put someone on the account team with a role."""

    user = forms.TypedChoiceField(label=_("Person"), coerce=int)
    role = forms.ChoiceField(label=_("Role"), choices=TeamRole.choices)

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [(person.pk, str(person)) for person in people]  # type: ignore[attr-defined]
        style_widgets(self)
