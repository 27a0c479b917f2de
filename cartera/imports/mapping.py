"""Which column goes to which field, and how a cell becomes a field's value.

- ``fields_for(kind)``: the targets a column can be mapped to (``FieldSpec``), per kind.
- ``auto_mapping(kind, headers)``: the header dictionary. Headers are compared accent-, case-,
  space- and punctuation-insensitively (``"Código postal"`` = ``"codigo_postal"`` =
  ``"CodigoPostal"``), so HubSpot and Salesforce exports, Spanish and English spreadsheets and
  the public data sets map without help.
- ``convert(spec, text, region=...)``: one cell to a value, or ``ConversionError`` with a reason
  for people. Converters are plain functions over strings with cached lookups: the engine calls
  them for every cell of every row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any

import phonenumbers
from babel.numbers import list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import override as override_language
from phonenumber_field.phonenumber import PhoneNumber

from cartera.accounts.models import AccountStatus, CompanySize, Industry, Tier
from cartera.activities.models import Direction, InteractionKind
from cartera.contacts.models import BuyingRole, Channel, ReportPreference
from cartera.core.text import normalize

from .models import ImportKind


class ConversionError(ValueError):
    """A cell's text is not a valid value for its field; the message says why, for people."""


@dataclass(frozen=True)
class FieldSpec:
    """A target a column can be mapped to."""

    name: str
    label: str | Promise
    type: str
    max_length: int = 0
    choices: Any = None
    #: Model attribute written (``""``: handled by the engine: references, contact columns…).
    attribute: str = ""


ACCOUNT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("external_id", gettext_lazy("External id"), "text", 100, attribute="external_id"),
    FieldSpec("name", gettext_lazy("Name"), "text", 200, attribute="name"),
    FieldSpec("legal_name", gettext_lazy("Legal name"), "text", 200, attribute="legal_name"),
    FieldSpec("tax_id", gettext_lazy("Tax id"), "text", 40, attribute="tax_id"),
    FieldSpec("industry", gettext_lazy("Industry"), "industry", attribute="industry"),
    FieldSpec("size", gettext_lazy("Size (employees)"), "size", attribute="size"),
    FieldSpec("website", gettext_lazy("Website"), "url", 300, attribute="website"),
    FieldSpec("email", gettext_lazy("Email"), "email", 254, attribute="email"),
    FieldSpec("phone", gettext_lazy("Phone"), "phone", attribute="phone"),
    FieldSpec("street", gettext_lazy("Street address"), "text", 200, attribute="street"),
    FieldSpec("city", gettext_lazy("City"), "text", 100, attribute="city"),
    FieldSpec("region", gettext_lazy("Region / province"), "text", 100, attribute="region"),
    FieldSpec("postal_code", gettext_lazy("Postal code"), "text", 20, attribute="postal_code"),
    FieldSpec("country", gettext_lazy("Country"), "country", attribute="country"),
    FieldSpec("tier", gettext_lazy("Tier"), "choice", choices=Tier, attribute="tier"),
    FieldSpec("is_key_account", gettext_lazy("Key account"), "bool", attribute="is_key_account"),
    FieldSpec(
        "status", gettext_lazy("Status"), "choice", choices=AccountStatus, attribute="status"
    ),
    FieldSpec(
        "annual_revenue", gettext_lazy("Annual revenue"), "money", attribute="annual_revenue"
    ),
    FieldSpec(
        "annual_revenue_millions",
        gettext_lazy("Annual revenue (in millions)"),
        "money_millions",
        attribute="annual_revenue",
    ),
    FieldSpec("currency", gettext_lazy("Currency"), "currency", attribute="currency"),
    FieldSpec("description", gettext_lazy("Description"), "text", 10000, attribute="description"),
    FieldSpec("owner", gettext_lazy("Owner (email or name)"), "user"),
    FieldSpec("parent", gettext_lazy("Parent account (name or external id)"), "parent"),
    FieldSpec("contact_name", gettext_lazy("Contact: full name"), "full_name", 250),
    FieldSpec("contact_first_name", gettext_lazy("Contact: first name"), "text", 100),
    FieldSpec("contact_last_name", gettext_lazy("Contact: last name"), "text", 150),
    FieldSpec("contact_title", gettext_lazy("Contact: job title"), "text", 150),
    FieldSpec("contact_email", gettext_lazy("Contact: email"), "email", 254),
    FieldSpec("contact_phone", gettext_lazy("Contact: phone"), "phone"),
    FieldSpec("contact_mobile", gettext_lazy("Contact: mobile"), "phone"),
)

CONTACT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("external_id", gettext_lazy("External id"), "text", 100, attribute="external_id"),
    FieldSpec("first_name", gettext_lazy("First name"), "text", 100, attribute="first_name"),
    FieldSpec("last_name", gettext_lazy("Last name"), "text", 150, attribute="last_name"),
    FieldSpec("full_name", gettext_lazy("Full name"), "full_name", 250),
    FieldSpec("email", gettext_lazy("Email"), "email", 254, attribute="email"),
    FieldSpec(
        "secondary_email",
        gettext_lazy("Secondary email"),
        "email",
        254,
        attribute="secondary_email",
    ),
    FieldSpec("phone", gettext_lazy("Phone"), "phone", attribute="phone"),
    FieldSpec("mobile", gettext_lazy("Mobile"), "phone", attribute="mobile"),
    FieldSpec("job_title", gettext_lazy("Job title"), "text", 150, attribute="job_title"),
    FieldSpec(
        "buying_role",
        gettext_lazy("Buying role"),
        "choice",
        choices=BuyingRole,
        attribute="buying_role",
    ),
    FieldSpec(
        "preferred_channel",
        gettext_lazy("Preferred channel"),
        "choice",
        choices=Channel,
        attribute="preferred_channel",
    ),
    FieldSpec(
        "report_preference",
        gettext_lazy("Report preference"),
        "choice",
        choices=ReportPreference,
        attribute="report_preference",
    ),
    FieldSpec("language", gettext_lazy("Language"), "language", attribute="language"),
    FieldSpec(
        "special_requests",
        gettext_lazy("Special requests and preferences"),
        "text",
        5000,
        attribute="special_requests",
    ),
    FieldSpec("do_not_contact", gettext_lazy("Do not contact"), "bool", attribute="do_not_contact"),
    FieldSpec("account", gettext_lazy("Account (name, website domain or external id)"), "account"),
)

