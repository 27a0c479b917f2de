"""The options of the pipeline kinds on the mapping page: currency, pipeline, stage mapping,
email domain. They parse what the person chose; ``services.set_mapping`` checks and keeps it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cartera.users.models import Role, User

from .models import ImportJob, ImportKind

#: Option fields of each kind, in the order shown.
_FIELDS: dict[str, tuple[str, ...]] = {
    ImportKind.USERS: ("email_domain",),
    ImportKind.PRODUCTS: ("currency",),
    ImportKind.OPPORTUNITIES: ("currency", "pipeline", "stage_map", "add_stages"),
}


def add_option_fields(form: forms.Form, job: ImportJob, user: User) -> None:
    """Add the kind's option fields to the mapping form, filled from the job."""
    names = _FIELDS.get(job.kind, ())
    options = job.options or {}
    defaults = options.get("defaults") or {}
    configure = user.is_admin or user.role == Role.DIRECTOR
    for name in names:
        field: forms.Field
        if name == "currency":
            field = forms.CharField(
                label=_("Currency"),
                max_length=3,
                required=False,
                initial=defaults.get("currency") or settings.CARTERA_CURRENCY,
                help_text=_("For rows without a currency column or sign (e.g. USD)."),
            )
        elif name == "email_domain":
            field = forms.CharField(
                label=_("Email domain"),
                max_length=200,
                required=False,
                initial=defaults.get("email_domain", ""),
                help_text=_(
                    "People without an email get firstname.lastname@ this domain (default: "
                    "imported.invalid) and no password until they reset it."
                ),
            )
        elif name == "pipeline":
            field = forms.CharField(
                label=_("Pipeline"),
                max_length=120,
                required=False,
                initial=defaults.get("pipeline", ""),
                help_text=_(
                    "Empty: the default pipeline. A name that does not exist yet creates that "
                    "pipeline with the file's stages (administrators and directors)."
                ),
            )
        elif name == "stage_map":
            stage_map = options.get("stage_map") or {}
            field = forms.CharField(
                label=_("Stages of the file → stages of the pipeline"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                initial="\n".join(f"{key}={value}" for key, value in stage_map.items()),
                help_text=_("One per line, e.g. Engaging=Qualification."),
            )
        elif configure:
            field = forms.BooleanField(
                label=_("Add the stages the pipeline lacks"),
                required=False,
                initial=bool(options.get("add_stages")),
            )
        else:
            continue
        form.fields[f"option_{name}"] = field
        if not isinstance(field, forms.BooleanField):
            field.widget.attrs["class"] = "form-control"
        else:
            field.widget.attrs["class"] = "form-check-input"
    if form.is_bound:
        # The form styled its widgets (and so validated itself) in its constructor: validate
        # again with the option fields.
        form._errors = None  # type: ignore[attr-defined]


def option_fields(form: forms.Form) -> list[forms.BoundField]:
    """The option fields of the form, for the template."""
    return [form[name] for name in form.fields if name.startswith("option_")]


def chosen_defaults(form: forms.Form, job: ImportJob) -> dict[str, str] | None:
    """The values the form gives for fields the file leaves empty (``None``: no such options)."""
    names = [
        name
        for name in ("currency", "email_domain", "pipeline")
        if name in _FIELDS.get(job.kind, ())
    ]
    if not names:
        return None
    defaults = dict((job.options or {}).get("defaults") or {})
    for name in names:
        value = str(form.cleaned_data.get(f"option_{name}") or "").strip()
        if value:
            defaults[name] = value.upper() if name == "currency" else value
        else:
            defaults.pop(name, None)
    return defaults


def chosen_options(form: forms.Form, job: ImportJob) -> dict[str, Any] | None:
    """The kind's own options (opportunities: stage map, add stages)."""
    if job.kind != ImportKind.OPPORTUNITIES:
        return None
    stage_map: dict[str, str] = {}
    errors: list[str] = []
    for line in str(form.cleaned_data.get("option_stage_map") or "").splitlines():
        if not line.strip():
            continue
        source, separator, target = line.partition("=")
        if not separator or not source.strip() or not target.strip():
            errors.append(
                str(_("Write each line as file stage=pipeline stage: %(line)s"))
                % {"line": line.strip()}
            )
            continue
        stage_map[source.strip()] = target.strip()
    if errors:
        for error in errors:
            form.add_error("option_stage_map", error)
        return None
    return {"stage_map": stage_map, "add_stages": bool(form.cleaned_data.get("option_add_stages"))}
