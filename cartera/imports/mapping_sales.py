"""Fields, header dictionary and required columns of the pipeline kinds: people and teams,
products, opportunities, leads.

They are registered into ``mapping.py``'s tables (``FIELDS``, ``MATCH_KEYS``, ``DICTIONARY``…)
by :func:`register`, which ``ImportsConfig.ready()`` calls, so the rest of the import (upload,
mapping page, API, ``cartera import``) treats them like the other kinds.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartera.catalog.models import Unit
from cartera.leads.models import LeadSource
from cartera.sales.models import OpportunityType
from cartera.users.models import Role

from . import mapping as mp
from .models import ImportKind

FieldSpec = mp.FieldSpec

USER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("full_name", gettext_lazy("Full name"), "text", 150, attribute="full_name"),
    FieldSpec("email", gettext_lazy("Email"), "email", 254, attribute="email"),
    FieldSpec("role", gettext_lazy("Role"), "choice", choices=Role, attribute="role"),
    FieldSpec("manager", gettext_lazy("Manager (full name or email)"), "text", 254),
    FieldSpec("team", gettext_lazy("Team"), "text", 120),
    FieldSpec("office", gettext_lazy("Regional office (of the team)"), "text", 120),
    FieldSpec(
        "email_domain", gettext_lazy("Domain of the emails made up for people without one"), "text"
    ),
)

PRODUCT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("sku", gettext_lazy("SKU"), "text", 64, attribute="sku"),
    FieldSpec("name", gettext_lazy("Name"), "text", 200, attribute="name"),
    FieldSpec("family", gettext_lazy("Family / series"), "text", 100, attribute="family"),
    FieldSpec("description", gettext_lazy("Description"), "text", 5000, attribute="description"),
    FieldSpec("unit", gettext_lazy("Unit"), "choice", choices=Unit, attribute="unit"),
    FieldSpec("tax_rate", gettext_lazy("Tax rate (%)"), "percent", attribute="tax_rate"),
    FieldSpec("is_active", gettext_lazy("Active"), "bool", attribute="is_active"),
    FieldSpec("price", gettext_lazy("List price"), "money"),
    FieldSpec("currency", gettext_lazy("Currency of the price"), "currency"),
)

OPPORTUNITY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("external_id", gettext_lazy("External id"), "text", 100, attribute="external_id"),
    FieldSpec("name", gettext_lazy("Name"), "text", 200, attribute="name"),
    FieldSpec("owner", gettext_lazy("Owner (full name or email)"), "user"),
    FieldSpec("account", gettext_lazy("Account (name, website domain or external id)"), "account"),
    FieldSpec("product", gettext_lazy("Product (name or SKU)"), "product"),
    FieldSpec("pipeline", gettext_lazy("Pipeline"), "text", 120),
    FieldSpec("stage", gettext_lazy("Stage"), "text", 80),
    FieldSpec("type", gettext_lazy("Type"), "choice", choices=OpportunityType, attribute="type"),
    FieldSpec("amount", gettext_lazy("Amount (close value)"), "money", attribute="amount"),
    FieldSpec("currency", gettext_lazy("Currency"), "currency", attribute="currency"),
    FieldSpec("engaged_on", gettext_lazy("Engaged on (date)"), "datetime"),
    FieldSpec("closed_on", gettext_lazy("Closed on (date)"), "datetime", attribute="closed_on"),
    FieldSpec(
        "expected_close_date",
        gettext_lazy("Expected close date"),
        "datetime",
        attribute="expected_close_date",
    ),
    FieldSpec("next_step", gettext_lazy("Next step"), "text", 255, attribute="next_step"),
    FieldSpec("description", gettext_lazy("Description"), "text", 10000, attribute="description"),
)

LEAD_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("external_id", gettext_lazy("External id"), "text", 100, attribute="external_id"),
    FieldSpec("company", gettext_lazy("Company"), "text", 200, attribute="company"),
    FieldSpec("first_name", gettext_lazy("First name"), "text", 100, attribute="first_name"),
    FieldSpec("last_name", gettext_lazy("Last name"), "text", 150, attribute="last_name"),
    FieldSpec("full_name", gettext_lazy("Full name"), "full_name", 250),
    FieldSpec("job_title", gettext_lazy("Job title"), "text", 150, attribute="job_title"),
    FieldSpec("email", gettext_lazy("Email"), "email", 254, attribute="email"),
    FieldSpec("phone", gettext_lazy("Phone"), "phone", attribute="phone"),
    FieldSpec("website", gettext_lazy("Website"), "url", 300, attribute="website"),
    FieldSpec("tax_id", gettext_lazy("Tax id"), "text", 40, attribute="tax_id"),
    FieldSpec("country", gettext_lazy("Country"), "country", attribute="country"),
    FieldSpec("industry", gettext_lazy("Industry"), "industry", attribute="industry"),
    FieldSpec("size", gettext_lazy("Size (employees)"), "size", attribute="size"),
    FieldSpec("source", gettext_lazy("Source"), "choice", choices=LeadSource, attribute="source"),
    FieldSpec("notes", gettext_lazy("Research notes"), "text", 10000, attribute="notes"),
    FieldSpec("owner", gettext_lazy("Owner (full name or email)"), "user"),
)

#: Fields of type "datetime" above that hold a date (the engine reads them as dates).
DATE_FIELDS = frozenset({"engaged_on", "closed_on", "expected_close_date"})

_w = mp._words  # the header dictionary's own spelling of synonyms

DICTIONARY: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {
    ImportKind.USERS: {
        "full_name": (
            _w(
                "sales_agent | Sales agent | Agent | Full name | Name | Nombre | Nombre completo | "
                "Sales rep | Rep | Comercial | Vendedor | Employee | Empleado | User | Usuario"
            ),
        ),
        "email": (_w("Email | E-mail | Email address | Correo | Correo electrónico"),),
        "role": (_w("Role | Rol"),),
        "manager": (
            _w(
                "manager | Manager | Sales manager | Reports to | ReportsTo | Jefe | Responsable | "
                "Supervisor | Manager name"
            ),
        ),
        "team": (_w("Team | Sales team | Equipo | Team name"),),
        "office": (
            _w(
                "regional_office | Regional office | Office | Oficina | Delegación | Territory | "
                "Territorio | Region | Región"
            ),
        ),
        "email_domain": (_w("Email domain | Dominio"),),
    },
    ImportKind.PRODUCTS: {
        "sku": (
            _w(
                "SKU | Product code | Product Code | Código | Código de producto | Ref | "
                "Referencia | Item code | Part number | ProductID | Product ID"
            ),
        ),
        "name": (
            _w(
                "product | Product | Product name | ProductName | Name | Nombre | Producto | "
                "Artículo | Item | Item name"
            ),
        ),
        "family": (
            _w(
                "series | Series | Family | Product family | Familia | Category | Categoría | Línea"
            ),
        ),
        "description": (_w("Description | Descripción | Product description"),),
        "unit": (_w("Unit | Unidad | Unit of measure | UoM"),),
        "tax_rate": (_w("Tax rate | Tax | VAT rate | VAT | IVA | % IVA | Tipo de IVA | Impuesto"),),
        "is_active": (_w("Active | Activo | Is active"),),
        "price": (
            _w(
                "sales_price | Sales price | List price | Price | Unit price | UnitPrice | "
                "Precio | PVP | Precio unitario | Precio de venta | Tarifa"
            ),
        ),
        "currency": (_w("Currency | Moneda | Divisa"),),
    },
    ImportKind.OPPORTUNITIES: {
        "external_id": (
            _w(
                "opportunity_id | Opportunity ID | Deal ID | Record ID | External ID | ID "
                "externo | ID | Id"
            ),
        ),
        "name": (
            _w(
                "Opportunity name | Opportunity Name | Deal name | Deal Name | Name | Nombre | "
                "Oportunidad | Nombre de la oportunidad"
            ),
        ),
        "owner": (
            _w(
                "sales_agent | Sales agent | Owner | Opportunity Owner | Deal owner | Deal Owner | "
                "Agent | Comercial | Vendedor | Responsable | Propietario"
            ),
        ),
        "account": (mp._ACCOUNT_REFS,),
        "product": (_w("product | Product | Producto | Product name | Products"),),
        "pipeline": (_w("Pipeline | Embudo"),),
        "stage": (_w("deal_stage | Deal stage | Stage | Deal Stage | Etapa | Fase | Estado"),),
        "type": (_w("Type | Opportunity type | Deal type | Tipo"),),
        "amount": (
            _w("close_value | Close value | Amount | Deal value | Value | Importe | Valor | Total"),
        ),
        "currency": (_w("Currency | Moneda | Divisa"),),
        "engaged_on": (
            _w(
                "engage_date | Engage date | Engaged on | Created date | Create Date | Fecha de "
                "creación | Fecha de alta"
            ),
        ),
        "closed_on": (_w("close_date | Closed on | Closed date | Fecha de cierre | Closed"),),
        "expected_close_date": (
            _w("Expected close date | Fecha prevista de cierre | Fecha prevista"),
        ),
        "next_step": (_w("Next step | Next Step | Siguiente paso | Próximo paso"),),
        "description": (_w("Description | Descripción | Notes | Notas"),),
    },
    ImportKind.LEADS: {
        "external_id": (_w("Lead ID | Record ID | External ID | ID externo | ID | Id"),),
        "company": (
            _w(
                "Company | Company name | Company Name | Empresa | Organization | Organisation | "
                "Organización | Account | Account Name | Cliente | Razón social"
            ),
        ),
        "first_name": (_w("First name | First Name | FirstName | Nombre | Given name"),),
        "last_name": (_w("Last name | Last Name | LastName | Apellidos | Apellido | Surname"),),
        "full_name": (_w("Full name | Name | Contact | Contact name | Persona | Nombre completo"),),
        "job_title": (_w("Job title | Job Title | Title | Cargo | Puesto | Position"),),
        "email": (_w("Email | E-mail | Email address | Correo | Correo electrónico"),),
        "phone": (_w("Phone | Phone Number | Teléfono | Telefono | Tel | Móvil | Mobile"),),
        "website": (_w("Website | Website URL | Web | Sitio web | Domain | Company Domain Name"),),
        "tax_id": (_w("Tax ID | VAT | VAT number | NIF | CIF | NIF/CIF"),),
        "country": (_w("Country | Country/Region | País | Pais"),),
        "industry": (_w("Industry | Sector | Industria"),),
        "size": (_w("Size | Employees | Number of Employees | Company size | Empleados | Tamaño"),),
        "source": (_w("Source | Lead Source | Lead source | Origen | Fuente | Original Source"),),
        "notes": (_w("Notes | Notas | Description | Descripción | Research notes | Comments"),),
        "owner": (
            _w("Owner | Lead Owner | Contact owner | Assigned to | Propietario | Comercial"),
        ),
    },
}


def _required_leads(fields: set[str]) -> list[str]:
    if not fields & {"company", "first_name", "last_name", "full_name", "email"}:
        return [str(_("Map a column to the lead's company, name or email."))]
    return []


def _required_users(fields: set[str]) -> list[str]:
    if not fields & {"full_name", "email"}:
        return [str(_("Map a column to the person's full name or email."))]
    return []


def _required_products(fields: set[str]) -> list[str]:
    if not fields & {"name", "sku"}:
        return [str(_("Map a column to the product's name or SKU."))]
    return []


def _required_opportunities(fields: set[str]) -> list[str]:
    if "stage" not in fields:
        return [str(_("Map a column to the opportunity's stage."))]
    return []


def register() -> None:
    """Add the pipeline kinds to ``mapping.py``'s tables (idempotent)."""
    mp.FIELDS.update(
        {
            ImportKind.USERS: USER_FIELDS,
            ImportKind.PRODUCTS: PRODUCT_FIELDS,
            ImportKind.OPPORTUNITIES: OPPORTUNITY_FIELDS,
            ImportKind.LEADS: LEAD_FIELDS,
        }
    )
    mp.MATCH_KEYS.update(
        {
            ImportKind.USERS: ("email", "name"),
            ImportKind.PRODUCTS: ("sku", "name"),
            ImportKind.OPPORTUNITIES: ("external_id", "name"),
            ImportKind.LEADS: ("external_id", "email"),
        }
    )
    mp.DEFAULT_MATCH_ORDER.update(
        {
            ImportKind.USERS: ["email", "name"],
            ImportKind.PRODUCTS: ["sku", "name"],
            ImportKind.OPPORTUNITIES: ["external_id"],
            ImportKind.LEADS: ["external_id", "email"],
        }
    )
    mp.MATCH_KEY_LABELS.setdefault("sku", gettext_lazy("SKU"))
    mp.MATCH_KEY_FIELDS.update(
        {
            ImportKind.USERS: {"email": ("email",), "name": ("full_name",)},
            ImportKind.PRODUCTS: {"sku": ("sku",), "name": ("name",)},
            ImportKind.OPPORTUNITIES: {"external_id": ("external_id",), "name": ("name",)},
            ImportKind.LEADS: {"external_id": ("external_id",), "email": ("email",)},
        }
    )
    mp.DICTIONARY.update(DICTIONARY)
    mp.REQUIRED_FIRST.update(
        {
            ImportKind.USERS: ("full_name",),
            ImportKind.PRODUCTS: ("name",),
            ImportKind.OPPORTUNITIES: ("stage", "owner"),
            ImportKind.LEADS: ("company",),
        }
    )
    mp.EXTRA_REQUIRED.update(
        {
            ImportKind.USERS: _required_users,
            ImportKind.PRODUCTS: _required_products,
            ImportKind.OPPORTUNITIES: _required_opportunities,
            ImportKind.LEADS: _required_leads,
        }
    )


def check_domain(value: str) -> str:
    """An email domain (``example.com``), or ``ConversionError``."""
    text = value.strip().lower().lstrip("@")
    try:
        mp.to_email(f"x@{text}", 254)
    except mp.ConversionError as error:
        raise mp.ConversionError(
            _("%(value)s is not an email domain (like example.com).") % {"value": value}
        ) from error
    return text
