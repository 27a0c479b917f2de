"""Forms of the import pages: they parse what the person chose; the services decide and save."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from cartera.accounts.forms import style_widgets
from cartera.users.models import User

from .models import ImportKind

#: File name endings the upload form accepts (the content is checked again when it is read).
ACCEPTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
#: The value of a column's select that leaves the column out.
SKIP = ""


class UploadForm(forms.Form):
    """Step 1: what the rows are, and the file."""

    kind = forms.ChoiceField(
        label=_("The file holds"), choices=ImportKind.choices, widget=forms.RadioSelect
    )
    file = forms.FileField(label=_("File"), allow_empty_file=True)
    encoding = forms.ChoiceField(
        label=_("Encoding"),
        required=False,
        choices=[
            ("", _("Detect it")),
            ("utf-8", "UTF-8"),
            ("cp1252", "Windows-1252"),
            ("latin-1", "ISO-8859-1 (Latin-1)"),
            ("utf-16", "UTF-16"),
        ],
        help_text=_("Only for CSV files whose accents come out wrong."),
    )
    delimiter = forms.ChoiceField(
        label=_("Delimiter"),
        required=False,
        choices=[
            ("", _("Detect it")),
            (",", _("comma (,)")),
            (";", _("semicolon (;)")),
            ("\t", _("tab")),
            ("|", _("vertical bar (|)")),
        ],
    )
    sheet = forms.CharField(
        label=_("Sheet"),
        required=False,
        max_length=100,
        help_text=_("For workbooks with several sheets (default: the first one)."),
    )

    def __init__(
        self,
        *args: Any,
        max_bytes: int,
        kinds: Sequence[tuple[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        if kinds is not None:  # the kinds this person may import
            self.fields["kind"].choices = list(kinds)  # type: ignore[attr-defined]
        self.fields["file"].help_text = _(
            "CSV (any delimiter and encoding) or Excel .xlsx, up to %(size)s. "
            "The first row must hold the column names."
        ) % {"size": filesizeformat(max_bytes)}
        self.fields["file"].widget.attrs["accept"] = ",".join([*ACCEPTED_SUFFIXES, "text/csv"])
        self.restyle()

    def restyle(self) -> None:
        """Bootstrap classes on the widgets, fields with errors marked invalid."""
        style_widgets(self)
        # Radio buttons get their classes in the template.
        self.fields["kind"].widget.attrs.pop("class", None)

    @property
    def reading_options_used(self) -> bool:
        """Whether the person set (or got wrong) a reading option: show them open."""
        names = ("encoding", "delimiter", "sheet")
        if not self.is_bound:
            return False
        return any(self.data.get(name) for name in names) or any(
            name in self.errors for name in names
        )

    def clean_file(self) -> UploadedFile:
        """A .csv/.xlsx name within the size limit (the content is judged when it is read)."""
        upload: UploadedFile = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith(ACCEPTED_SUFFIXES):
            raise forms.ValidationError(
                _("Upload a .csv or .xlsx file (for .xls, save the sheet as .xlsx first).")
            )
        if upload.size is not None and upload.size > self.max_bytes:
            raise forms.ValidationError(
                _("The file is too large: at most %(size)s.")
                % {"size": filesizeformat(self.max_bytes)}
            )
        return upload


class MappingForm(forms.Form):
    """Step 2: a target field for each column, the keys that find existing records, a name."""

    save_as = forms.CharField(
        label=_("Save this mapping as"),
        required=False,
        max_length=100,
        help_text=_(
            "Give it a name to reuse it: files with the same columns get it automatically."
        ),
    )

    def __init__(
        self,
        *args: Any,
        headers: Sequence[str],
        fields: Sequence[tuple[str, str]],
        match_keys: Sequence[tuple[str, str]],
        mapping: dict[str, str],
        match_order: Sequence[str],
        owners: Sequence[User] | None = None,
        owner: User | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.headers = list(headers)
        self.match_keys = list(match_keys)
        self.owners = {person.pk: person for person in owners or []}
        if owners is not None:
            self.fields["owner"] = forms.TypedChoiceField(
                label=_("Owner of new accounts"),
                choices=[(person.pk, str(person)) for person in owners],
                coerce=int,
                initial=owner.pk if owner else None,
                help_text=_("Rows with an owner column keep theirs."),
            )
        field_choices = [(SKIP, _("— Do not import —")), *fields]
        for index, header in enumerate(self.headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header,
                choices=field_choices,
                required=False,
                initial=mapping.get(header, SKIP),
            )
        key_choices = [(SKIP, _("— None —")), *match_keys]
        for position in range(len(self.match_keys)):
            self.fields[f"match_{position}"] = forms.ChoiceField(
                label=_("Key %(number)s") % {"number": position + 1},
                choices=key_choices,
                required=False,
                initial=match_order[position] if position < len(match_order) else SKIP,
            )
        style_widgets(self)
        for index in range(len(self.headers)):
            self.fields[f"column_{index}"].widget.attrs["class"] += " form-select-sm"

    def column_fields(self) -> list[tuple[str, forms.BoundField]]:
        """Each header with its select, in the file's order."""
        return [(header, self[f"column_{index}"]) for index, header in enumerate(self.headers)]

    def match_fields(self) -> list[forms.BoundField]:
        """The match-key selects, first key first."""
        return [self[f"match_{position}"] for position in range(len(self.match_keys))]

    def clean(self) -> dict[str, Any]:
        """The same key twice in the match order is a mistake worth saying."""
        cleaned = super().clean() or {}
        seen: set[str] = set()
        for position in range(len(self.match_keys)):
            key = cleaned.get(f"match_{position}") or SKIP
            if key and key in seen:
                self.add_error(f"match_{position}", _("This key is already used above."))
            seen.add(key)
        return cleaned

    def mapping(self) -> dict[str, str]:
        """Header → field for every column that is imported."""
        result: dict[str, str] = {}
        for index, header in enumerate(self.headers):
            target = self.cleaned_data.get(f"column_{index}") or SKIP
            if target:
                result[header] = target
        return result

    def chosen_owner(self) -> User | None:
        """The person chosen to own the new accounts (``None`` when the form has no choice)."""
        pk = self.cleaned_data.get("owner")
        return self.owners.get(pk) if pk is not None else None

    def match_order(self) -> list[str]:
        """The chosen keys in order, without gaps."""
        order: list[str] = []
        for position in range(len(self.match_keys)):
            key = self.cleaned_data.get(f"match_{position}") or SKIP
            if key and key not in order:
                order.append(key)
        return order