INTERACTION_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("external_id", gettext_lazy("External id"), "text", 100, attribute="external_id"),
    FieldSpec("account", gettext_lazy("Account (name, website domain or external id)"), "account"),
    FieldSpec("contact", gettext_lazy("Contact (email, external id or name)"), "contact"),
    FieldSpec("kind", gettext_lazy("Type"), "choice", choices=InteractionKind, attribute="kind"),
    FieldSpec(
        "direction", gettext_lazy("Direction"), "choice", choices=Direction, attribute="direction"
    ),
    FieldSpec("subject", gettext_lazy("Subject"), "text", 200, attribute="subject"),
    FieldSpec("body", gettext_lazy("Details"), "html", 50000, attribute="body"),
    FieldSpec("occurred_at", gettext_lazy("Date and time"), "datetime", attribute="occurred_at"),
    FieldSpec(
        "duration_minutes",
        gettext_lazy("Duration (minutes)"),
        "duration",
        attribute="duration_minutes",
    ),
    FieldSpec("author", gettext_lazy("Logged by (email or name)"), "user"),
)

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    ImportKind.ACCOUNTS: ACCOUNT_FIELDS,
    ImportKind.CONTACTS: CONTACT_FIELDS,
    ImportKind.INTERACTIONS: INTERACTION_FIELDS,
}

#: Keys existing records can be matched by, per kind, in the default order.
MATCH_KEYS: dict[str, tuple[str, ...]] = {
    ImportKind.ACCOUNTS: ("external_id", "tax_id", "domain", "email", "name"),
    ImportKind.CONTACTS: ("external_id", "email", "name"),
    ImportKind.INTERACTIONS: ("external_id", "entry"),
}
DEFAULT_MATCH_ORDER: dict[str, list[str]] = {
    ImportKind.ACCOUNTS: ["external_id", "tax_id", "domain", "email", "name"],
    ImportKind.CONTACTS: ["external_id", "email", "name"],
    ImportKind.INTERACTIONS: ["external_id", "entry"],
}
MATCH_KEY_LABELS: dict[str, Any] = {
    "external_id": gettext_lazy("External id"),
    "tax_id": gettext_lazy("Tax id"),
    "domain": gettext_lazy("Website domain"),
    "email": gettext_lazy("Email"),
    "name": gettext_lazy("Name"),
    "entry": gettext_lazy("Same account, date and subject"),
}
#: Which mapped field a match key needs (``"domain"`` comes from the website column).
MATCH_KEY_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    ImportKind.ACCOUNTS: {
        "external_id": ("external_id",),
        "tax_id": ("tax_id",),
        "domain": ("website",),
        "email": ("email",),
        "name": ("name",),
    },
    ImportKind.CONTACTS: {
        "external_id": ("external_id",),
        "email": ("email",),
        "name": ("first_name", "full_name"),
    },
    ImportKind.INTERACTIONS: {"external_id": ("external_id",), "entry": ("occurred_at",)},
}


def fields_for(kind: str) -> tuple[FieldSpec, ...]:
    """The targets a column of a ``kind`` file can be mapped to."""
    return FIELDS[kind]


def field_map(kind: str) -> dict[str, FieldSpec]:
    """Targets of ``kind`` by name."""
    return {spec.name: spec for spec in FIELDS[kind]}


def field_choices(kind: str) -> list[tuple[str, str]]:
    """``(value, label)`` of every target of ``kind``, for a select."""
    return [(spec.name, str(spec.label)) for spec in FIELDS[kind]]


def match_key_choices(kind: str) -> list[tuple[str, str]]:
    """``(value, label)`` of the keys ``kind`` records can be matched by."""
    return [(key, str(MATCH_KEY_LABELS[key])) for key in MATCH_KEYS[kind]]


def missing_required(kind: str, mapped: Iterable[str]) -> list[str]:
    """Messages for required targets ``mapped`` leaves out (empty: the mapping is complete)."""
    fields = set(mapped)
    problems: list[str] = []
    if kind == ImportKind.ACCOUNTS and "name" not in fields:
        problems.append(str(_("Map a column to the account's name.")))
    if kind == ImportKind.CONTACTS:
        if not fields & {"first_name", "full_name", "email"}:
            problems.append(str(_("Map a column to the first name, the full name or the email.")))
        if "account" not in fields and "email" not in fields:
            problems.append(
                str(_("Map a column to the contact's account (or an email to find it by)."))
            )
    if kind == ImportKind.INTERACTIONS:
        if "account" not in fields:
            problems.append(str(_("Map a column to the interaction's account.")))
        if "subject" not in fields:
            problems.append(str(_("Map a column to the subject.")))
    if kind in EXTRA_REQUIRED:
        problems += EXTRA_REQUIRED[kind](fields)
    return problems


# --- The header dictionary -----------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def fast_normalize(value: str) -> str:
    """``cartera.core.text.normalize()``, same result, with a shortcut for plain ASCII text
    (most cells), which needs none of its Unicode work."""
    if value.isascii():
        return " ".join(value.lower().split())
    return normalize(value)


def header_key(header: str) -> str:
    """A header squashed for comparison.

    ``"Código Postal"``, ``"codigo_postal"`` and ``"CodigoPostal"`` all give ``"codigopostal"``.
    """
    spaced = _CAMEL.sub(" ", header or "")
    return _NOT_ALNUM.sub("", normalize(spaced))


def _words(*texts: str) -> tuple[str, ...]:
    """Header keys of ``"Name | Company name | …"`` texts, in order."""
    names = " ".join(texts).split("|")
    return tuple(key for key in (header_key(name) for name in names) if key)


_ACCOUNT_NAMES = _words(
    "Account | Account Name | Company | Company name | Company Name | Name | Nombre | Nombre "
    "comercial | Nombre de la empresa | Empresa | Cliente | Nombre cliente | Organization | "
    "Organisation | Organization Name | Organización | Customer | Customer Name | Business name | "
    "Cuenta | Nombre de cuenta"
)
_ACCOUNT_REFS = _words(
    "Account | Account Name | Company | Company Name | Associated Company | Empresa | Cliente | "
    "Cuenta | Organization | Organisation | Organización | Customer | Razón social | Nombre "
    "empresa | Nombre de la empresa | Account ID | Company ID | Customer ID | Associated Company "
    "ID | Company Domain Name | Company Domain | Primary Company | Parent Account | ID empresa | "
    "ID cliente | CustomerID | AccountId"
)

