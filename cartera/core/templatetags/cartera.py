"""Template filters and tags for money and cheap display (built in: no ``{% load %}``)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import format_currency
from django import template
from django.forms import BoundField
from django.utils import translation
from django.utils.safestring import mark_safe

from cartera.core.display import escape_text, pk_url

register = template.Library()

_BABEL_LOCALES = {"es": "es_ES", "en": "en_US"}


def babel_locale() -> str:
    """The Babel locale of the active language."""
    language = (translation.get_language() or "en").split("-")[0]
    return _BABEL_LOCALES.get(language, "en_US")


@register.filter
def money(amount: Decimal | int | float | None, currency: str = "EUR") -> str:
    """``44701`` with ``USD`` → ``$44,701.00`` in English, ``44.701,00 US$`` in Spanish."""
    if amount is None or amount == "":
        return ""
    return format_currency(Decimal(str(amount)), currency or "EUR", locale=babel_locale())


@lru_cache(maxsize=128)
def _option_parts(choices: tuple[tuple[Any, Any], ...]) -> tuple[tuple[str, str, str], ...]:
    """(value, escaped value, escaped label) of a cached, immutable choice tuple."""
    return tuple((str(v), escape_text(v), escape_text(label)) for v, label in choices)


@register.simple_tag
def options(choices: Iterable[tuple[Any, Any]], selected: Any = None) -> str:
    """``<option>``s of (value, label) pairs, the values in ``selected`` marked selected.

    The same markup as a ``{% for value, label in choices %}`` loop writing
    ``<option value="{{ value }}"{% if value in selected %} selected{% endif %}>{{ label }}``
    ``</option>`` (``selected``: a list or one value), built in Python: 250 countries are cheap.
    Tuples (the per-language lists of ``cartera.core.display``) are escaped once and cached.
    """
    if selected is None:
        chosen: set[str] = set()
    elif isinstance(selected, list | tuple | set | frozenset):
        chosen = {str(value) for value in selected}
    else:
        chosen = {str(selected)}
    if isinstance(choices, tuple):
        parts = _option_parts(choices)
    else:
        parts = tuple((str(v), escape_text(v), escape_text(label)) for v, label in choices)
    return mark_safe(  # noqa: S308 (values and labels are escaped above)
        "".join(
            f'<option value="{value_html}"{" selected" if value in chosen else ""}>{label}</option>'
            for value, value_html, label in parts
        )
    )


@register.simple_tag
def select_field(field: BoundField) -> str:
    """A form's single ``<select>`` with its options built in Python, not by widget templates.

    Renders what ``{{ field }}`` renders for a ``Select`` (name, id, the widget's attributes, the
    bound value selected) without one template render per option; for choice lists of hundreds.
    """
    widget = field.field.widget
    attrs = field.build_widget_attrs(dict(widget.attrs))
    if field.auto_id and "id" not in attrs:
        attrs["id"] = field.auto_id
    value = field.value()
    selected = "" if value is None else value
    # In order, booleans bare, as Django's ``attrs.html`` writes them (``flatatt`` moves them).
    html_attrs = "".join(
        f" {name}" if value is True else f' {name}="{escape_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )
    return mark_safe(  # noqa: S308 (the name, attributes and options are escaped)
        f'<select name="{escape_text(field.html_name)}"{html_attrs}>'
        f"{options(field.field.choices, selected)}</select>"  # type: ignore[attr-defined]
    )


@register.filter
def url_with_pk(pk: Any, viewname: str) -> str:
    """``{{ account.pk|url_with_pk:"accounts:detail" }}`` = ``{% url "accounts:detail" pk %}``.

    For links in loops: the route is resolved once per process, not once per row.
    """
    return pk_url(viewname)(pk)
