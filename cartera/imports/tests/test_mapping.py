"""The header dictionary and the cell converters."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.utils import translation

from cartera.imports import mapping as mp
from cartera.imports.mapping import ConversionError, auto_mapping, header_key

HUBSPOT_COMPANIES = [
    "Record ID", "Company name", "Company Domain Name", "Company owner", "Phone Number",
    "Street Address", "City", "State/Region", "Postal Code", "Country/Region",
    "Number of Employees", "Annual Revenue", "Industry", "Lifecycle Stage", "Description",
    "Create Date", "Time Zone",
]  # fmt: skip
SALESFORCE_ACCOUNTS = [
    "Account ID", "Account Name", "Parent Account", "Account Owner", "Type", "Industry",
    "Annual Revenue", "Employees", "Billing Street", "Billing City", "Billing State/Province",
    "Billing Zip/Postal Code", "Billing Country", "Phone", "Fax", "Website", "Rating",
    "Account Number", "Description",
]  # fmt: skip
SPANISH_ACCOUNTS = [
    "Nombre comercial", "Razón social", "NIF/CIF", "Correo electrónico", "Teléfono", "Móvil",
    "Dirección", "Código postal", "Población", "Provincia", "País", "Sector", "Web",
    "Comercial", "Observaciones",
]  # fmt: skip


def test_fast_normalize_gives_what_normalize_gives() -> None:
    import sys

    from cartera.core.text import normalize

    samples = ["  Muñoz  PÉREZ ", "Ærøskøbing", "ﬁancé", "Straße", "İstanbul", "Ⅻ", "\u00a0x\ty"]
    samples += ["".join(chr(c) for c in range(start, min(start + 64, sys.maxunicode)))
                for start in range(0, 0x30000, 64)]  # fmt: skip
    for sample in samples:
        assert mp.fast_normalize(sample) == normalize(sample), repr(sample)


def test_header_keys_ignore_accents_case_spaces_punctuation_and_camel_case() -> None:
    assert header_key("Código Postal") == "codigopostal"
    assert header_key("codigo_postal") == "codigopostal"
    assert header_key("CodigoPostal") == "codigopostal"
    assert header_key("  E-MAIL ") == "email"
    assert header_key("CustomerID") == "customerid"
    assert header_key("NIF/CIF") == "nifcif"


def test_hubspot_company_export() -> None:
    assert auto_mapping("accounts", HUBSPOT_COMPANIES) == {
        "Record ID": "external_id",
        "Company name": "name",
        "Company Domain Name": "website",
        "Company owner": "owner",
        "Phone Number": "phone",
        "Street Address": "street",
        "City": "city",
        "State/Region": "region",
        "Postal Code": "postal_code",
        "Country/Region": "country",
        "Number of Employees": "size",
        "Annual Revenue": "annual_revenue",
        "Industry": "industry",
        "Lifecycle Stage": "status",
        "Description": "description",
    }


def test_salesforce_account_export() -> None:
    mapping = auto_mapping("accounts", SALESFORCE_ACCOUNTS)

    assert mapping == {
        "Account ID": "external_id",
        "Account Name": "name",
        "Parent Account": "parent",
        "Account Owner": "owner",
        "Type": "status",
        "Industry": "industry",
        "Annual Revenue": "annual_revenue",
        "Employees": "size",
        "Billing Street": "street",
        "Billing City": "city",
        "Billing State/Province": "region",
        "Billing Zip/Postal Code": "postal_code",
        "Billing Country": "country",
        "Phone": "phone",
        "Website": "website",
        "Rating": "tier",
        "Description": "description",
    }
    assert "Fax" not in mapping and "Account Number" not in mapping


def test_spanish_spreadsheet_of_accounts() -> None:
    assert auto_mapping("accounts", SPANISH_ACCOUNTS) == {
        "Nombre comercial": "name",
        "Razón social": "legal_name",
        "NIF/CIF": "tax_id",
        "Correo electrónico": "email",
        "Teléfono": "phone",
        "Móvil": "contact_mobile",
        "Dirección": "street",
        "Código postal": "postal_code",
        "Población": "city",
        "Provincia": "region",
        "País": "country",
        "Sector": "industry",
        "Web": "website",
        "Comercial": "owner",
        "Observaciones": "description",
    }


def test_razon_social_alone_is_the_name() -> None:
    mapping = auto_mapping("accounts", ["Razón social", "CIF", "Empresa matriz"])

    assert mapping == {"Razón social": "name", "CIF": "tax_id", "Empresa matriz": "parent"}


def test_the_public_data_sets() -> None:
    northwind = ["CustomerID", "CompanyName", "ContactName", "ContactTitle", "Address", "City",
                 "Region", "PostalCode", "Country", "Phone", "Fax"]  # fmt: skip
    maven = ["account", "sector", "year_established", "revenue", "employees", "office_location",
             "subsidiary_of"]  # fmt: skip

    assert auto_mapping("accounts", northwind) == {
        "CustomerID": "external_id",
        "CompanyName": "name",
        "ContactName": "contact_name",
        "ContactTitle": "contact_title",
        "Address": "street",
        "City": "city",
        "Region": "region",
        "PostalCode": "postal_code",
        "Country": "country",
        "Phone": "phone",
    }
    assert auto_mapping("accounts", maven) == {
        "account": "name",
        "sector": "industry",
        "revenue": "annual_revenue",
        "employees": "size",
        "office_location": "country",
        "subsidiary_of": "parent",
    }


def test_contact_exports() -> None:
    hubspot = ["Record ID", "First Name", "Last Name", "Email", "Phone Number",
               "Mobile Phone Number", "Job Title", "Associated Company",
               "Contact owner"]  # fmt: skip
    salesforce = ["Contact ID", "Salutation", "First Name", "Last Name", "Title", "Email",
                  "Phone", "Mobile", "Account Name", "Email Opt Out"]  # fmt: skip
    spanish = ["Nombre", "Apellidos", "Cargo", "Empresa", "Correo electrónico", "Teléfono",
               "Móvil", "Idioma"]  # fmt: skip

    assert auto_mapping("contacts", hubspot) == {
        "Record ID": "external_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": "mobile",
        "Job Title": "job_title",
        "Associated Company": "account",
    }
    assert auto_mapping("contacts", salesforce) == {
        "Contact ID": "external_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Title": "job_title",
        "Email": "email",
        "Phone": "phone",
        "Mobile": "mobile",
        "Account Name": "account",
        "Email Opt Out": "do_not_contact",
    }
    assert auto_mapping("contacts", spanish) == {
        "Nombre": "first_name",
        "Apellidos": "last_name",
        "Cargo": "job_title",
        "Empresa": "account",
        "Correo electrónico": "email",
        "Teléfono": "phone",
        "Móvil": "mobile",
        "Idioma": "language",
    }


def test_interaction_exports() -> None:
    headers = ["Activity ID", "Activity Type", "Subject", "Activity Date", "Company Name",
               "Contact email", "Notes", "Duration", "Assigned To"]  # fmt: skip

    assert auto_mapping("interactions", headers) == {
        "Activity ID": "external_id",
        "Activity Type": "kind",
        "Subject": "subject",
        "Activity Date": "occurred_at",
        "Company Name": "account",
        "Contact email": "contact",
        "Notes": "body",
        "Duration": "duration_minutes",
        "Assigned To": "author",
    }


def test_each_field_is_mapped_at_most_once() -> None:
    mapping = auto_mapping("accounts", ["Phone", "Teléfono", "Email", "E-mail", "Name"])

    assert sorted(mapping.values()) == ["email", "name", "phone"]
    assert mapping["Phone"] == "phone" and mapping["Email"] == "email"


def test_missing_required_fields() -> None:
    assert mp.missing_required("accounts", ["city"]) == ["Map a column to the account's name."]
    assert mp.missing_required("accounts", ["name"]) == []
    assert mp.missing_required("contacts", ["email"]) == []
    assert len(mp.missing_required("contacts", ["phone"])) == 2
    assert len(mp.missing_required("interactions", ["body"])) == 2


@pytest.mark.parametrize(
    ("text", "code"),
    [("Germany", "DE"), ("Alemania", "DE"), ("UK", "GB"), ("USA", "US"), ("United States", "US"),
     ("España", "ES"), ("espana", "ES"), ("ES", "ES"), ("esp", "ES"), ("EE.UU.", "US"),
     ("Reino Unido", "GB"), ("México", "MX"), ("Korea", "KR"), ("Philipines", "PH"),
     ("  france ", "FR"), ("Países Bajos", "NL")],
)  # fmt: skip
def test_countries_in_english_spanish_and_codes(text: str, code: str) -> None:
    assert mp.to_country(text) == code


def test_unknown_country() -> None:
    with pytest.raises(ConversionError, match="Unknown country"):
        mp.to_country("Atlantis")


@pytest.mark.parametrize(
    ("text", "industry"),
    [("technolgy", "technology"), ("medical", "healthcare"), ("marketing", "agency"),
     ("telecommunications", "telecom"), ("entertainment", "media"), ("employment", "services"),
     ("Software", "software"), ("Banca", "finance"), ("Logística", "logistics"),
     ("Computer Software", "software"), ("Aerospace", "other"), ("retail", "retail")],
)  # fmt: skip
def test_industries(text: str, industry: str) -> None:
    assert mp.to_industry(text) == industry


@pytest.mark.parametrize(
    ("text", "band"),
    [("9", "1-10"), ("2822", "1001-5000"), ("10083", "5000+"), ("51-200", "51-200"),
     ("11 to 50", "11-50"), ("5000+", "5000+"), ("1.200", "1001-5000"), ("5k", "1001-5000"),
     ("200", "51-200"), ("201", "201-1000")],
)  # fmt: skip
def test_employee_counts_become_bands(text: str, band: str) -> None:
    assert mp.to_size(text) == band


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [("1100.04", "1100.04", ""), ("1.234.567,89", "1234567.89", ""),
     ("1,234,567.89", "1234567.89", ""), ("1234,5", "1234.50", ""), ("1,234", "1234.00", ""),
     ("€ 2.500", "2500.00", "EUR"), ("$1.2M", "1200000.00", "USD"), ("3 M€", "3000000.00", "EUR"),
     ("250k", "250000.00", ""), ("USD 10", "10.00", "USD"), ("-5", "-5.00", ""),
     ("1 000 000", "1000000.00", ""), ("0.125", "0.13", "")],
)  # fmt: skip
def test_money_in_either_locale(text: str, amount: str, currency: str) -> None:
    assert mp.to_money(text) == (Decimal(amount), currency)


def test_money_in_millions_and_bad_amounts() -> None:
    assert mp.to_money("1100.04", 10**6) == (Decimal("1100040000.00"), "")
    for bad in ("lots", "12 apples", "9" * 20):
        with pytest.raises(ConversionError):
            mp.to_money(bad)


def test_phones_use_the_rows_country() -> None:
    number, valid = mp.to_phone("030 0074321", "DE")
    assert valid and mp.phone_db_value(number) == "+49300074321"
    number, valid = mp.to_phone("912 345 678", "ES")
    assert valid and mp.phone_db_value(number) == "+34912345678"
    number, valid = mp.to_phone("+1 (650) 253-0000", "ES")
    assert valid and mp.phone_db_value(number) == "+16502530000"


def test_phone_like_text_that_is_not_a_number_there_is_kept_as_written() -> None:
    number, valid = mp.to_phone("88.60.15.31", "FR")
    assert not valid and mp.phone_db_value(number) == "88.60.15.31"
    with pytest.raises(ConversionError):
        mp.to_phone("call me maybe", "ES")
    with pytest.raises(ConversionError):
        mp.to_phone("=1+2", "ES")


def test_emails_and_websites() -> None:
    assert mp.to_email(" Ana.Perez@ACME.es ", 254) == "Ana.Perez@acme.es"
    assert mp.to_email("mailto:x@y.com", 254) == "x@y.com"
    assert mp.to_url("acme.com", 300) == "https://acme.com"
    assert mp.to_url("http://www.acme.co.uk/es?x=1", 300) == "http://www.acme.co.uk/es?x=1"
    for bad in ("not an email", "a@", "@b.com"):
        with pytest.raises(ConversionError, match="email"):
            mp.to_email(bad, 254)
    for bad in ("not a site", "javascript:alert(1)", "http://-bad-.com", "ftp://x.com"):
        with pytest.raises(ConversionError, match="website"):
            mp.to_url(bad, 300)


@pytest.mark.parametrize(
    ("text", "value"),
    [("sí", True), ("Si", True), ("yes", True), ("TRUE", True), ("1", True), ("x", True),
     ("no", False), ("false", False), ("0", False), ("N", False)],
)  # fmt: skip
def test_booleans(text: str, value: bool) -> None:
    assert mp.to_bool(text) is value


def test_choices_by_value_label_language_and_synonym() -> None:
    from cartera.accounts.models import AccountStatus, Tier
    from cartera.activities.models import InteractionKind

    assert mp.to_choice("Customer", AccountStatus) == "active"
    assert mp.to_choice("Customer - Direct", AccountStatus) == "active"
    assert mp.to_choice("Cliente", AccountStatus) == "active"
    assert mp.to_choice("En riesgo", AccountStatus) == "at_risk"
    assert mp.to_choice("lead", AccountStatus) == "prospect"
    assert mp.to_choice("Hot", Tier) == "a"
    assert mp.to_choice("Tier B", Tier) == "b"
    assert mp.to_choice("Llamada", InteractionKind) == "call"
    assert mp.to_choice("Reunión", InteractionKind) == "meeting"
    with pytest.raises(ConversionError, match="Unknown value"):
        mp.to_choice("purple", AccountStatus)


def test_dates_day_first_or_month_first_in_the_persons_zone() -> None:
    madrid = zoneinfo.ZoneInfo("Europe/Madrid")

    assert mp.to_datetime("31/12/2024 10:30", tz=madrid) == dt.datetime(
        2024, 12, 31, 10, 30, tzinfo=madrid
    )
    assert mp.to_datetime("03/04/2024", tz=madrid).month == 4
    assert mp.to_datetime("03/04/2024", day_first=False, tz=madrid).month == 3
    assert mp.to_datetime("5/1/2024, 10:00 AM", day_first=False, tz=madrid).hour == 10
    assert mp.to_datetime("2024-05-01T08:00:00Z").utcoffset() == dt.timedelta(0)
    assert mp.guess_day_first(["01/02/2024", "25/02/2024"]) is True
    assert mp.guess_day_first(["01/02/2024", "02/25/2024"]) is False
    with pytest.raises(ConversionError, match="date"):
        mp.to_datetime("yesterday")


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("30", 30), ("30 min", 30), ("1:30", 90), ("01:30:00", 90), ("1h 30m", 90), ("2 h", 120),
     ("1,5 horas", 90), ("45 minutos", 45)],
)  # fmt: skip
def test_durations(text: str, minutes: int) -> None:
    assert mp.to_duration(text) == minutes


def test_full_names_and_languages() -> None:
    assert mp.split_full_name("Ana María Pérez") == ("Ana", "María Pérez")
    assert mp.split_full_name("Pérez García, Ana") == ("Ana", "Pérez García")
    assert mp.split_full_name("Cher") == ("Cher", "")
    assert mp.to_language("Español") == "es"
    assert mp.to_language("en-GB") == "en"
    assert mp.to_language("pt_BR") == "pt-br"


def test_text_limits_and_nul_bytes() -> None:
    assert mp.clean_text("  Acme  ", 10) == "Acme"
    with pytest.raises(ConversionError, match="at most 10 characters"):
        mp.clean_text("x" * 11, 10)
    with pytest.raises(ConversionError, match="NUL"):
        mp.clean_text("a\x00b", 10)


def test_html_is_cleaned_and_plain_text_keeps_its_lines() -> None:
    assert mp.to_html("<p>Hi</p><script>alert(1)</script>", 1000) == "<p>Hi</p>"
    assert mp.to_html("a < b", 1000) == "a &lt; b"
    assert mp.to_html("one\ntwo", 1000) == "<p>one<br>two</p>"


def test_messages_follow_the_language() -> None:
    with translation.override("es"), pytest.raises(ConversionError) as error:
        mp.to_bool("quizás")
    assert str(error.value)  # translated when the catalogue has it; never empty
    assert mp.field_choices("accounts")[0] == ("external_id", "External id")