#: kind → field → headers, best first. The first tier wins over later tiers of other fields.
DICTIONARY: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {
    ImportKind.ACCOUNTS: {
        "external_id": (
            _words(
                "Record ID | Account ID | Company ID | CustomerID | Customer ID | External ID | ID "
                "externo | ID | Id | Salesforce ID | HubSpot ID | CRM ID | ID cliente | Código "
                "cliente | Código de cliente | Cód. cliente | ID empresa | Account Number | "
                "Customer Number | Número de cliente"
            ),
            _words("Código | Code | Ref | Referencia"),
        ),
        "name": (
            _ACCOUNT_NAMES,
            _words("Razón social | Denominación social | Legal name"),
        ),
        "legal_name": (
            _words(
                "Legal name | Razón social | Denominación social | Registered name | Company legal "
                "name | Nombre fiscal | Nombre legal"
            ),
        ),
        "tax_id": (
            _words(
                "NIF/CIF | CIF/NIF | NIF | CIF | NIE | Tax ID | Tax number | VAT | VAT number | "
                "VAT ID | VAT Reg No | Identificación fiscal | NIF-IVA | RFC | RUC | CUIT | NIT | "
                "RUT | Company registration number | Número de identificación fiscal | Documento | "
                "Tax Identification Number"
            ),
        ),
        "industry": (
            _words(
                "Industry | Sector | Industria | Actividad | Vertical | Ramo | Sector de actividad "
                "| Business type | Industry Type"
            ),
        ),
        "size": (
            _words(
                "Number of Employees | Employees | NumberOfEmployees | Empleados | Número de "
                "empleados | Nº empleados | Plantilla | Headcount | Company size | Size | Tamaño | "
                "Tamaño de empresa | Trabajadores | Employee count | Staff"
            ),
        ),
        "website": (
            _words(
                "Website | Website URL | Web | URL | Sitio web | Página web | Web site | Company "
                "Domain Name | Domain | Dominio | HomePage | Home page | Company website"
            ),
        ),
        "email": (
            _words(
                "Email | E-mail | Correo electrónico | Correo | Email address | Company email | "
                "Mail | Email de la empresa | Correo de la empresa"
            ),
        ),
        "phone": (
            _words(
                "Phone | Phone Number | Teléfono | Telefono | Tel | Tlf | Telephone | Company "
                "phone | Main phone | Teléfono fijo | Business phone | Teléfono de la empresa | "
                "Centralita"
            ),
        ),
        "street": (
            _words(
                "Street | Street Address | Address | Dirección | Domicilio | Calle | Billing "
                "Street | Billing Address | Address 1 | Address line 1 | Dirección postal | "
                "Domicilio social | Mailing Street | Shipping Street"
            ),
        ),
        "city": (
            _words(
                "City | Población | Ciudad | Localidad | Municipio | Town | Billing City | Mailing "
                "City | Shipping City"
            ),
        ),
        "region": (
            _words(
                "Region | State | State/Region | State/Province | Province | Provincia | Billing "
                "State/Province | Billing State | County | Comunidad | Comunidad autónoma | Región "
                "| Estado | Mailing State/Province | Shipping State/Province"
            ),
        ),
        "postal_code": (
            _words(
                "Postal Code | PostalCode | Zip | Zip Code | Código postal | CP | C.P. | Billing "
                "Zip/Postal Code | Zip/Postal Code | Postcode | Billing Zip | Mailing Zip/Postal "
                "Code | Shipping Zip/Postal Code"
            ),
        ),
        "country": (
            _words(
                "Country | Country/Region | País | Pais | Billing Country | Nación | Mailing "
                "Country | Shipping Country | Country code | Código de país | office_location | "
                "Office location"
            ),
        ),
        "tier": (_words("Tier | Nivel | Rating | Clasificación | Account tier"),),
        "is_key_account": (
            _words(
                "Key account | Is key account | Cuenta clave | Cuenta estratégica | Strategic "
                "account | Strategic | KAM account"
            ),
        ),
        "status": (
            _words(
                "Status | Account status | Lifecycle Stage | Estado | Estado cliente | Estado de "
                "la cuenta | Type | Account Type | Tipo | Tipo de cliente | Etapa | Fase | Company "
                "type"
            ),
        ),
        "annual_revenue": (
            _words(
                "Annual Revenue | AnnualRevenue | Revenue | Facturación | Ingresos | Ventas | "
                "Turnover | Facturación anual | Ingresos anuales | Volumen de negocio | Cifra de "
                "negocio | Sales"
            ),
        ),
        "annual_revenue_millions": (
            _words(
                "Revenue (millions) | Revenue (M) | Revenue M | Revenue MM | Revenue (M USD) | "
                "Revenue (M EUR) | Revenue (M€) | Revenue ($M) | Annual revenue (millions) | "
                "Facturación (millones) | Facturación (M€) | Ingresos (millones) | Millones"
            ),
        ),
        "currency": (
            _words(
                "Currency | Moneda | Divisa | Currency code | Currency ISO Code | Annual Revenue "
                "Currency | Company Currency"
            ),
        ),
        "description": (
            _words(
                "Description | Descripción | Notes | Notas | Observaciones | Comentarios | About | "
                "About Us | Comments | Company description"
            ),
        ),
        "owner": (
            _words(
                "Owner | Account Owner | Company owner | Propietario | Responsable | Gestor | "
                "Comercial | Owner email | Owner name | Account Owner Email | HubSpot Owner | "
                "Assigned to | Sales rep | Vendedor | Ejecutivo | Ejecutivo de cuenta | Account "
                "manager | KAM | Propietario de la cuenta"
            ),
        ),
        "parent": (
            _words(
                "Parent | Parent Account | Parent Company | Parent Account ID | Parent ID | "
                "ParentId | Subsidiary of | subsidiary_of | Empresa matriz | Matriz | Cuenta padre "
                "| Sociedad matriz | Grupo | Filial de | Parent company name"
            ),
        ),
        "contact_name": (
            _words(
                "ContactName | Contact Name | Contact | Contacto | Persona de contacto | Nombre "
                "contacto | Nombre del contacto | Primary contact | Contact person | Contact full "
                "name"
            ),
        ),
        "contact_first_name": (
            _words("Contact first name | Nombre del contacto (nombre)"),
            _words("First Name | FirstName"),
        ),
        "contact_last_name": (
            _words("Contact last name | Apellidos del contacto | Apellidos contacto"),
            _words("Last Name | LastName | Apellidos | Apellido"),
        ),
        "contact_title": (
            _words(
                "ContactTitle | Contact Title | Contact job title | Cargo del contacto | Cargo "
                "contacto"
            ),
            _words("Title | Job Title | Cargo | Puesto"),
        ),
        "contact_email": (
            _words(
                "Contact email | Email contacto | Email del contacto | Correo contacto | Correo "
                "del contacto"
            ),
        ),
        "contact_phone": (_words("Contact phone | Teléfono contacto | Teléfono del contacto"),),
        "contact_mobile": (
            _words("Contact mobile | Móvil contacto | Móvil del contacto"),
            _words("Mobile | Mobile Phone | Móvil | Movil | Celular | Teléfono móvil"),
        ),
    },
    ImportKind.CONTACTS: {
        "external_id": (
            _words(
                "Record ID | Contact ID | ContactID | External ID | ID externo | ID | Id | "
                "Salesforce ID | HubSpot ID | CRM ID | ID contacto | Código contacto | Lead ID"
            ),
        ),
        "first_name": (
            _words("First Name | FirstName | Nombre | Given name | Forename | Nombre de pila"),
        ),
        "last_name": (
            _words(
                "Last Name | LastName | Apellidos | Apellido | Surname | Family name | Primer "
                "apellido"
            ),
        ),
        "full_name": (
            _words(
                "Name | Full name | Contact Name | ContactName | Contact | Nombre completo | "
                "Nombre y apellidos | Contacto | Persona"
            ),
        ),
        "email": (
            _words(
                "Email | E-mail | Email address | Correo electrónico | Correo | Mail | Work email "
                "| Business email | Email 1 | Correo del trabajo"
            ),
        ),
        "secondary_email": (
            _words(
                "Secondary email | Other email | Email 2 | Email secundario | Additional email "
                "addresses | Correo 2 | Otro correo | Personal email"
            ),
        ),
        "phone": (
            _words(
                "Phone | Phone Number | Teléfono | Telefono | Tel | Business phone | Work phone | "
                "Office phone | Teléfono fijo | Direct phone | Telephone | Teléfono del trabajo"
            ),
        ),
        "mobile": (
            _words(
                "Mobile | Mobile Phone | Mobile Phone Number | Móvil | Movil | Cell | Cell phone | "
                "Celular | Teléfono móvil | WhatsApp"
            ),
        ),
        "job_title": (
            _words(
                "Job Title | Title | Cargo | Puesto | Position | Posición | Puesto de trabajo | "
                "ContactTitle | Contact Title | Role | Rol"
            ),
        ),
        "buying_role": (
            _words("Buying role | Rol de compra | Rol en la compra | Buyer role | Decision role"),
        ),
        "preferred_channel": (
            _words("Preferred channel | Canal preferido | Canal | Preferred contact method"),
        ),
        "report_preference": (_words("Report preference | Preferencia de informe"),),
        "language": (_words("Language | Idioma | Preferred language | Lengua | Locale"),),
        "special_requests": (
            _words(
                "Special requests | Notes | Notas | Description | Descripción | Observaciones | "
                "Comentarios | Comments | Preferencias | Preferences"
            ),
        ),
        "do_not_contact": (
            _words(
                "Do not contact | Do Not Call | Email Opt Out | No contactar | Opt out | "
                "Unsubscribed | Baja | No llamar | Has opted out of email"
            ),
        ),
        "account": (_ACCOUNT_REFS,),
    },
    ImportKind.INTERACTIONS: {
        "external_id": (
            _words(
                "Record ID | Activity ID | Task ID | Event ID | Engagement ID | Interaction ID | "
                "External ID | ID externo | ID | Id | Call ID | Meeting ID | Note ID | ID "
                "actividad"
            ),
        ),
        "account": (_ACCOUNT_REFS,),
        "contact": (
            _words(
                "Contact | Contact Name | Contact email | Contacto | Associated Contact | Name | "
                "Who | Person | Persona | Email del contacto | Contact ID | Associated Contact ID "
                "| Email | Correo"
            ),
        ),
        "kind": (
            _words(
                "Type | Activity Type | Task Type | Engagement Type | Tipo | Tipo de actividad | "
                "Kind | Activity | Actividad | Interaction type"
            ),
        ),
        "direction": (
            _words("Direction | Call direction | Sentido | Inbound/Outbound | Entrante/Saliente"),
        ),
        "subject": (
            _words(
                "Subject | Asunto | Title | Título | Activity subject | Call title | Meeting name "
                "| Task subject | Tema | Motivo"
            ),
        ),
        "body": (
            _words(
                "Body | Description | Notes | Note | Comments | Details | Descripción | Notas | "
                "Comentarios | Detalles | Call notes | Meeting notes | Resumen | Note body | "
                "Contenido"
            ),
        ),
        "occurred_at": (
            _words(
                "Date | Activity Date | Fecha | When | Create Date | Created Date | Due Date | "
                "Timestamp | Activity date time | Start Date | Start Time | Fecha y hora | "
                "Occurred at | Cuándo | Fecha de la actividad"
            ),
        ),
        "duration_minutes": (
            _words(
                "Duration | Duration (minutes) | Call duration | Duración | Minutos | Minutes | "
                "Duración (minutos) | Duration min"
            ),
        ),
        "author": (
            _words(
                "Owner | Assigned To | Activity assigned to | Created By | Logged by | Author | "
                "User | Usuario | Comercial | Autor | HubSpot Owner | Responsable | Activity owner"
            ),
        ),
    },
}

