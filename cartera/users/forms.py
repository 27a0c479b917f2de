"""Forms of the users pages: they parse input; the services decide and save."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.template import loader
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cartera.core.tasks import send_email

from .models import Role, Team, User


class BootstrapFormMixin:
    """Give every widget Bootstrap's classes, and mark invalid fields for screen and reader."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            elif isinstance(widget, forms.HiddenInput | forms.MultipleHiddenInput):
                continue
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field: str | None, error: Any) -> None:
        """Record the error, then flag the failing fields (``is-invalid``, ``aria-invalid``)."""
        super().add_error(field, error)  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            target = self.fields.get(name)  # type: ignore[attr-defined]
            if target is not None and "is-invalid" not in target.widget.attrs.get("class", ""):
                target.widget.attrs["class"] = f"{target.widget.attrs.get('class', '')} is-invalid"
                target.widget.attrs["aria-invalid"] = "true"


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone, sorted, after the server default."""
    zones = sorted(zoneinfo.available_timezones())
    return [("", _("Server default (%(zone)s)") % {"zone": settings.TIME_ZONE})] + [
        (zone, zone.replace("_", " ")) for zone in zones
    ]


def language_choices() -> list[tuple[str, Any]]:
    """The interface languages, after "as the browser says"."""
    return [("", _("As my browser says")), *settings.LANGUAGES]


class ProfileForm(BootstrapFormMixin, forms.Form):
    """One's own name, language and time zone."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    language = forms.ChoiceField(label=_("Language"), required=False, choices=language_choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, choices=time_zone_choices)


class ApiTokenForm(BootstrapFormMixin, forms.Form):
    """A new API token: a name to recognise it by and an optional last day of use."""

    name = forms.CharField(label=_("Name"), max_length=100)
    expires_on = forms.DateField(
        label=_("Expires on (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The token works until the end of this day."),
    )

    def expires_at(self) -> dt.datetime | None:
        """The end of the chosen day in the user's time zone (the token's expiry)."""
        day: dt.date | None = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
        return timezone.make_aware(midnight)


class UserForm(BootstrapFormMixin, forms.Form):
    """A person, as an administrator sets them up."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("Email"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.SALES_REP)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("No team")
    )
    language = forms.ChoiceField(label=_("Language"), required=False, choices=language_choices)
    is_active = forms.BooleanField(label=_("Active (may sign in)"), required=False, initial=True)

    def __init__(self, *args: Any, teams: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]


class NewUserForm(UserForm):
    """A new person, with the password they will first sign in with."""

    password = forms.CharField(
        label=_("Initial password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Share it privately; they can reset it by email."),
    )


class TeamForm(BootstrapFormMixin, forms.Form):
    """A team and its manager."""

    name = forms.CharField(label=_("Name"), max_length=120)
    manager = forms.ModelChoiceField(
        label=_("Manager"), queryset=User.objects.none(), required=False, empty_label=_("None")
    )
    office = forms.CharField(label=_("Office"), max_length=120, required=False)

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = people  # type: ignore[attr-defined]


class QueuedPasswordResetForm(BootstrapFormMixin, PasswordResetForm):
    """Password reset whose email goes out through the background queue, in the user's language."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        """Render the message now (the request knows the site) and queue its sending."""
        user = context.get("user")
        language = getattr(user, "language", "") or translation.get_language()
        with translation.override(language):
            subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
            body = loader.render_to_string(email_template_name, context)
            html_body = (
                loader.render_to_string(html_email_template_name, context)
                if html_email_template_name
                else None
            )
        send_email.enqueue(
            subject=subject, body=body, to=[to_email], html_body=html_body, from_email=from_email
        )


class SignInForm(BootstrapFormMixin, AuthenticationForm):
    """Email and password."""


class NewPasswordForm(BootstrapFormMixin, SetPasswordForm):
    """The new password chosen from a reset link."""
