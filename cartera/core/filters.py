"""Parse a list's filters from a query string into the one filter model the API also uses."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from django.http import QueryDict
from django.utils.translation import gettext as _
from pydantic import BaseModel, Field, ValidationError

from .errors import InvalidInput

F = TypeVar("F", bound=BaseModel)

#: A primary key as users may type it: positive and within a 64-bit column (SQLite binds no more).
PositiveId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def pydantic_field_errors(error: ValidationError) -> dict[str, list[str]]:
    """Per-field messages from a pydantic error, in the active language where we can."""
    messages: dict[str, list[str]] = {}
    for item in error.errors():
        field = (
            ".".join(str(part) for part in item["loc"] if not isinstance(part, int)) or "__all__"
        )
        kind = item["type"]
        if kind == "extra_forbidden":
            text = _("Unknown field.")
        elif kind in {"enum", "literal_error"}:
            text = _("Select a valid choice.")
        elif kind.startswith("int") or kind.startswith("float") or kind.startswith("decimal"):
            text = _("Enter a number.")
        elif kind.startswith("bool"):
            text = _("Enter true or false.")
        elif kind == "string_too_long":
            text = _("This value is too long (at most %(max)s characters).") % {
                "max": item.get("ctx", {}).get("max_length")
            }
        elif kind == "missing":
            text = _("This field is required.")
        else:
            text = str(item["msg"])
        messages.setdefault(field, []).append(text)
    return messages


def parse_filters(model: type[F], query: QueryDict, *, ignore: set[str] | None = None) -> F:
    """Build ``model`` from ``query``: repeated keys and comma lists become lists."""
    data: dict[str, Any] = {}
    skip = {"cursor", "limit", "page", *(ignore or set())}
    for key in query:
        if key in skip:
            continue
        values = [v for v in query.getlist(key) if v != ""]
        if not values:
            continue
        annotation = model.model_fields.get(key)
        if annotation is not None and "list" in str(annotation.annotation):
            data[key] = [part for value in values for part in value.split(",") if part]
        else:
            data[key] = values[-1]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(field_errors=pydantic_field_errors(exc)) from exc