#: Fields that must get a column when the dictionary offers one, even one another field wanted.
_REQUIRED_FIRST: dict[str, tuple[str, ...]] = {
    ImportKind.ACCOUNTS: ("name",),
    ImportKind.CONTACTS: ("first_name", "account"),
    ImportKind.INTERACTIONS: ("account", "subject"),
}
#: The same table, public, for other kinds to register in (``mapping_sales.register()``).
REQUIRED_FIRST = _REQUIRED_FIRST
#: Required columns of other kinds: kind → function(mapped fields) → messages.
EXTRA_REQUIRED: dict[str, Callable[[set[str]], list[str]]] = {}


def auto_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """``{header: field}`` for the headers the dictionary recognises (each field at most once)."""
    dictionary = DICTIONARY[kind]
    keys = [header_key(header) for header in headers]
    candidates: list[tuple[int, int, int, str]] = []  # (tier, synonym rank, column, field)
    for field_name, tiers in dictionary.items():
        for tier, words in enumerate(tiers):
            for column, key in enumerate(keys):
                if key and key in words:
                    candidates.append((tier, words.index(key), column, field_name))
    candidates.sort()
    by_header: dict[int, str] = {}
    taken: set[str] = set()
    for _tier, _rank, column, field_name in candidates:
        if column in by_header or field_name in taken:
            continue
        by_header[column] = field_name
        taken.add(field_name)
    for field_name in _REQUIRED_FIRST[kind]:
        if field_name in taken:
            continue
        wanted = [c for c in candidates if c[3] == field_name]
        if wanted:
            column = wanted[0][2]
            previous = by_header.get(column)
            if previous:
                taken.discard(previous)
            by_header[column] = field_name
            taken.add(field_name)
    return {headers[column]: by_header[column] for column in sorted(by_header)}


# --- Converters ----------------------------------------------------------------------------


def clean_text(value: str, max_length: int) -> str:
    """Trimmed text; NUL bytes and over-long text are errors."""
    text = value.strip()
    if "\x00" in text:
        raise ConversionError(_("This text contains a character that is not allowed (NUL)."))
    if max_length and len(text) > max_length:
        raise ConversionError(
            _("Too long: at most %(max)s characters (this has %(length)s).")
            % {"max": max_length, "length": len(text)}
        )
    return text


@cache
def _bool_words() -> dict[str, bool]:
    true = ["1", "y", "yes", "true", "t", "si", "sí", "s", "x", "v", "verdadero", "cierto"]
    true += ["on", "ok", "✓", "✔", "checked", "marcado"]
    false = ["0", "n", "no", "false", "f", "falso", "off", "unchecked", "desmarcado", "-"]
    return {**{normalize(w): True for w in true}, **{normalize(w): False for w in false}}


@lru_cache(maxsize=4096)
def to_bool(value: str) -> bool:
    """``sí/no/yes/true/1/x…`` as a boolean."""
    found = _bool_words().get(normalize(value))
    if found is None:
        raise ConversionError(_("Write yes or no (sí/no, true/false, 1/0)."))
    return found


