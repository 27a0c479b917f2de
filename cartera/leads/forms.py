"""Forms of the lead pages: they parse and render input; the services decide and save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from cartera.accounts.forms import _formfield, style_widgets
from cartera.users.models import Team, User

from .models import ActivityKind, AssignmentRule, Lead, LeadForm, ScoringRule

LEAD_FIELDS = [
    "company",
    "first_name",
    "last_name",
    "job_title",
    "email",
    "phone",
    "website",
    "tax_id",
    "country",
    "industry",
    "size",
    "source",
    "status",
    "notes",
]
PUBLIC_FIELDS = [
    "company",
    "first_name",
    "last_name",
    "job_title",
    "email",
    "phone",
    "website",
    "country",
    "industry",
    "size",
]
#: The hidden field bots fill in and people never see.
HONEYPOT = "fax_number"


def _person_choices(people: list[User], *, blank: str | None = None) -> list[tuple[Any, str]]:
    choices: list[tuple[Any, str]] = [(person.pk, str(person)) for person in people]
    return [("", blank), *choices] if blank is not None else choices


def _team_choices(teams: list[Team]) -> list[tuple[Any, str]]:
    return [("", "—"), *[(team.pk, team.name) for team in teams]]


class LeadEditForm(forms.Form):
    """Create or edit a lead; the hidden ``version`` guards against overwriting others."""

    owner = forms.TypedChoiceField(label=_("owner"), coerce=int, required=False, empty_value=None)
    team = forms.TypedChoiceField(label=_("team"), coerce=int, required=False, empty_value=None)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, owners: list[User], teams: list[Team], creating: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(Lead, fields=LEAD_FIELDS, formfield_callback=_formfield)
        )
        self.fields["notes"].widget.attrs["rows"] = 5
        self.fields["website"].widget.attrs["placeholder"] = "https://"
        blank = str(_("Assignment rules decide")) if creating else str(_("Nobody"))
        self.fields["owner"].choices = _person_choices(owners, blank=blank)  # type: ignore[attr-defined]
        self.fields["team"].choices = _team_choices(teams)  # type: ignore[attr-defined]
        if creating:
            status = self.fields["status"]
            status.choices = [c for c in status.choices if c[0] != "converted"]  # type: ignore[attr-defined]
        style_widgets(self)

    def lead_data(self, lead: Lead | None = None) -> dict[str, Any]:
        """Values for the lead services; the owner goes only when set or changed."""
        data = {name: self.cleaned_data[name] for name in LEAD_FIELDS}
        data["team"] = self.cleaned_data["team"]
        owner = self.cleaned_data["owner"]
        if lead is None:
            if owner is not None:
                data["owner"] = owner
        elif owner != lead.owner_id:
            data["owner"] = owner
        if lead is not None and lead.is_converted:
            data.pop("status", None)
        return data


def lead_initial(lead: Lead) -> dict[str, Any]:
    """The edit form's starting values."""
    initial: dict[str, Any] = {name: getattr(lead, name) for name in LEAD_FIELDS}
    initial.update(
        country=lead.country.code or "",
        owner=lead.owner_id,
        team=lead.team_id,
        version=lead.version,
    )
    return initial


class PublicLeadForm(forms.Form):
    """What a website visitor fills in; ``fax_number`` is the honeypot."""

    message = forms.CharField(
        label=_("How can we help?"), required=False, max_length=5000, widget=forms.Textarea
    )
    fax_number = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = fields_for_model(Lead, fields=PUBLIC_FIELDS, formfield_callback=_formfield)
        message = self.fields.pop("message")
        honeypot = self.fields.pop(HONEYPOT)
        self.fields.update(fields)
        self.fields["message"] = message
        self.fields[HONEYPOT] = honeypot
        self.fields["email"].required = True
        self.fields["company"].required = True
        self.fields["message"].widget.attrs["rows"] = 4
        style_widgets(self)
        attrs = self.fields[HONEYPOT].widget.attrs
        attrs.update({"tabindex": "-1", "autocomplete": "off"})

    @property
    def is_spam(self) -> bool:
        """A bot filled in the field people cannot see."""
        return bool((self.data.get(HONEYPOT) or "").strip())

    def lead_data(self) -> dict[str, Any]:
        """Values for ``submit_web_form``."""
        data = {name: self.cleaned_data[name] for name in PUBLIC_FIELDS}
        data["notes"] = self.cleaned_data["message"]
        return data


