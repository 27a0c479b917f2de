"""Cheap display helpers (``cartera.core.display``) and the tags built on them.

Each helper replaces something the templates did per option or per row; these tests hold them
to exactly what Django's own filters and widgets render, in English and in Spanish.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django import forms
from django.template import Context, Template, engines
from django.template.loader import get_template
from django.urls import reverse, set_script_prefix
from django.utils import timezone, translation
from django_countries import countries
from phonenumber_field.phonenumber import to_python

from cartera.accounts.models import Account, AccountStatus, Industry
from cartera.accounts.templatetags.account_tags import account_table_rows, status_badge_html
from cartera.contacts.templatetags.contact_tags import contact_table_rows
from cartera.core.display import (
    DateFormatter,
    choice_labels,
    country_name,
    country_options,
    phone_display,
    pk_url,
    translated_choices,
)

LOOP = Template(
    '{% for value, label in choices %}<option value="{{ value }}"{% if value in selected %}'
    " selected{% endif %}>{{ label }}</option>{% endfor %}"
)


def squeeze(html: str) -> str:
    """HTML without the whitespace between tags (widget templates add newlines)."""
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("language", ["en", "es"])
def test_translated_choices_are_the_labels_in_the_active_language(language: str) -> None:
    with translation.override(language):
        assert translated_choices(Industry) == tuple(
            (str(value), str(label)) for value, label in Industry.choices
        )
        assert choice_labels(AccountStatus)["at_risk"] == str(AccountStatus.AT_RISK.label)
        assert country_options() == tuple((code, str(name)) for code, name in countries)
        assert country_name("ES") == str(countries.name("ES"))
    with translation.override("es"):
        assert choice_labels(AccountStatus)["at_risk"] == "En riesgo"
        assert country_name("DE") == "Alemania"
    with translation.override("en"):
        assert choice_labels(AccountStatus)["at_risk"] == "At risk"
        assert country_name("DE") == "Germany"
    assert country_name("") == ""
    assert country_name("ZZ") == ""


def test_options_tag_renders_what_the_template_loop_did() -> None:
    choices = (("a", "Tier A"), ("b", 'B & "quotes" <b>'), ("c", "C"))
    selected = ["b", "c"]
    tag = Template("{% options choices selected %}")
    for value in (choices, list(choices)):  # cached tuples and plain lists
        context = Context({"choices": value, "selected": selected})
        assert tag.render(context) == LOOP.render(context)
    # Numbers (owner ids) compare as text; one value works as well as a list.
    people = [(7, "Ana"), (12, "Luis")]
    assert Template("{% options people 12 %}").render(Context({"people": people})) == (
        '<option value="7">Ana</option><option value="12" selected>Luis</option>'
    )
    assert Template("{% options people %}").render(Context({"people": []})) == ""


def test_country_options_match_the_old_loop_in_spanish() -> None:
    with translation.override("es"):
        context = Context({"choices": list(countries), "selected": ["ES", "MX"]})
        cached = Context({"choices": country_options(), "selected": ["ES", "MX"]})
        assert Template("{% options choices selected %}").render(cached) == LOOP.render(context)


class PickForm(forms.Form):
    person = forms.TypedChoiceField(label="Person", coerce=int, required=False)
    role = forms.ChoiceField(label="Role", choices=[("", "---"), ("a", "A & B"), ("c", "C")])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        people = [("", "No one"), *((n, f"P{n}") for n in range(40))]
        self.fields["person"].choices = people
        self.fields["role"].widget.attrs["class"] = "form-select"


@pytest.mark.parametrize(
    "data", [None, {"person": "7", "role": "c"}, {"person": "nope", "role": "zzz"}]
)
def test_select_field_renders_what_the_widget_renders(data: dict[str, str] | None) -> None:
    form = PickForm(data)
    if data:
        form.is_valid()
    tag = Template("{% select_field form.person %}|{% select_field form.role %}")
    widget = Template("{{ form.person }}|{{ form.role }}")
    context = Context({"form": form})
    assert squeeze(tag.render(context)) == squeeze(widget.render(context))


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("zone", ["Europe/Madrid", "America/Mexico_City"])
def test_date_formatter_gives_what_the_date_filter_gives(language: str, zone: str) -> None:
    moments = [
        dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 0, 59, tzinfo=dt.UTC),
    ]
    template = engines["django"].from_string(
        "{{ m|date:'c' }}|{{ m|date:'SHORT_DATE_FORMAT' }}|{{ m|date:'SHORT_DATETIME_FORMAT' }}"
        "|{{ m|date:'DATETIME_FORMAT' }}"
    )
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        dates = DateFormatter()
        for moment in moments * 2:  # the second round is served from the caches
            expected = template.render({"m": moment})
            got = "|".join(
                [
                    dates.iso(moment),
                    dates.short_date(moment),
                    dates.short_datetime(moment),
                    dates.datetime(moment),
                ]
            )
            assert got == expected
        assert dates.iso(None) == dates.short_date(None) == dates.datetime(None) == ""


def test_cached_datetimes_follow_the_time_zone() -> None:
    moment = dt.datetime(2026, 5, 4, 22, 15, tzinfo=dt.UTC)
    with translation.override("en"):
        with timezone.override(zoneinfo.ZoneInfo("Europe/Madrid")):
            madrid = DateFormatter().datetime(moment)
        with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
            new_york = DateFormatter().datetime(moment)
    assert madrid != new_york
    assert "May 5" in madrid and "May 4" in new_york


@pytest.mark.parametrize("text", ["+34944000000", "+14155550123", "12345", ""])
def test_phone_display_is_what_the_phone_field_shows(text: str) -> None:
    number = to_python(text)
    if number:
        assert phone_display(text) == (number.as_e164, number.as_international)
    else:
        assert phone_display(text) == ("", "")


def test_pk_url_is_reverse() -> None:
    url = pk_url("accounts:detail")
    assert url(5) == reverse("accounts:detail", args=[5]) == "/accounts/5/"
    assert pk_url("activities:edit")(123) == reverse("activities:edit", args=[123])
    tag = Template("{{ pk|url_with_pk:'contacts:detail' }}|{% url 'contacts:detail' pk %}")
    first, second = tag.render(Context({"pk": 1234567})).split("|")
    assert first == second == "/contacts/1234567/"


def test_pk_url_follows_the_script_prefix() -> None:
    set_script_prefix("/crm/")
    try:
        assert pk_url("accounts:detail")(5) == reverse("accounts:detail", args=[5])
        assert pk_url("accounts:detail")(5) == "/crm/accounts/5/"
    finally:
        set_script_prefix("/")
    assert pk_url("accounts:detail")(5) == "/accounts/5/"


def test_status_badge_tag_matches_the_old_partial() -> None:
    old = Template(
        "<span class=\"badge {% if account.status == 'active' %}text-bg-success{% elif "
        "account.status == 'at_risk' %}text-bg-warning{% elif account.status == 'onboarding' %}"
        "text-bg-info{% elif account.status == 'churned' %}text-bg-dark{% else %}"
        'text-bg-secondary{% endif %}">{{ account.get_status_display }}</span>'
    )
    partial = get_template("accounts/partials/status_badge.html")
    with translation.override("es"):
        for status in AccountStatus.values:
            account = Account(status=status)
            assert status_badge_html(status) == old.render(Context({"account": account}))
            assert partial.render({"account": account}).strip() == status_badge_html(status)


def row(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "url": "/accounts/1/",
        "name": "Acme",
        "tags": [],
        "status_badge": status_badge_html("active"),
        "tier": "Tier A",
        "is_key_account": False,
        "owner": "Ana",
        "industry": "",
        "country": "España",
        "city": "Bilbao",
        "updated_iso": "2026-01-01T10:00:00+01:00",
        "updated": "01/01/2026",
        "created_iso": "2026-01-01T10:00:00+01:00",
        "created": "01/01/2026",
    }
    return {**base, **values}


def test_account_rows_are_escaped() -> None:
    html = account_table_rows(
        [row(name="<script>x</script>", tags=["a&b"], city='"Q"', is_key_account=True)]
    )
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "a&amp;b" in html and "&quot;Q&quot;" in html
    assert 'class="badge text-bg-success"' in html  # the badge is markup already
    assert "bi-star-fill" in html
    assert "bi-star-fill" not in account_table_rows([row()])
    assert account_table_rows([]) == ""


def test_contact_rows_are_escaped() -> None:
    contact = {
        "url": "/contacts/1/",
        "full_name": "Ana <b>",
        "do_not_contact": True,
        "account_name": "A&B",
        "account_url": "/accounts/2/",
        "more_accounts": 2,
        "job_title": "CEO",
        "email": "ana@example.com",
        "tel": "+34944000000",
        "phone": "+34 944 00 00 00",
        "buying_role": "Decisor",
        "preferred_channel": "Correo",
    }
    html = contact_table_rows([contact])
    assert "Ana &lt;b&gt;" in html and "A&amp;B" in html
    assert "+2</span>" in html and "text-bg-danger" in html
    assert 'href="tel:+34944000000"' in html and 'href="mailto:ana@example.com"' in html
    bare = contact_table_rows(
        [{**contact, "account_url": "", "email": "", "tel": "", "do_not_contact": False}]
    )
    assert "mailto:" not in bare and "tel:" not in bare and '<a href="/accounts' not in bare


def test_templates_are_compiled_once_per_process() -> None:
    # DEBUG is off in tests as in production: Django wraps the loaders in the cached loader.
    loaders = engines["django"].engine.template_loaders
    assert [type(loader).__module__ for loader in loaders] == ["django.template.loaders.cached"]