_COUNTRY_ALIASES = {
    "uk": "GB", "u k": "GB", "great britain": "GB", "britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB", "reino unido": "GB",
    "inglaterra": "GB", "gran bretana": "GB", "escocia": "GB",
    "usa": "US", "u s a": "US", "us": "US", "u s": "US", "united states": "US",
    "united states of america": "US", "america": "US", "eeuu": "US", "ee uu": "US",
    "estados unidos": "US", "estados unidos de america": "US",
    "korea": "KR", "south korea": "KR", "republic of korea": "KR", "corea": "KR",
    "corea del sur": "KR", "north korea": "KP", "corea del norte": "KP",
    "philipines": "PH", "phillipines": "PH", "philippines": "PH", "filipinas": "PH",
    "russia": "RU", "rusia": "RU", "holland": "NL", "the netherlands": "NL", "holanda": "NL",
    "paises bajos": "NL", "czech republic": "CZ", "czechia": "CZ", "republica checa": "CZ",
    "vietnam": "VN", "viet nam": "VN", "ivory coast": "CI", "cote d ivoire": "CI",
    "iran": "IR", "syria": "SY", "taiwan": "TW", "bolivia": "BO", "venezuela": "VE",
    "tanzania": "TZ", "laos": "LA", "moldova": "MD", "macedonia": "MK", "turkey": "TR",
    "turquia": "TR", "uae": "AE", "emiratos arabes unidos": "AE", "brasil": "BR",
    "mexico": "MX", "méjico": "MX", "mejico": "MX", "peru": "PE", "espana": "ES",
    "spain": "ES", "deutschland": "DE", "allemagne": "DE", "italia": "IT", "suisse": "CH",
    "schweiz": "CH", "osterreich": "AT", "belgique": "BE", "sverige": "SE", "norge": "NO",
    "danmark": "DK", "suomi": "FI", "polska": "PL", "eire": "IE",
}  # fmt: skip


@cache
def _countries() -> dict[str, str]:
    from django_countries import countries

    names: dict[str, str] = {}
    for language in ("en", "es"):
        with override_language(language):
            for code, name in countries:
                names.setdefault(_country_key(str(name)), code)
    for code, name in countries:
        names.setdefault(_country_key(code), code)
        alpha3 = countries.alpha3(code)
        if alpha3:
            names.setdefault(_country_key(alpha3), code)
        names.setdefault(_country_key(str(name).split(",")[0]), code)
        names.setdefault(_country_key(str(name).split(" (")[0]), code)
    for alias, code in _COUNTRY_ALIASES.items():
        names[_country_key(alias)] = code
    return names


def _country_key(value: str) -> str:
    return " ".join(_NOT_ALNUM.sub(" ", normalize(value)).split())


@lru_cache(maxsize=4096)
def to_country(value: str) -> str:
    """A country name (English or Spanish), ISO alpha-2 or alpha-3 code as its alpha-2 code."""
    code = _countries().get(_country_key(value))
    if code is None:
        raise ConversionError(_("Unknown country: write its name or ISO code."))
    return code


_INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    Industry.AGENCY: ("agency", "agencia", "marketing", "advertising", "publicidad",
                      "communications agency", "pr", "relaciones publicas", "design", "diseno"),
    Industry.SOFTWARE: ("software", "saas", "it", "internet", "computer software", "apps",
                        "informatica", "tecnologias de la informacion", "information technology",
                        "information technology and services", "digital"),
    Industry.TECHNOLOGY: ("technology", "technolgy", "tech", "tecnologia", "hardware",
                          "electronics", "electronica", "computer hardware", "semiconductors",
                          "it hardware"),
    Industry.TELECOM: ("telecom", "telecommunications", "telecomunicaciones", "telco",
                       "wireless", "telecomunicacion"),
    Industry.DISTRIBUTION: ("distribution", "distribucion", "wholesale", "mayorista",
                            "comercio mayorista", "import", "export", "importacion"),
    Industry.RETAIL: ("retail", "comercio", "comercio minorista", "minorista", "ecommerce",
                      "e commerce", "consumer goods", "tiendas", "retailer", "shops"),
    Industry.FOOD: ("food", "alimentacion", "food and beverage", "food beverages", "beverages",
                    "bebidas", "restaurants", "restauracion", "hosteleria", "hospitality",
                    "agriculture", "agricultura", "agroalimentario"),
    Industry.MANUFACTURING: ("manufacturing", "fabricacion", "industria", "industrial",
                             "manufactura", "machinery", "automotive", "automocion",
                             "chemicals", "quimica", "construction", "construccion"),
    Industry.FINANCE: ("finance", "finanzas", "financial services", "banking", "banca",
                       "insurance", "seguros", "financiero", "servicios financieros",
                       "investment", "inversion", "fintech", "accounting", "contabilidad"),
    Industry.HEALTHCARE: ("healthcare", "health", "salud", "sanidad", "medical", "medico",
                          "medicina", "hospital", "pharma", "pharmaceuticals", "farmacia",
                          "farmaceutico", "biotech", "biotechnology", "life sciences"),
    Industry.EDUCATION: ("education", "educacion", "formacion", "training", "e learning",
                         "university", "universidad", "school", "colegio", "higher education"),
    Industry.PUBLIC: ("public", "public sector", "sector publico", "government",
                      "administracion publica", "gobierno", "non profit", "nonprofit", "ong",
                      "administracion"),
    Industry.ENERGY: ("energy", "energia", "utilities", "oil", "oil and gas", "petroleo",
                      "renewables", "renovables", "electricity", "electricidad", "mining",
                      "mineria"),
    Industry.REAL_ESTATE: ("real estate", "inmobiliaria", "inmobiliario", "property",
                           "propiedades", "vivienda"),
    Industry.SERVICES: ("services", "servicios", "professional services", "consulting",
                        "consultoria", "legal", "abogados", "law", "employment", "empleo",
                        "staffing", "recruiting", "recursos humanos", "human resources",
                        "business services", "servicios profesionales", "outsourcing"),
    Industry.LOGISTICS: ("logistics", "logistica", "transport", "transporte",
                         "transportation", "shipping", "freight", "mensajeria", "airlines",
                         "aviation", "courier"),
    Industry.MEDIA: ("media", "medios", "entertainment", "entretenimiento", "publishing",
                     "editorial", "broadcasting", "television", "film", "cine", "music",
                     "musica", "games", "gaming", "videojuegos", "news", "prensa", "sports",
                     "deportes", "ocio", "leisure"),
    Industry.OTHER: ("other", "otro", "otros", "others", "n a", "na"),
}  # fmt: skip


@cache
def _industries() -> dict[str, str]:
    words: dict[str, str] = {}
    for value, synonyms in _INDUSTRY_WORDS.items():
        for word in synonyms:
            words[_country_key(word)] = str(value)
    for language in ("en", "es"):
        with override_language(language):
            for value, label in Industry.choices:
                words[_country_key(str(label))] = value
                words[_country_key(value)] = value
    return words


