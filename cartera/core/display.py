"""Display values computed once per language and process, and cheap per-row formatting.

Choice labels and country names are lazy translations: resolving one costs a ``gettext`` call,
and a filter bar that lists every country, industry and size resolves hundreds of them on every
request. These helpers translate a choice list once per language (the result is immutable) and
hand the pages plain strings; the templates then render options with ``{% options %}``
(``cartera.core.templatetags.cartera``) instead of a template loop.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from django.db.models import Choices
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import dateformat, formats, timezone, translation
from django.utils.safestring import SafeData
from django_countries import countries
from phonenumber_field.phonenumber import to_python

#: (value, label) pairs, labels already translated into one language.
Options = tuple[tuple[str, str], ...]


def escape_text(text: Any) -> str:
    """``conditional_escape`` for rows built in Python, without its lazy-string wrapper."""
    return str(text) if isinstance(text, SafeData) else html.escape(str(text))


def _language() -> str:
    return translation.get_language() or "en"


@lru_cache(maxsize=256)
def _translated_choices(choices: type[Choices], language: str) -> Options:
    with translation.override(language):
        return tuple((str(value), str(label)) for value, label in choices.choices)


def translated_choices(choices: type[Choices]) -> Options:
    """``choices.choices`` with the labels translated into the active language (cached)."""
    return _translated_choices(choices, _language())


@lru_cache(maxsize=256)
def _choice_labels(choices: type[Choices], language: str) -> dict[str, str]:
    return dict(_translated_choices(choices, language))


def choice_labels(choices: type[Choices]) -> dict[str, str]:
    """Value → translated label of ``choices`` in the active language (cached; do not mutate)."""
    return _choice_labels(choices, _language())


@lru_cache(maxsize=16)
def _country_options(language: str) -> Options:
    with translation.override(language):
        return tuple((str(code), str(name)) for code, name in countries)


def country_options() -> Options:
    """Every country as (code, name), sorted by name in the active language (cached)."""
    return _country_options(_language())


@lru_cache(maxsize=16)
def _country_names(language: str) -> dict[str, str]:
    return dict(_country_options(language))


def country_name(code: Any) -> str:
    """The name of a country code (or ``Country``) in the active language; ``""`` for none."""
    code = str(getattr(code, "code", code) or "")
    if not code:
        return ""
    return _country_names(_language()).get(code, "")


@lru_cache(maxsize=256)
def _url_around_pk(viewname: str, prefix: str, urlconf: str | None) -> tuple[str, str]:
    sentinel = "987654321987654321"
    before, after = reverse(viewname, args=[sentinel], urlconf=urlconf).rsplit(sentinel, 1)
    return before, after


def pk_url(viewname: str) -> Callable[[Any], str]:
    """``reverse(viewname, args=[pk])`` for many pks: the route is resolved once per process."""
    before, after = _url_around_pk(viewname, get_script_prefix(), get_urlconf())
    return lambda pk: f"{before}{pk}{after}"


@lru_cache(maxsize=20_000)
def phone_display(text: str) -> tuple[str, str]:
    """(E.164 for ``tel:`` links, the international form people read) of a stored number.

    What ``PhoneNumberField`` gives as ``as_e164`` / ``as_international``, parsed once per
    process and number (parsing costs ~0.1 ms; lists select the stored text instead).
    """
    number = to_python(text)
    if not number:
        return "", ""
    return number.as_e164, number.as_international


def user_options(people: Iterable[Any]) -> list[tuple[Any, str]]:
    """(pk, name) pairs for a select of people."""
    return [(person.pk, str(person)) for person in people]


@lru_cache(maxsize=4096)
def _format_date(day: dt.date, fmt: str, language: str) -> str:
    """A date in a date-only format; month names are in ``language`` (the active one)."""
    return dateformat.format(day, fmt)


@lru_cache(maxsize=8192)
def _format_datetime(moment: dt.datetime, fmt: str, language: str, zone: str) -> str:
    """A datetime, local to ``zone``, in a format; words ("p.m.", months) in ``language``.

    ``language`` and ``zone`` are the active ones; they are part of the key because aware
    datetimes of the same instant are equal whatever their zone.

    Formats such as ``DATETIME_FORMAT`` ("N j, Y, P") translate several words each time; the
    same entries are shown again and again (a timeline's first page), so results are kept.
    """
    return dateformat.format(moment, fmt)


class DateFormatter:
    """Formats many datetimes for one request: the locale formats are looked up once.

    ``iso``, ``short_date``, ``short_datetime`` and ``datetime`` give what ``|date:'c'``,
    ``|date:"SHORT_DATE_FORMAT"``, ``|date:"SHORT_DATETIME_FORMAT"`` and
    ``|date:"DATETIME_FORMAT"`` give, in the current time zone and language.
    """

    def __init__(self) -> None:
        self.short_date_format = formats.get_format("SHORT_DATE_FORMAT")
        self.short_datetime_format = formats.get_format("SHORT_DATETIME_FORMAT")
        self.datetime_format = formats.get_format("DATETIME_FORMAT")
        self.zone = timezone.get_current_timezone()
        self.language = _language()
        self.zone_key = str(self.zone)

    def local(self, value: dt.datetime) -> dt.datetime:
        if timezone.is_aware(value):
            return timezone.localtime(value, self.zone)
        return value

    def iso(self, value: dt.datetime | None) -> str:
        return self.local(value).isoformat() if value else ""

    def short_date(self, value: dt.datetime | None) -> str:
        if not value:
            return ""
        return _format_date(self.local(value).date(), self.short_date_format, self.language)

    def day(self, value: dt.date | None) -> str:
        """``|date:"SHORT_DATE_FORMAT"`` of a date (no time zone involved)."""
        if not value:
            return ""
        return _format_date(value, self.short_date_format, self.language)

    def short_datetime(self, value: dt.datetime | None) -> str:
        if not value:
            return ""
        return _format_datetime(
            self.local(value), self.short_datetime_format, self.language, self.zone_key
        )

    def datetime(self, value: dt.datetime | None) -> str:
        if not value:
            return ""
        return _format_datetime(
            self.local(value), self.datetime_format, self.language, self.zone_key
        )