class ActivityForm(forms.Form):
    """Log a call, email, meeting or note with a lead."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    notes = forms.CharField(
        label=_("Notes"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_widgets(self)


class AssignForm(forms.Form):
    """Give a lead to someone."""

    owner = forms.TypedChoiceField(
        label=_("Assign to"), coerce=int, required=False, empty_value=None
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, owners: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _person_choices(owners, blank=str(_("Nobody")))  # type: ignore[attr-defined]
        style_widgets(self)


class ConvertForm(forms.Form):
    """Confirm a conversion: reuse what matched or create new records."""

    account_choice = forms.ChoiceField(
        choices=[("existing", _("Use the existing account")), ("new", _("Create a new account"))],
        widget=forms.RadioSelect,
        required=False,
    )
    contact_choice = forms.ChoiceField(
        choices=[("existing", _("Use the existing contact")), ("new", _("Create a new contact"))],
        widget=forms.RadioSelect,
        required=False,
    )
    create_opportunity = forms.BooleanField(
        label=_("Create an opportunity"), required=False, initial=True
    )
    opportunity_name = forms.CharField(label=_("Opportunity name"), max_length=200, required=False)
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=16, decimal_places=2, min_value=0, required=False
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    expected_close_date = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_widgets(self)
        for name in ("account_choice", "contact_choice"):
            self.fields[name].widget.attrs["class"] = "form-check-input"

    def opportunity_data(self) -> dict[str, Any]:
        """Values for the new deal, only those given."""
        data = {
            "name": self.cleaned_data["opportunity_name"],
            "amount": self.cleaned_data["amount"],
            "currency": (self.cleaned_data["currency"] or "").upper(),
            "expected_close_date": self.cleaned_data["expected_close_date"],
        }
        return {key: value for key, value in data.items() if value not in (None, "")}


class WebFormSettingsForm(forms.Form):
    """A web form's settings."""

    team = forms.TypedChoiceField(
        label=_("route to team"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = fields_for_model(
            LeadForm,
            fields=["name", "slug", "title", "is_active", "thank_you_text", "language"],
            formfield_callback=_formfield,
        )
        team = self.fields.pop("team")
        self.fields.update(fields)
        self.fields["team"] = team
        self.fields["team"].choices = _team_choices(teams)  # type: ignore[attr-defined]
        self.fields["team"].help_text = LeadForm._meta.get_field("team").help_text
        self.fields["slug"].required = False
        self.fields["slug"].help_text = _("Leave empty to make one from the name.")
        self.fields["thank_you_text"].widget.attrs["rows"] = 3
        style_widgets(self)


class AssignmentRuleForm(forms.Form):
    """One assignment rule."""

    user = forms.TypedChoiceField(label=_("person"), coerce=int, required=False, empty_value=None)
    team = forms.TypedChoiceField(label=_("team"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, people: list[User], teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = fields_for_model(
            AssignmentRule,
            fields=["name", "position", "is_active", "country", "industry", "size", "action"],
            formfield_callback=_formfield,
        )
        user, team = self.fields.pop("user"), self.fields.pop("team")
        self.fields.update(fields)
        self.fields["user"], self.fields["team"] = user, team
        self.fields["user"].choices = _person_choices(people, blank="—")  # type: ignore[attr-defined]
        self.fields["team"].choices = _team_choices(teams)  # type: ignore[attr-defined]
        self.fields["position"].required = False
        style_widgets(self)


class ScoringRuleForm(forms.Form):
    """One scoring rule: fit rules pick an industry, size or country; engagement ones a number."""

    industry = forms.ChoiceField(label=_("industry"), required=False)
    size = forms.ChoiceField(label=_("size"), required=False)
    country = forms.ChoiceField(label=_("country"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = fields_for_model(
            AssignmentRule, fields=["industry", "size", "country"], formfield_callback=_formfield
        )
        for name in ("industry", "size", "country"):
            self.fields[name].choices = choices[name].choices  # type: ignore[attr-defined]
        self.fields.update(
            fields_for_model(
                ScoringRule,
                fields=["kind", "threshold", "points", "is_active"],
                formfield_callback=_formfield,
            )
        )
        style_widgets(self)

    def rule_data(self) -> dict[str, Any]:
        """Values for ``save_scoring_rule``: the compared value comes from the kind's field."""
        data = {
            name: self.cleaned_data[name] for name in ("kind", "threshold", "points", "is_active")
        }
        data["value"] = self.cleaned_data.get(data["kind"], "") or ""
        return data


def scoring_initial(rule: ScoringRule) -> dict[str, Any]:
    """The edit form's starting values."""
    initial: dict[str, Any] = {
        "kind": rule.kind,
        "threshold": rule.threshold,
        "points": rule.points,
        "is_active": rule.is_active,
    }
    if rule.kind in {"industry", "size", "country"}:
        initial[rule.kind] = rule.value
    return initial