@lru_cache(maxsize=4096)
def to_industry(value: str) -> str:
    """An industry in English or Spanish as a Cartera industry; unknown ones are "other"."""
    words = _industries()
    key = _country_key(value)
    found = words.get(key)
    if found is None:
        # "Computer Software", "Banca privada", "IT services": try each word.
        for word in key.split():
            if word in words and word not in {"and", "y", "services", "servicios"}:
                found = words[word]
                break
    return found or str(Industry.OTHER)


_SIZE_BANDS: tuple[tuple[int, str], ...] = (
    (10, CompanySize.MICRO),
    (50, CompanySize.SMALL),
    (200, CompanySize.MEDIUM),
    (1000, CompanySize.LARGE),
    (5000, CompanySize.ENTERPRISE),
)
_NUMBER = re.compile(r"\d[\d.,\s]*")
_SIZE_VALUES = frozenset(str(value) for value in CompanySize.values)


def size_for(employees: int) -> str:
    """The headcount band of ``employees`` people."""
    for upper, band in _SIZE_BANDS:
        if employees <= upper:
            return str(band)
    return str(CompanySize.HUGE)


@lru_cache(maxsize=4096)
def to_size(value: str) -> str:
    """A headcount (``2822``), a band (``"51-200"``, ``"5000+"``) or ``"5k"`` as a band."""
    if value.isascii() and value.isdigit():
        return size_for(int(value))
    text = normalize(value)
    if text in _SIZE_VALUES:
        return text
    found = (_integer(match.group()) for match in _NUMBER.finditer(text))
    numbers = [number for number in found if number is not None]
    if not numbers:
        raise ConversionError(_("Write the number of employees, e.g. 120 or 51-200."))
    first = numbers[0]
    if re.search(r"\d\s*k\b", text):
        first *= 1000
    if len(numbers) == 1 and re.search(r"(\+|more|mas|over|>)", text):
        first += 1
    return size_for(first)


def _integer(text: str) -> int | None:
    digits = re.sub(r"[.,\s]", "", text)
    return int(digits) if digits.isdigit() else None


_CURRENCY_SYMBOLS = {
    "€": "EUR", "$": "USD", "us$": "USD", "usd": "USD", "eur": "EUR", "£": "GBP",
    "gbp": "GBP", "¥": "JPY", "jpy": "JPY", "chf": "CHF", "mxn": "MXN", "r$": "BRL",
    "brl": "BRL", "ars": "ARS", "clp": "CLP", "cop": "COP", "pen": "PEN", "cad": "CAD",
    "aud": "AUD", "sek": "SEK", "nok": "NOK", "dkk": "DKK", "pln": "PLN", "euros": "EUR",
    "euro": "EUR", "dolares": "USD", "dollars": "USD",
}  # fmt: skip
_SCALE_WORDS = {
    "k": 10**3, "mil": 10**3, "thousand": 10**3, "m": 10**6, "mm": 10**6, "mn": 10**6,
    "mio": 10**6, "million": 10**6, "millions": 10**6, "millon": 10**6, "millones": 10**6,
    "b": 10**9, "bn": 10**9, "billion": 10**9, "billions": 10**9, "mil millones": 10**9,
}  # fmt: skip
_SYMBOLS_LONGEST_FIRST = sorted(_CURRENCY_SYMBOLS, key=len, reverse=True)
_PLAIN_AMOUNT = re.compile(r"^-?\d{1,15}(?:\.\d{1,2})?$")
_MONEY = re.compile(r"^(?P<sign>-)?(?P<number>\d[\d.,'\s]*)(?P<rest>.*)$")
_MAX_MONEY = Decimal("99999999999999.99")
_CENT = Decimal("0.01")


def parse_number(text: str) -> Decimal:
    """``"1.234,56"``, ``"1,234.56"``, ``"1234,5"``, ``"1 234"`` as a decimal (either locale)."""
    number = re.sub(r"[\s'\u00a0]", "", text)
    commas, dots = number.count(","), number.count(".")
    if commas and dots:
        decimal_mark = "," if number.rfind(",") > number.rfind(".") else "."
    elif commas == 1 and not re.search(r",\d{3}$", number):
        decimal_mark = ","
    elif dots == 1 and (not re.search(r"\.\d{3}$", number) or number.startswith("0.")):
        decimal_mark = "."
    else:
        decimal_mark = ""
    for mark in {",", "."} - {decimal_mark}:
        number = number.replace(mark, "")
    if decimal_mark:
        number = number.replace(decimal_mark, ".")
    try:
        return Decimal(number)
    except InvalidOperation as exc:
        raise ConversionError(_("Write a number, e.g. 1250000 or 1.250.000,50.")) from exc


def to_money(value: str, scale: int = 1) -> tuple[Decimal, str]:
    """An amount in either locale, with an optional currency and scale: ``"€1.2M"`` →
    ``(Decimal("1200000.00"), "EUR")``."""
    text = value.strip()
    if _PLAIN_AMOUNT.match(text):
        amount = Decimal(text) * scale
        if abs(amount) > _MAX_MONEY:
            raise ConversionError(_("This amount is too large."))
        return amount.quantize(_CENT, rounding=ROUND_HALF_UP), ""
    text = text.lower().replace("\u00a0", " ")
    currency = ""
    for symbol in _SYMBOLS_LONGEST_FIRST:
        if text.startswith(symbol) or text.endswith(symbol):
            if symbol.isalpha() and not re.search(rf"(^|[\s\d]){re.escape(symbol)}($|\s)", text):
                continue
            currency = _CURRENCY_SYMBOLS[symbol]
            text = text.removeprefix(symbol).removesuffix(symbol).strip()
            break
    match = _MONEY.match(text)
    if match is None:
        raise ConversionError(_("Write a number, e.g. 1250000 or 1.250.000,50."))
    rest = match.group("rest").strip().rstrip(".")
    if rest:
        factor = _SCALE_WORDS.get(rest)
        if factor is None:
            raise ConversionError(_("Write a number, e.g. 1250000 or 1.250.000,50."))
        scale *= factor
    amount = parse_number(match.group("number")) * scale
    if match.group("sign"):
        amount = -amount
    amount = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    if abs(amount) > _MAX_MONEY:
        raise ConversionError(_("This amount is too large."))
    return amount, currency


@cache
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@lru_cache(maxsize=4096)
def to_currency(value: str) -> str:
    """A three-letter ISO 4217 code (or a symbol such as € or $)."""
    text = value.strip()
    code = _CURRENCY_SYMBOLS.get(text.lower(), text.upper())
    if code not in _currencies():
        raise ConversionError(_("Enter a three-letter ISO 4217 currency code."))
    return code


@cache
def _choice_words(choices: Any) -> dict[str, str]:
    words: dict[str, str] = {}
    for language in ("en", "es"):
        with override_language(language):
            for value, label in choices.choices:
                words[_country_key(str(label))] = value
                words[_country_key(value)] = value
    for value, synonyms in _CHOICE_SYNONYMS.get(choices.__name__, {}).items():
        for word in synonyms:
            words[_country_key(word)] = value
    return words


_CHOICE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "AccountStatus": {
        "prospect": ("lead", "prospecto", "potencial", "opportunity", "oportunidad",
                     "subscriber", "marketing qualified lead", "sales qualified lead",
                     "prospecting", "potential", "nuevo", "new", "suspect"),
        "onboarding": ("alta", "implantacion", "en alta", "onboard", "implementation",
                       "new customer", "nuevo cliente"),
        "active": ("customer", "client", "cliente", "activo", "activa", "evangelist",
                   "customer direct", "customer channel", "partner", "socio", "current",
                   "vigente"),
        "at_risk": ("risk", "en riesgo", "riesgo", "at risk"),
        "churned": ("churn", "perdido", "baja", "ex cliente", "excliente", "former customer",
                    "lost", "inactive", "inactivo", "inactiva", "closed", "cerrado"),
    },
    "Tier": {
        "a": ("a", "1", "hot", "high", "alta", "alto", "gold", "oro", "tier 1", "nivel a"),
        "b": ("b", "2", "warm", "medium", "media", "medio", "silver", "plata", "tier 2"),
        "c": ("c", "3", "cold", "low", "baja", "bajo", "bronze", "bronce", "tier 3"),
    },
    "InteractionKind": {
        "call": ("call", "llamada", "phone", "phone call", "telefono", "llamada telefonica",
                 "logged call", "outgoing call", "incoming call"),
        "email": ("email", "e mail", "correo", "mail", "correo electronico", "logged email"),
        "meeting": ("meeting", "reunion", "visita", "visit", "event", "evento", "cita",
                    "appointment", "video call", "videollamada", "demo"),
        "note": ("note", "nota", "comment", "comentario", "task", "tarea", "other", "otro"),
    },
    "Direction": {
        "outbound": ("outbound", "outgoing", "saliente", "out", "sent", "enviado"),
        "inbound": ("inbound", "incoming", "entrante", "in", "received", "recibido"),
    },
    "BuyingRole": {
        "decision_maker": ("decision maker", "decisor", "economic buyer", "decision"),
        "influencer": ("influencer", "influenciador", "prescriptor", "champion"),
        "user": ("user", "usuario", "end user"),
        "gatekeeper": ("gatekeeper", "filtro", "guardian"),
    },
    "Channel": {
        "email": ("email", "e mail", "correo"),
        "phone": ("phone", "telefono", "call", "llamada"),
        "mobile": ("mobile", "movil", "whatsapp", "sms", "messaging", "mensajeria"),
        "video": ("video", "videollamada", "video call", "zoom", "teams", "meet"),
        "in_person": ("in person", "presencial", "en persona", "visita"),
    },
    "ReportPreference": {
        "detailed": ("detailed", "detallado", "full", "completo"),
        "brief": ("brief", "resumen", "summary", "breve", "short"),
    },
}  # fmt: skip


@lru_cache(maxsize=4096)
def to_choice(value: str, choices: Any) -> str:
    """One of ``choices`` by its value or label (English or Spanish) or a common synonym."""
    words = _choice_words(choices)
    key = _country_key(value)
    found = words.get(key)
    if found is None and " " in key:
        # "Customer - Direct", "Prospect (cold)": the first known word decides.
        for word in key.split():
            if word in words:
                found = words[word]
                break
    if found is None:
        labels = ", ".join(str(label) for _value, label in choices.choices)
        raise ConversionError(_("Unknown value; use one of: %(choices)s.") % {"choices": labels})
    return found


_LANGUAGES = {
    "es": "es", "spanish": "es", "espanol": "es", "castellano": "es", "es es": "es",
    "en": "en", "english": "en", "ingles": "en", "en us": "en", "en gb": "en",
    "fr": "fr", "french": "fr", "frances": "fr", "de": "de", "german": "de", "aleman": "de",
    "it": "it", "italian": "it", "italiano": "it", "pt": "pt", "portuguese": "pt",
    "portugues": "pt", "ca": "ca", "catalan": "ca", "catala": "ca", "eu": "eu",
    "basque": "eu", "euskera": "eu", "gl": "gl", "galician": "gl", "gallego": "gl",
}  # fmt: skip


@lru_cache(maxsize=4096)
def to_language(value: str) -> str:
    """A language name or code as a short code (``"Español"`` → ``"es"``)."""
    key = _country_key(value)
    found = _LANGUAGES.get(key)
    if found:
        return found
    text = clean_text(value, 0)
    if re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,4})?", text):
        return text.lower().replace("_", "-")
    raise ConversionError(_("Write a language name or code, e.g. es or English."))


_URL = re.compile(
    r"^https?://(?:[^\s/@]+@)?(?P<host>[^\s/?#:@]+|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?(?:[/?#]\S*)?$",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^(?!-)[a-z0-9\u00a1-\uffff-]{1,63}(?<!-)$", re.IGNORECASE)


def to_url(value: str, max_length: int) -> str:
    """A website; ``acme.com`` gets ``https://``."""
    text = clean_text(value, max_length)
    if "://" not in text:
        text = f"https://{text}"
    match = _URL.match(text)
    host = match.group("host") if match else ""
    labels = host.rstrip(".").split(".")
    valid = bool(match) and (
        host.startswith("[")
        or host == "localhost"
        or (len(labels) > 1 and all(_LABEL.match(label) for label in labels))
    )
    if not valid:
        raise ConversionError(_("Enter a valid website address."))
    if len(text) > max_length:
        raise ConversionError(
            _("Too long: at most %(max)s characters (this has %(length)s).")
            % {"max": max_length, "length": len(text)}
        )
    return text


#: Plain ASCII addresses, stricter than Django's validator (which checks everything else).
_PLAIN_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def to_email(value: str, max_length: int) -> str:
    """An email address; the domain is lower-cased (``Ana@ACME.es`` → ``Ana@acme.es``)."""
    text = clean_text(value, max_length)
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if not _PLAIN_EMAIL.match(text):  # the common case checked cheaply; the rest by Django
        try:
            validate_email(text)
        except ValidationError as exc:
            raise ConversionError(_("Enter a valid email address.")) from exc
    local, _at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


_PHONE_LIKE = re.compile(r"^[\d\s()+\-./]*(?:(?:ext|ext\.|x|extension|extensión)\s*\d+)?$", re.I)


class ImportedPhoneNumber(PhoneNumber):
    """A phone number read from a file, with its stored text (``_cartera_db_value``) and its
    displayed text (``str()``, which search columns are made of) worked out once, while the
    file is converted (in the reading process), not again per use."""

    _cartera_text: str | None = None

    def __str__(self) -> str:
        text = self._cartera_text
        return text if text is not None else super().__str__()


def to_phone(value: str, region: str | None) -> tuple[Any, bool]:
    """A phone number in any common format, and whether it was valid.

    Without a ``+`` prefix it is read as a number of ``region`` (the row's country, else the
    default region). Phone-like text that is not a valid number there (old numbering plans,
    fictional numbers) is kept as written, with ``False``; anything else is an error.
    """
    text = clean_text(value, 100)
    return _parse_phone(text, region or settings.PHONENUMBER_DEFAULT_REGION, ImportedPhoneNumber)


@lru_cache(maxsize=4096)
def _parse_phone(text: str, region: str, factory: Any) -> tuple[Any, bool]:
    try:
        parsed = phonenumbers.parse(text, region, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
        number = factory()
        number.merge_from(parsed)
        # What the phone field will store: E.164 when valid, else the text as written.
        if phonenumbers.is_valid_number(parsed):
            number._cartera_db_value = phonenumbers.format_number(
                parsed, phonenumbers.PhoneNumberFormat.E164
            )
        else:
            number._cartera_db_value = text
        number._cartera_text = PhoneNumber.__str__(number)
        return number, True
    digits = sum(ch.isdigit() for ch in text)
    if digits >= 5 and _PHONE_LIKE.match(text):
        number = factory(raw_input=text)
        number._cartera_db_value = text
        number._cartera_text = PhoneNumber.__str__(number)
        return number, False
    raise ConversionError(_("Enter a valid phone number."))


def phone_db_value(value: Any) -> str:
    """The text a phone field stores (or stored) for ``value``.

    Imported numbers carry it from ``to_phone()``; numbers read from the database keep the
    stored text as their ``raw_input`` (re-parsing it could read it in another region).
    """
    if value is None or isinstance(value, str):  # never ``not value``: it formats the number
        return value or ""
    cached = getattr(value, "_cartera_db_value", None)
    if cached is not None:
        return str(cached)
    return str(value.raw_input or "")


_DATE_FORMATS_DMY = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d-%m-%y", "%d.%m.%y")
_DATE_FORMATS_MDY = ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y", "%m-%d-%y")
_TIME_FORMATS = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p", ", %I:%M %p")


def to_datetime(value: str, *, day_first: bool = True, tz: Any = None) -> dt.datetime:
    """ISO dates and times, or ``31/12/2024 10:30`` (``12/31/2024 10:30 AM`` when not day-first);
    times without a zone are in ``tz`` (the importing person's)."""
    text = " ".join(value.strip().replace("T", " ").split())
    zone = tz or timezone.get_current_timezone()
    parsed: dt.datetime | None = None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        formats = (
            _DATE_FORMATS_DMY + _DATE_FORMATS_MDY
            if day_first
            else _DATE_FORMATS_MDY + _DATE_FORMATS_DMY
        )
        for date_format in formats:
            for time_format in _TIME_FORMATS:
                try:
                    parsed = dt.datetime.strptime(text, date_format + time_format)
                except ValueError:
                    continue
                break
            if parsed is not None:
                break
    if parsed is None:
        raise ConversionError(_("Enter a date, e.g. 2024-12-31 or 31/12/2024 10:30."))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, zone)
    return parsed


_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hours?|horas?)\s*)?"
    r"(?:(?P<m>\d+(?:[.,]\d+)?)\s*(?:m|min|mins|minutes?|minutos?)?\s*)?"
    r"(?:(?P<s>\d+)\s*(?:s|sec|secs|seconds?|segundos?))?$"
)


def to_duration(value: str) -> int:
    """Minutes from ``"30"``, ``"30 min"``, ``"1:30"``, ``"01:30:00"`` or ``"1h 30m"``."""
    text = normalize(value)
    minutes: float
    if ":" in text:
        parts = text.split(":")
        if not all(part.strip().isdigit() for part in parts) or len(parts) > 3:
            raise ConversionError(_("Write the duration in minutes, e.g. 30 or 1:30."))
        numbers = [int(part) for part in parts]
        hours, mins, secs = [*numbers, 0][:3]
        minutes = hours * 60 + mins + secs / 60
    else:
        match = _DURATION.match(text)
        if match is None or not any(match.groupdict().values()):
            raise ConversionError(_("Write the duration in minutes, e.g. 30 or 1:30."))
        hours_text, mins_text, secs_text = match.group("h"), match.group("m"), match.group("s")
        minutes = float((hours_text or "0").replace(",", ".")) * 60
        minutes += float((mins_text or "0").replace(",", "."))
        minutes += int(secs_text or 0) / 60
    result = round(minutes)
    if result < 0 or result > 100000:
        raise ConversionError(_("Write the duration in minutes, e.g. 30 or 1:30."))
    return result


def split_full_name(value: str) -> tuple[str, str]:
    """First and last name of a full name.

    ``"Ana María Pérez"`` → ``("Ana", "María Pérez")``; ``"Pérez, Ana"`` → ``("Ana", "Pérez")``.
    """
    text = " ".join(value.split())
    if "," in text:
        last, _comma, first = text.partition(",")
        return first.strip(), last.strip()
    first, _space, last = text.partition(" ")
    return first, last


def to_html(value: str, max_length: int) -> str:
    """Rich text kept safe: HTML is cleaned as the timeline editor does; plain text keeps its
    line breaks."""
    from cartera.activities.services import sanitize_html

    text = clean_text(value, max_length)
    if "<" in text and ">" in text:
        return sanitize_html(text)
    return str(linebreaks(escape(text))) if "\n" in text else str(escape(text))


Converter = Callable[[str], Any]


def simple_converter(spec: FieldSpec) -> Converter | None:
    """The converter of a field that needs nothing but the cell (``None``: the engine's)."""
    kind, max_length = spec.type, spec.max_length
    if kind == "text":
        return lambda value: clean_text(value, max_length)
    if kind == "email":
        return lambda value: to_email(value, max_length)
    if kind == "url":
        return lambda value: to_url(value, max_length)
    if kind == "bool":
        return to_bool
    if kind == "country":
        return to_country
    if kind == "industry":
        return to_industry
    if kind == "size":
        return to_size
    if kind == "currency":
        return to_currency
    if kind == "language":
        return to_language
    if kind == "duration":
        return to_duration
    if kind == "html":
        return lambda value: to_html(value, max_length)
    if kind == "choice":
        choices = spec.choices
        return lambda value: to_choice(value, choices)
    return None


def guess_day_first(values: Iterable[str], *, default: bool = True) -> bool:
    """Whether dates like ``03/04/2024`` in ``values`` are day-first (a 13+ first part says so)."""
    for value in values:
        match = re.match(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}", value or "")
        if match is None:
            continue
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second:
            return True
        if second > 12 >= first:
            return False
    return default


def describe_mapping(kind: str, mapping: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(header, field label)`` of each mapped column, for summaries."""
    labels = {spec.name: str(spec.label) for spec in FIELDS[kind]}
    return [(header, labels.get(field, field)) for header, field in mapping.items() if field]
