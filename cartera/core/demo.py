"""A deterministic, bilingual demo book of business (``cartera demo``).

Two teams share the demo: "Iberia" looks after Spanish-speaking accounts (Spain and Latin
America, names from Faker's ``es_ES``) and "North America" after English-speaking ones
(``en_US``). Every persona sees a realistic book through the normal access rules.

Rows are bulk-inserted for speed (a couple of seconds for 200 accounts, 1,000 contacts and
5,000 interactions); then a few dozen changes go through the services, as people would make them,
so History tabs show real audit entries with their actors.
"""

from __future__ import annotations

import gc
import itertools
import math
import multiprocessing
import os
import random
import re
import time as time_module
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import phonenumbers
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.html import escape
from faker import Faker
from phonenumber_field.phonenumber import PhoneNumber

from cartera.accounts.models import (
    DERIVED_FIELDS,
    Account,
    AccountStatus,
    AccountTeamMember,
    CompanySize,
    Industry,
    Tag,
    TeamRole,
    Tier,
)
from cartera.accounts.services import set_team_member, trash_account, update_account
from cartera.activities.models import Direction, Interaction, InteractionKind
from cartera.activities.services import log_interaction
from cartera.catalog.models import PriceList, PriceListItem, Product, Segment, Unit
from cartera.contacts.models import (
    BuyingRole,
    Channel,
    Contact,
    ContactAccount,
    ReportPreference,
)
from cartera.contacts.services import create_contact, trash_contact, update_contact
from cartera.core.audit import audited
from cartera.core.bulk import (
    BulkInserter,
    indexes_built_after,
    instance_factory,
    next_free_id,
    reset_sequences,
)
from cartera.core.text import normalize
from cartera.sales.models import (
    ContactRole,
    LossReason,
    Opportunity,
    OpportunityContact,
    OpportunityLine,
    OpportunityType,
    Stage,
    StageChange,
    StageKind,
)
from cartera.sales.rollups import rebuild as rebuild_rollups
from cartera.sales.services import ensure_default_pipeline
from cartera.users.models import Role, User
from cartera.users.services import create_team, create_user, update_team

DEMO_PASSWORD = "Cartera-Demo-2025"
DEFAULT_SEED = 2025
DEFAULT_ACCOUNTS = 200
DEFAULT_CONTACTS = 1000
DEFAULT_INTERACTIONS = 5000
DEFAULT_OPPORTUNITIES = 150
HISTORY_DAYS = 548  # about 18 months of timeline

IBERIA = "Iberia"
NORTH_AMERICA = "North America"


@dataclass(frozen=True)
class Persona:
    """A demo login."""

    key: str
    full_name: str
    role: str
    team: str | None
    login: str = ""

    @property
    def email(self) -> str:
        """``login@cartera.example``, or first.last@ from the name."""
        local = self.login or normalize(self.full_name).replace(" ", ".")
        return f"{local}@cartera.example"

    @property
    def language(self) -> str:
        """The North America team works in English, everyone else in Spanish."""
        return "en" if self.team == NORTH_AMERICA else "es"

    @property
    def time_zone(self) -> str:
        """Where the persona works."""
        return "America/New_York" if self.team == NORTH_AMERICA else "Europe/Madrid"


PERSONAS: tuple[Persona, ...] = (
    Persona("admin", "Adriana Salas", Role.ADMIN, None, login="admin"),
    Persona("director", "Diego Ferrer", Role.DIRECTOR, None, login="director"),
    Persona("iberia_manager", "Marta Iglesias", Role.MANAGER, IBERIA),
    Persona("iberia_kam", "Lucía Romero", Role.ACCOUNT_MANAGER, IBERIA),
    Persona("iberia_account_manager", "Javier Ortega", Role.ACCOUNT_MANAGER, IBERIA),
    Persona("iberia_coordinator", "Carmen Vidal", Role.COORDINATOR, IBERIA),
    Persona("iberia_rep", "Pablo Navarro", Role.SALES_REP, IBERIA),
    Persona("read_only", "Rosa Molina", Role.READ_ONLY, IBERIA),
    Persona("north_america_manager", "Michael Carter", Role.MANAGER, NORTH_AMERICA),
    Persona("north_america_kam", "Emily Johnson", Role.ACCOUNT_MANAGER, NORTH_AMERICA),
    Persona("north_america_account_manager", "David Miller", Role.ACCOUNT_MANAGER, NORTH_AMERICA),
    Persona("north_america_coordinator", "Sarah Thompson", Role.COORDINATOR, NORTH_AMERICA),
    Persona("north_america_rep", "Kevin Brooks", Role.SALES_REP, NORTH_AMERICA),
)


@dataclass(frozen=True)
class Country:
    """Where demo accounts are, and what that implies for their data."""

    code: str
    language: str
    currency: str
    rate: Decimal  # units of the currency per euro, roughly
    tld: str
    cities: tuple[tuple[str, str], ...]  # (city, region)


COUNTRIES: dict[str, Country] = {
    country.code: country
    for country in (
        Country("ES", "es", "EUR", Decimal(1), "es", (
            ("Madrid", "Madrid"), ("Barcelona", "Barcelona"), ("Valencia", "Valencia"),
            ("Sevilla", "Sevilla"), ("Zaragoza", "Zaragoza"), ("Málaga", "Málaga"),
            ("Bilbao", "Bizkaia"), ("A Coruña", "A Coruña"), ("Córdoba", "Córdoba"),
            ("Valladolid", "Valladolid"), ("Vigo", "Pontevedra"), ("Gijón", "Asturias"),
            ("Pamplona", "Navarra"), ("Logroño", "La Rioja"), ("León", "León"),
        )),
        Country("MX", "es", "MXN", Decimal(20), "com.mx", (
            ("Ciudad de México", "CDMX"), ("Guadalajara", "Jalisco"),
            ("Monterrey", "Nuevo León"), ("Querétaro", "Querétaro"), ("Mérida", "Yucatán"),
        )),
        Country("AR", "es", "ARS", Decimal(1000), "com.ar", (
            ("Buenos Aires", "CABA"), ("Córdoba", "Córdoba"), ("Rosario", "Santa Fe"),
            ("Mendoza", "Mendoza"),
        )),
        Country("CO", "es", "COP", Decimal(4500), "com.co", (
            ("Bogotá", "Cundinamarca"), ("Medellín", "Antioquia"), ("Cali", "Valle del Cauca"),
            ("Barranquilla", "Atlántico"),
        )),
        Country("CL", "es", "CLP", Decimal(1000), "cl", (
            ("Santiago", "Región Metropolitana"), ("Valparaíso", "Valparaíso"),
            ("Concepción", "Biobío"),
        )),
        Country("US", "en", "USD", Decimal("1.1"), "com", (
            ("New York", "NY"), ("Chicago", "IL"), ("Austin", "TX"), ("Boston", "MA"),
            ("Seattle", "WA"), ("Atlanta", "GA"), ("Denver", "CO"), ("San Diego", "CA"),
            ("Miami", "FL"), ("Minneapolis", "MN"),
        )),
        Country("CA", "en", "CAD", Decimal("1.5"), "ca", (
            ("Toronto", "ON"), ("Vancouver", "BC"), ("Calgary", "AB"),
        )),
        Country("GB", "en", "GBP", Decimal("0.85"), "co.uk", (
            ("London", "Greater London"), ("Manchester", "Greater Manchester"),
            ("Bristol", "Bristol"), ("Edinburgh", "Scotland"),
        )),
        Country("IE", "en", "EUR", Decimal(1), "ie", (("Dublin", "Leinster"), ("Cork", "Munster"))),
    )
}  # fmt: skip
SPANISH_COUNTRIES = (("ES", 64), ("MX", 14), ("CO", 9), ("AR", 8), ("CL", 5))
ENGLISH_COUNTRIES = (("US", 70), ("GB", 15), ("CA", 10), ("IE", 5))

TAGS = (
    "QBR", "VIP", "partner", "upsell", "pilot", "reseller", "renovación 2026", "referencia",
    "sector público", "expansión LATAM", "cross-sell", "multi-year",
)  # fmt: skip

SECTOR_WORDS = {
    "es": ("Logística", "Distribución", "Alimentación", "Energía", "Consultores",
           "Tecnología", "Construcciones", "Farmacéutica", "Comunicación", "Seguros",
           "Transportes", "Ingeniería", "Educación", "Software", "Hostelería"),
    "en": ("Logistics", "Foods", "Energy", "Consulting", "Technologies", "Health",
           "Media", "Analytics", "Manufacturing", "Capital", "Software", "Supply",
           "Learning", "Systems", "Partners"),
}  # fmt: skip
LEGAL_SUFFIXES = {
    "ES": ("S.L.", "S.A."),
    "MX": ("S.A. de C.V.",),
    "AR": ("S.R.L.", "S.A."),
    "CO": ("S.A.S.",),
    "CL": ("SpA", "Ltda."),
    "US": ("Inc.", "LLC", "Corp."),
    "CA": ("Inc.", "Ltd."),
    "GB": ("Ltd", "plc"),
    "IE": ("Ltd", "DAC"),
}
JOB_TITLES = {
    "es": ("Director de Compras", "Directora Financiera", "Responsable de Marketing",
           "Jefa de Operaciones", "Director General", "Responsable de Logística",
           "Técnico de Compras", "Directora de Recursos Humanos", "Responsable de IT",
           "Gerente Comercial", "Coordinadora de Proyectos", "Administración"),
    "en": ("Head of Procurement", "Chief Financial Officer", "Marketing Manager",
           "VP Operations", "Chief Executive Officer", "Supply Chain Manager",
           "Purchasing Specialist", "HR Director", "IT Manager", "Sales Director",
           "Project Coordinator", "Office Manager"),
}  # fmt: skip
SPECIAL_REQUESTS = {
    "es": ("Prefiere reuniones por la mañana, nunca los viernes.",
           "Enviar los informes en PDF antes del lunes a las 9:00.",
           "Quiere un resumen breve; el detalle solo si lo pide.",
           "Facturas siempre con número de pedido.",
           "Llamar al móvil solo en urgencias.",
           "Prefiere tratar de usted y por correo."),
    "en": ("Prefers calls after 3 pm Eastern.",
           "Send the monthly report as a one-page summary.",
           "Always copy the procurement mailbox on quotes.",
           "Invoices must quote the PO number.",
           "No calls on Fridays; email first.",
           "Wants a detailed usage report before each QBR."),
}  # fmt: skip


SUBJECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        InteractionKind.CALL: (
            "Llamada de seguimiento", "Llamada con {first}: revisión de pedidos",
            "Llamada sobre la renovación del contrato", "Consulta sobre facturación",
            "Llamada de bienvenida", "Llamada para preparar la QBR",
            "Incidencia en la entrega: llamada con {first}",
        ),
        InteractionKind.EMAIL: (
            "Envío de propuesta actualizada", "Resumen de la reunión",
            "Presupuesto para {topic}", "Respuesta a la consulta de {first}",
            "Confirmación de pedido", "Informe mensual de resultados",
            "Documentación del contrato",
        ),
        InteractionKind.MEETING: (
            "Revisión trimestral de negocio (QBR)", "Reunión de arranque del proyecto",
            "Visita a las oficinas de {city}", "Presentación de la nueva gama",
            "Reunión de planificación anual", "Formación para el equipo de {first}",
        ),
        InteractionKind.NOTE: (
            "Nota interna: cambios en el equipo de compras",
            "El cliente valora la rapidez de respuesta", "Competidores activos en {city}",
            "Posible venta cruzada", "Preparar informe detallado para dirección",
        ),
    },
    "en": {
        InteractionKind.CALL: (
            "Follow-up call", "Call with {first}: order review", "Contract renewal call",
            "Billing question", "Welcome call", "QBR preparation call",
            "Delivery issue: call with {first}",
        ),
        InteractionKind.EMAIL: (
            "Updated proposal sent", "Meeting recap", "Quote for {topic}",
            "Reply to {first}'s question", "Order confirmation", "Monthly performance report",
            "Contract paperwork",
        ),
        InteractionKind.MEETING: (
            "Quarterly business review", "Project kick-off meeting", "On-site visit in {city}",
            "New product line presentation", "Annual planning session",
            "Training for {first}'s team",
        ),
        InteractionKind.NOTE: (
            "Internal note: procurement team changes", "Client values our response times",
            "Competitors active in {city}", "Cross-sell opportunity", "Prepare exec summary",
        ),
    },
}  # fmt: skip
TOPICS = {
    "es": ("la renovación anual", "la ampliación de licencias", "el nuevo catálogo",
           "las condiciones de pago", "el plan de cuenta", "la campaña de primavera",
           "el proyecto de integración", "los plazos de entrega"),
    "en": ("the annual renewal", "additional licences", "the new catalogue", "payment terms",
           "the account plan", "the spring campaign", "the integration project",
           "delivery lead times"),
}  # fmt: skip
MOODS = {
    "es": ("Muy buena disposición.", "Les preocupan los plazos.",
           "Quieren compararlo con otra oferta.", "Están satisfechos con el servicio.",
           "Piden mejorar el precio."),
    "en": ("Very positive.", "Worried about timelines.", "Comparing us with another offer.",
           "Happy with the service.", "Asking for a better price."),
}  # fmt: skip
NEXT_STEPS = {
    "es": ("enviar presupuesto revisado antes del viernes", "agendar la QBR con dirección",
           "preparar un informe detallado de consumo", "confirmar fechas de formación",
           "revisar condiciones con finanzas", "volver a llamar en dos semanas"),
    "en": ("send the revised quote by Friday", "book the QBR with their leadership",
           "prepare a detailed usage report", "confirm training dates",
           "review terms with finance", "call again in two weeks"),
}  # fmt: skip
BODIES = {
    "es": (
        "<p>Hablamos con {contact} sobre {topic}. {mood}</p>"
        "<p><strong>Próximo paso:</strong> {next}.</p>",
        "<p>{contact} pidió más detalle sobre {topic}.</p><ul><li>{next}</li><li>{next2}</li></ul>",
        "<p>{mood} Acordamos {next}.</p>",
    ),
    "en": (
        "<p>Spoke with {contact} about {topic}. {mood}</p>"
        "<p><strong>Next step:</strong> {next}.</p>",
        "<p>{contact} asked for more detail on {topic}.</p>"
        "<ul><li>{next}</li><li>{next2}</li></ul>",
        "<p>{mood} We agreed to {next}.</p>",
    ),
}  # fmt: skip
AFTER_STATUS_CALL = {"es": "Llamada tras el cambio de estado", "en": "Call after the status change"}


LEGAL_WORDS = re.compile(
    r"(\s+(S\.[\w.]*|de C\.V\.|SpA|Ltda\.|Inc\.?|LLC|Corp\.|Ltd|plc|DAC|and Sons|Group|PLC))+$"
)


def base_name(name: str) -> str:
    """A company name without its legal form: "Grupo Ruiz S.L." → "Grupo Ruiz"."""
    return LEGAL_WORDS.sub("", name).rstrip(" ,") or name


def domain_for(name: str, tld: str) -> str:
    """A made-up web domain from a company name (not a real company's)."""
    slug = re.sub(r"[^a-z0-9]+", "", normalize(base_name(name)))
    return f"{slug[:24] or 'empresa'}.{tld}"


@dataclass
class DemoSummary:
    """What ``seed_demo`` created."""

    users: int = 0
    teams: int = 0
    accounts: int = 0
    contacts: int = 0
    interactions: int = 0
    opportunities: int = 0
    service_edits: int = 0
    personas: dict[str, User] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per table (big demos)


@dataclass
class _DemoAccount:
    """An account being built, with what the later steps need to know about it."""

    account: Account
    language: str
    domain: str
    team: str
    members: list[User] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    weight: float = 1.0


class _Builder:
    """Holds the seeded randomness and the rows made so far."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.fakers = {"es": Faker("es_ES"), "en": Faker("en_US")}
        for faker in self.fakers.values():
            faker.seed_instance(seed)
        # Anchored to today so one seed gives the same book all day long.
        self.now = timezone.make_aware(datetime.combine(timezone.localdate(), time(18, 0)))
        self.personas: dict[str, User] = {}
        self.names: set[str] = set()
        self.emails: set[str] = set()
        self.phone_examples: dict[tuple[str, int], phonenumbers.PhoneNumber] = {}

    # --- small generators -------------------------------------------------------------------

    def pick(self, options: Sequence[Any]) -> Any:
        """One of ``options``."""
        return options[self.rng.randrange(len(options))]

    def weighted(self, pairs: Sequence[tuple[Any, float]]) -> Any:
        """One value of ``(value, weight)`` pairs."""
        values, weights = zip(*pairs, strict=True)
        return self.rng.choices(values, weights=weights)[0]

    def ago(self, low_days: float, high_days: float) -> datetime:
        """A moment between ``high_days`` and ``low_days`` before the demo's now."""
        return self.now - timedelta(seconds=self.rng.uniform(low_days, high_days) * 86400)

    def phone(self, region: str, mobile: bool) -> str:
        """A number valid for ``region``: its example's first digit, random others, validated."""
        kind = (
            phonenumbers.PhoneNumberType.MOBILE
            if mobile
            else phonenumbers.PhoneNumberType.FIXED_LINE
        )
        example = self.phone_examples.get((region, kind))
        if example is None:
            found = phonenumbers.example_number_for_type(region, kind)
            if found is None:
                raise ValueError(f"phonenumbers has no example number for {region}")
            example = self.phone_examples[(region, kind)] = found
        # Geographic or mobile numbers only: no premium, toll-free or shared-cost ones.
        wanted = {kind, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
        national = str(example.national_number)
        for attempt in range(40):
            # Vary almost every digit first; then stay closer to the example's prefix.
            keep = (1 if len(national) > 8 else 2) if attempt < 20 else len(national) - 6
            digits = "".join(str(self.rng.randrange(10)) for _ in range(len(national) - keep))
            number = phonenumbers.parse(f"+{example.country_code}{national[:keep]}{digits}")
            if (
                phonenumbers.is_valid_number_for_region(number, region)
                and phonenumbers.number_type(number) in wanted
            ):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)

    def unique_name(self, name: str, city: str) -> str:
        """``name``, or with its city (then a number) when another account already has it."""
        candidate, counter = name, 1
        while normalize(candidate) in self.names:
            counter += 1
            candidate = f"{name} ({city})" if counter == 2 else f"{name} {counter}"
        self.names.add(normalize(candidate))
        return candidate

    def unique_email(self, local: str, domain: str) -> str:
        """An address at ``domain`` no other demo contact has."""
        local = re.sub(r"[^a-z0-9.]+", "", normalize(local).replace(" ", "."))[:40] or "contacto"
        candidate, counter = f"{local}@{domain}", 1
        while candidate in self.emails:
            counter += 1
            candidate = f"{local}{counter}@{domain}"
        self.emails.add(candidate)
        return candidate

    # --- people -------------------------------------------------------------------------------

    def people(self) -> tuple[int, int]:
        """The personas and their two teams (through the services: their history is real)."""
        first = PERSONAS[0]
        admin = create_user(
            actor=None,
            data={
                "email": first.email,
                "full_name": first.full_name,
                "role": first.role,
                "language": first.language,
                "time_zone": first.time_zone,
            },
            password=DEMO_PASSWORD,
        )
        self.personas[first.key] = admin
        teams = {
            name: create_team(actor=admin, data={"name": name}) for name in (IBERIA, NORTH_AMERICA)
        }
        with audited(admin):
            for persona in PERSONAS[1:]:
                user = User(
                    email=persona.email,
                    full_name=persona.full_name,
                    role=persona.role,
                    team=teams[persona.team] if persona.team else None,
                    language=persona.language,
                    time_zone=persona.time_zone,
                    # One hash for everybody: hashing a dozen times would dominate seeding.
                    password=admin.password,
                )
                user.save()
                self.personas[persona.key] = user
        update_team(
            actor=admin, team=teams[IBERIA], changes={"manager": self.personas["iberia_manager"]}
        )
        update_team(
            actor=admin,
            team=teams[NORTH_AMERICA],
            changes={"manager": self.personas["north_america_manager"]},
        )
        return len(PERSONAS), len(teams)

    def team_people(self, team: str) -> dict[str, User]:
        """The team's personas by job: manager, kam, account_manager, coordinator, rep."""
        prefix = "iberia" if team == IBERIA else "north_america"
        return {
            job: self.personas[f"{prefix}_{job}"]
            for job in ("manager", "kam", "account_manager", "coordinator", "rep")
        }

    # --- accounts -----------------------------------------------------------------------------

    def company_name(self, language: str, country: str) -> str:
        """A plausible company name in the account's language."""
        faker = self.fakers[language]
        suffix = self.pick(LEGAL_SUFFIXES[country])
        sector = self.pick(SECTOR_WORDS[language])
        style = self.rng.randrange(5)
        if style == 0:
            return str(faker.company())
        if style == 1:
            return f"{faker.last_name()} {sector} {suffix}"
        if style == 2:
            return f"{sector} {faker.last_name()} {suffix}"
        joiner = "y" if language == "es" else "&"
        if style == 3:
            return f"{faker.last_name()} {joiner} {faker.last_name()} {suffix}"
        return f"{faker.last_name()} {sector}"

    def new_account(
        self,
        language: str,
        country_code: str,
        *,
        name: str | None = None,
        parent: Account | None = None,
        tier: str | None = None,
    ) -> _DemoAccount:
        """An unsaved account with realistic fields, owned according to the team's jobs."""
        country = COUNTRIES[country_code]
        faker = self.fakers[language]
        city, region = self.pick(country.cities)
        name = self.unique_name(name or self.company_name(language, country_code), city)
        domain = domain_for(name, country.tld)
        tier = tier or self.weighted([(Tier.A, 15), (Tier.B, 35), (Tier.C, 50)])
        status = self.weighted(
            [
                (AccountStatus.ACTIVE, 52),
                (AccountStatus.PROSPECT, 16),
                (AccountStatus.ONBOARDING, 8),
                (AccountStatus.AT_RISK, 14),
                (AccountStatus.CHURNED, 10),
            ]
        )
        if tier == Tier.A and status in {AccountStatus.PROSPECT, AccountStatus.CHURNED}:
            status = AccountStatus.ACTIVE
        size: str = {
            Tier.A.value: self.pick([CompanySize.LARGE, CompanySize.ENTERPRISE, CompanySize.HUGE]),
            Tier.B.value: self.pick([CompanySize.MEDIUM, CompanySize.LARGE]),
            Tier.C.value: self.pick([CompanySize.MICRO, CompanySize.SMALL, CompanySize.MEDIUM]),
        }[tier]
        revenue_eur = {
            Tier.A.value: self.rng.uniform(40e6, 600e6),
            Tier.B.value: self.rng.uniform(5e6, 60e6),
            Tier.C.value: self.rng.uniform(0.2e6, 8e6),
        }[tier]
        team = IBERIA if language == "es" else NORTH_AMERICA
        jobs = self.team_people(team)
        if status == AccountStatus.PROSPECT:
            owner = self.weighted([(jobs["rep"], 70), (jobs["account_manager"], 30)])
        elif tier == Tier.A:
            owner = self.weighted([(jobs["kam"], 75), (jobs["manager"], 25)])
        else:
            owner = self.weighted(
                [
                    (jobs["account_manager"], 60),
                    (jobs["kam"], 15),
                    (jobs["rep"], 15),
                    (jobs["manager"], 10),
                ]
            )
        created_at = self.ago(10, 180) if status == AccountStatus.PROSPECT else self.ago(560, 1500)
        account = Account(
            name=name,
            legal_name=name if self.rng.random() < 0.7 else "",
            tax_id=self.tax_id(country_code),
            industry=self.pick([value for value in Industry.values if value != Industry.OTHER]),
            size=size,
            website=f"https://www.{domain}",
            phone=self.phone(country_code, mobile=False),
            email=f"{'info' if language == 'en' else 'contacto'}@{domain}",
            street=str(faker.street_address()),
            city=city,
            region=region,
            postal_code=str(faker.postcode()),
            country=country_code,
            tier=tier,
            is_key_account=tier == Tier.A and self.rng.random() < 0.8,
            status=status,
            annual_revenue=(Decimal(round(revenue_eur, -3)) * country.rate).quantize(Decimal(1)),
            currency=country.currency,
            description=str(faker.paragraph(nb_sentences=2))
            if language == "en"
            else self.pick(
                [
                    "Cliente histórico con presencia nacional.",
                    "Grupo familiar en plena expansión.",
                    "Compra por proyectos; decide el comité de dirección.",
                    "Sensibles al precio; valoran el servicio postventa.",
                    "",
                ]
            ),
            owner=owner,
            parent=parent,
            created_by=owner,
            created_at=created_at,
            version=1,
        )
        account.refresh_search_fields()
        weight = {Tier.A.value: 12.0, Tier.B.value: 4.0, Tier.C.value: 1.0}[tier]
        if status in {AccountStatus.PROSPECT, AccountStatus.CHURNED}:
            weight /= 2
        return _DemoAccount(
            account=account, language=language, domain=domain, team=team, weight=weight
        )

    def tax_id(self, country: str) -> str:
        """A plausible-looking company tax number for ``country`` (not a real one)."""
        digits = "".join(str(self.rng.randrange(10)) for _ in range(8))
        if country == "ES":
            return f"{self.pick('AB')}{digits}"
        if country == "US":
            return f"{digits[:2]}-{digits[2:]}0"
        if country in {"GB", "IE"}:
            return f"{country}{digits}9"
        return f"{country}-{digits}"

    def accounts(self, total: int) -> list[_DemoAccount]:
        """``total`` accounts, about 60% Spanish-speaking, some of them groups with subsidiaries."""
        built: list[_DemoAccount] = []
        spanish_total = round(total * 0.6)
        groups = max(1, total // 25)
        for index in range(total):
            language = "es" if index < spanish_total else "en"
            countries = SPANISH_COUNTRIES if language == "es" else ENGLISH_COUNTRIES
            is_group = (
                index < groups // 2 or spanish_total <= index < spanish_total + (groups + 1) // 2
            )
            built.append(
                self.new_account(
                    language, self.weighted(countries), tier=Tier.A if is_group else None
                )
            )
        parents = [item for item in built if item.account.tier == Tier.A][:groups]
        Account.objects.bulk_create([item.account for item in built], batch_size=500)
        # Subsidiaries: recast a few standalone accounts of the same language as a group's.
        children: list[_DemoAccount] = []
        pool = [item for item in built if item.account.tier != Tier.A]
        for parent in parents:
            same_language = [
                item for item in pool if item.language == parent.language and item not in children
            ]
            for child in same_language[: self.rng.randint(2, 4)]:
                child.account.parent = parent.account
                base, city = base_name(parent.account.name), child.account.city
                taken = normalize(f"{base} {city}") in self.names
                sector = self.pick(SECTOR_WORDS[child.language])
                child.account.name = self.unique_name(f"{base} {sector if taken else city}", sector)
                child.domain = domain_for(child.account.name, COUNTRIES[child.account.country].tld)
                child.account.website = f"https://www.{child.domain}"
                child.account.email = f"{child.account.email.split('@')[0]}@{child.domain}"
                child.account.refresh_search_fields()
                children.append(child)
        Account.objects.bulk_update(
            [item.account for item in children],
            # Every column refresh_search_fields() derives (the domain changed too).
            ["parent", "name", "website", "email", *DERIVED_FIELDS],
        )
        return built

    def account_teams(self, built: list[_DemoAccount]) -> int:
        """Coordinators, executives and KAMs on the accounts that deserve a team."""
        members: list[AccountTeamMember] = []
        for item in built:
            account = item.account
            jobs = self.team_people(item.team)
            wanted: list[tuple[User, str]] = []
            if account.tier in {Tier.A, Tier.B} or self.rng.random() < 0.3:
                wanted.append((jobs["coordinator"], TeamRole.COORDINATOR))
            if account.tier == Tier.A or (account.tier == Tier.B and self.rng.random() < 0.5):
                wanted.append((jobs["account_manager"], TeamRole.EXECUTIVE))
            if account.is_key_account:
                wanted.append((jobs["kam"], TeamRole.KAM))
            for user, role in wanted:
                if user.pk != account.owner_id and user not in item.members:
                    item.members.append(user)
                    members.append(AccountTeamMember(account=account, user=user, role=role))
        AccountTeamMember.objects.bulk_create(members, batch_size=500)
        return len(members)

    def tags(self, built: list[_DemoAccount]) -> None:
        """Zero to three tags per account."""
        tags = Tag.objects.bulk_create([Tag(name=name) for name in TAGS])
        through = Account.tags.through
        links = []
        for item in built:
            for tag in self.rng.sample(tags, self.weighted([(0, 40), (1, 35), (2, 18), (3, 7)])):
                links.append(through(account_id=item.account.pk, tag_id=tag.pk))
        through.objects.bulk_create(links, batch_size=500)

    # --- contacts ------------------------------------------------------------------------------

    def contacts(self, built: list[_DemoAccount], total: int) -> int:
        """``total`` contacts: one at every account at least, more at the big ones."""
        homes = list(built[: min(total, len(built))])
        homes += self.rng.choices(
            built, weights=[item.weight for item in built], k=max(total - len(homes), 0)
        )
        contacts: list[Contact] = []
        links: list[tuple[Contact, _DemoAccount, bool]] = []
        by_team: dict[str, list[_DemoAccount]] = {}
        for item in built:
            by_team.setdefault(item.team, []).append(item)
        for item in homes:
            contact = self.new_contact(item)
            contacts.append(contact)
            links.append((contact, item, True))
            if self.rng.random() < 0.12:
                # Some people work with two companies: a group and its subsidiary, or a partner.
                siblings = [
                    other
                    for other in by_team[item.team]
                    if other is not item
                    and (
                        other.account.parent_id == item.account.pk
                        or (item.account.parent_id and other.account.pk == item.account.parent_id)
                    )
                ] or by_team[item.team]
                other = self.pick(siblings)
                if other is not item:
                    links.append((contact, other, False))
        Contact.objects.bulk_create(contacts, batch_size=500)
        seen: set[tuple[int, int]] = set()
        rows = []
        for contact, item, is_primary in links:
            key = (contact.pk, item.account.pk)
            if key in seen:
                continue
            seen.add(key)
            rows.append(
                ContactAccount(contact=contact, account=item.account, is_primary=is_primary)
            )
            item.contacts.append(contact)
        ContactAccount.objects.bulk_create(rows, batch_size=500)
        return len(contacts)

    def new_contact(self, item: _DemoAccount) -> Contact:
        """An unsaved person at ``item``'s account."""
        faker, language = self.fakers[item.language], item.language
        first, last = str(faker.first_name()), str(faker.last_name())
        if language == "es" and self.rng.random() < 0.6:
            last = f"{last} {faker.last_name()}"
        country = str(item.account.country)
        contact = Contact(
            first_name=first,
            last_name=last,
            email=self.unique_email(f"{first}.{last.split(' ')[0]}", item.domain),
            phone=self.phone(country, mobile=False) if self.rng.random() < 0.7 else "",
            mobile=self.phone(country, mobile=True) if self.rng.random() < 0.8 else "",
            job_title=self.pick(JOB_TITLES[language]),
            buying_role=self.weighted(
                [
                    (BuyingRole.DECISION_MAKER, 20),
                    (BuyingRole.INFLUENCER, 30),
                    (BuyingRole.USER, 35),
                    (BuyingRole.GATEKEEPER, 10),
                    ("", 5),
                ]
            ),
            preferred_channel=self.weighted(
                [
                    (Channel.EMAIL, 45),
                    (Channel.PHONE, 20),
                    (Channel.MOBILE, 15),
                    (Channel.VIDEO, 12),
                    (Channel.IN_PERSON, 8),
                ]
            ),
            report_preference=self.weighted(
                [(ReportPreference.BRIEF, 60), (ReportPreference.DETAILED, 40)]
            ),
            language=language,
            special_requests=self.pick(SPECIAL_REQUESTS[language])
            if self.rng.random() < 0.25
            else "",
            do_not_contact=self.rng.random() < 0.03,
            created_by=item.account.owner,
            created_at=item.account.created_at + timedelta(days=self.rng.randint(0, 60)),
            version=1,
        )
        contact.refresh_search_fields()
        return contact

    # --- timeline ------------------------------------------------------------------------------

    def interactions(self, built: list[_DemoAccount], total: int) -> int:
        """``total`` interactions over the last 18 months, many on big accounts, few on small."""
        homes = self.rng.choices(built, weights=[item.weight for item in built], k=total)
        rows: list[Interaction] = []
        earliest = self.now - timedelta(days=HISTORY_DAYS)
        for item in homes:
            account, language = item.account, item.language
            kind = self.weighted(
                [
                    (InteractionKind.CALL, 30),
                    (InteractionKind.EMAIL, 35),
                    (InteractionKind.MEETING, 17),
                    (InteractionKind.NOTE, 18),
                ]
            )
            contact = (
                self.pick(item.contacts)
                if item.contacts and (kind != InteractionKind.NOTE or self.rng.random() < 0.3)
                else None
            )
            start = max(account.created_at, earliest)
            span = max((self.now - start).total_seconds(), 3600.0)
            occurred_at = self.now - timedelta(seconds=self.rng.uniform(0, span))
            words = {
                "first": contact.first_name if contact else account.name.split(" ")[0],
                "contact": escape(contact.full_name) if contact else escape(account.name),
                "city": account.city,
                "topic": self.pick(TOPICS[language]),
                "mood": self.pick(MOODS[language]),
                "next": self.pick(NEXT_STEPS[language]),
                "next2": self.pick(NEXT_STEPS[language]),
            }
            author = self.pick([account.owner, *item.members]) if item.members else account.owner
            rows.append(
                Interaction(
                    account=account,
                    contact=contact,
                    kind=kind,
                    direction=Direction.INBOUND
                    if kind in {InteractionKind.CALL, InteractionKind.EMAIL}
                    and self.rng.random() < 0.35
                    else Direction.OUTBOUND,
                    subject=self.pick(SUBJECTS[language][kind]).format(**words)[:200],
                    body=self.pick(BODIES[language]).format(**words),
                    occurred_at=occurred_at,
                    duration_minutes={
                        InteractionKind.CALL: self.rng.randint(5, 45),
                        InteractionKind.MEETING: self.pick([30, 45, 60, 90, 120]),
                    }.get(kind),
                    author=author,
                    created_at=occurred_at,
                    version=1,
                )
            )
        Interaction.objects.bulk_create(rows, batch_size=500)
        return len(rows)

    # --- edits through the services ------------------------------------------------------------

    def opportunities(self, built: list[_DemoAccount], total: int) -> int:
        """The catalogue and ``total`` deals on the accounts (their own random draws, so the
        rest of the book is the same with or without them)."""
        maker = _DealMaker(random.Random(f"{self.seed}:opportunities"), self.now, demo_catalogue())
        accounts = [
            DealAccount(
                pk=item.account.pk,
                name=item.account.name,
                language=item.language,
                owner_id=item.account.owner_id,
                currency=item.account.currency,
                tier=item.account.tier,
                members=[user.pk for user in item.members],
                contacts=[contact.pk for contact in item.contacts],
                created_at=item.account.created_at,
            )
            for item in built
        ]
        count = maker.deals(accounts, [item.weight for item in built], total)
        reset_sequences(*PIPELINE_MODELS)
        return count

    def service_edits(self, built: list[_DemoAccount]) -> int:
        """A few dozen everyday changes made through the services, so history has actors."""
        edits = 0
        alive = [item for item in built if item.account.status != AccountStatus.CHURNED]
        sample = self.rng.sample(alive, min(len(alive), 16))
        next_status: dict[str, str] = {
            AccountStatus.PROSPECT: AccountStatus.ONBOARDING,
            AccountStatus.ONBOARDING: AccountStatus.ACTIVE,
            AccountStatus.ACTIVE: AccountStatus.AT_RISK,
            AccountStatus.AT_RISK: AccountStatus.ACTIVE,
        }
        for index, item in enumerate(sample):
            account = item.account
            owner = account.owner
            changes: dict[str, Any] = {"status": next_status[account.status]}
            if index % 3 == 0:
                changes["annual_revenue"] = (account.annual_revenue or Decimal(0)) * Decimal("1.12")
                changes["annual_revenue"] = changes["annual_revenue"].quantize(Decimal(1))
            if index % 4 == 0 and account.tier != Tier.A:
                changes["tier"] = Tier.B if account.tier == Tier.C else Tier.A
            update_account(
                actor=owner, account=account, changes=changes, expected_version=account.version
            )
            edits += 1
            log_interaction(
                actor=owner,
                account=account,
                data={
                    "kind": InteractionKind.CALL,
                    "subject": AFTER_STATUS_CALL[item.language],
                    "body": "<p>" + self.pick(NEXT_STEPS[item.language]).capitalize() + ".</p>",
                    "contact": item.contacts[0].pk if item.contacts else None,
                    "duration_minutes": 15,
                },
            )
            edits += 1
        for item in sample[:8]:
            jobs = self.team_people(item.team)
            set_team_member(
                actor=jobs["manager"],
                account=item.account,
                user=jobs["coordinator"],
                role=TeamRole.COORDINATOR,
            )
            edits += 1
        for item in [entry for entry in sample if entry.contacts][:6]:
            contact = item.contacts[0]
            update_contact(
                actor=item.account.owner,
                contact=contact,
                changes={
                    "job_title": self.pick(JOB_TITLES[item.language]),
                    "report_preference": ReportPreference.DETAILED,
                },
                expected_version=contact.version,
            )
            edits += 1
        for item in sample[8:12]:
            faker = self.fakers[item.language]
            first, last = str(faker.first_name()), str(faker.last_name())
            contact = create_contact(
                actor=item.account.owner,
                data={
                    "first_name": first,
                    "last_name": last,
                    "email": self.unique_email(f"{first}.{last}", item.domain),
                    "job_title": self.pick(JOB_TITLES[item.language]),
                    "language": item.language,
                    "accounts": [item.account.pk],
                },
            )
            item.contacts.append(contact)
            edits += 1
        churned = [item for item in built if item.account.status == AccountStatus.CHURNED]
        for item in churned[:2]:
            trash_account(
                actor=item.account.owner,
                account=item.account,
                expected_version=item.account.version,
            )
            edits += 1
        for item in [entry for entry in sample[12:] if len(entry.contacts) > 1][:1]:
            contact = item.contacts[-1]
            trash_contact(
                actor=item.account.owner, contact=contact, expected_version=contact.version
            )
            edits += 1
        return edits


def seed_demo(
    *,
    seed: int = DEFAULT_SEED,
    accounts: int = DEFAULT_ACCOUNTS,
    contacts: int = DEFAULT_CONTACTS,
    interactions: int = DEFAULT_INTERACTIONS,
    opportunities: int = DEFAULT_OPPORTUNITIES,
) -> DemoSummary:
    """Fill an empty database with the demo book; the same seed always gives the same book."""
    builder = _Builder(seed)
    with transaction.atomic():
        users, teams = builder.people()
        built = builder.accounts(accounts)
        builder.account_teams(built)
        builder.tags(built)
        contact_count = builder.contacts(built, contacts)
        interaction_count = builder.interactions(built, interactions)
        opportunity_count = builder.opportunities(built, opportunities)
        edits = builder.service_edits(built)
        rebuild_rollups()  # the deals were bulk-written: the board's totals from them
    return DemoSummary(
        users=users,
        teams=teams,
        accounts=len(built),
        contacts=contact_count,
        interactions=interaction_count,
        opportunities=opportunity_count,
        service_edits=edits,
        personas=dict(builder.personas),
    )


# --- the pipeline: catalogue and opportunities (every size) ---------------------------------

#: SKU, name, family, unit, tax rate (%), list price in EUR.
DEMO_PRODUCTS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("LIC-CRM-STD", "CRM Standard licence", "Software", Unit.LICENCE, "21", "480"),
    ("LIC-CRM-PRO", "CRM Professional licence", "Software", Unit.LICENCE, "21", "900"),
    ("LIC-ANALYTICS", "Analytics add-on licence", "Software", Unit.LICENCE, "21", "360"),
    ("SUB-CLOUD", "Cloud hosting", "Software", Unit.MONTH, "21", "650"),
    ("SUB-SUPPORT", "Premium support", "Software", Unit.YEAR, "21", "4800"),
    ("PKG-API", "Integration API package", "Software", Unit.PACKAGE, "21", "2500"),
    ("SRV-IMPLEMENT", "Implementation", "Services", Unit.DAY, "21", "850"),
    ("SRV-CONSULT", "Consulting", "Services", Unit.HOUR, "21", "120"),
    ("SRV-MIGRATION", "Data migration", "Services", Unit.PACKAGE, "21", "6000"),
    ("SRV-TRAINING", "Training course", "Training", Unit.DAY, "0", "700"),
    ("SRV-CERT", "Certification exam", "Training", Unit.UNIT, "0", "250"),
    ("EVT-PASS", "User conference pass", "Training", Unit.UNIT, "10", "450"),
    ("HW-TABLET", "Rugged tablet", "Hardware", Unit.UNIT, "21", "1100"),
    ("HW-SCANNER", "Barcode scanner", "Hardware", Unit.UNIT, "21", "390"),
    ("HW-PRINTER", "Label printer", "Hardware", Unit.UNIT, "21", "640"),
    ("HW-KIOSK", "Self-service kiosk", "Hardware", Unit.UNIT, "21", "7800"),
)
#: Name, currency, segment, price factor against the list price.
DEMO_PRICE_LISTS = (
    ("Tarifa general EUR", "EUR", Segment.ALL, Decimal("1")),
    ("Tarifa clientes A EUR", "EUR", Segment.A, Decimal("0.9")),
    ("Price list USD", "USD", Segment.ALL, Decimal("1.1")),
)
DEMO_OPPORTUNITIES = {"small": DEFAULT_OPPORTUNITIES, "medium": 30_000, "large": 300_000}
OPPORTUNITIES_PER_ACCOUNT = 3  # the medium and large demos
DEAL_TYPES = (
    (OpportunityType.NEW_BUSINESS.value, 50),
    (OpportunityType.UPSELL.value, 20),
    (OpportunityType.CROSS_SELL.value, 15),
    (OpportunityType.RENEWAL.value, 15),
)
DEAL_ROLES = (
    (ContactRole.DECISION_MAKER.value, 25),
    (ContactRole.ECONOMIC_BUYER.value, 15),
    (ContactRole.CHAMPION.value, 20),
    (ContactRole.INFLUENCER.value, 15),
    (ContactRole.TECHNICAL_BUYER.value, 15),
    (ContactRole.USER.value, 10),
)
DEAL_NAMES = {
    OpportunityType.NEW_BUSINESS.value: {
        "es": "{product} para {account}",
        "en": "{product} for {account}",
    },
    OpportunityType.UPSELL.value: {
        "es": "Ampliación {product} — {account}",
        "en": "{product} expansion — {account}",
    },
    OpportunityType.CROSS_SELL.value: {
        "es": "{product} (venta cruzada) — {account}",
        "en": "{product} cross-sell — {account}",
    },
    OpportunityType.RENEWAL.value: {
        "es": "Renovación {product} — {account}",
        "en": "{product} renewal — {account}",
    },
}
DEAL_AMOUNT_MEDIAN = 18_000.0  # EUR; log-normal, clipped to 2,000 to 250,000
DEAL_AMOUNT_SIGMA = 1.0
CENT = Decimal("0.01")
DEAL_CHUNK = 20_000  # deals made, then written, at a time (memory stays flat)


@dataclass
class DealAccount:
    """What a deal needs to know about its account."""

    pk: int
    name: str
    language: str
    owner_id: int
    currency: str
    tier: str
    members: list[int]
    contacts: list[int]
    created_at: datetime


def demo_catalogue() -> dict[tuple[str, str], dict[int, Decimal]]:
    """The demo's products and price lists; returns each list's prices by (currency, segment)."""
    products = []
    for sku, name, family, unit, tax, _price in DEMO_PRODUCTS:
        products.append(
            Product(
                sku=sku,
                name=name,
                family=family,
                unit=unit,
                tax_rate=Decimal(tax),
                name_key=normalize(name)[:200],
            )
        )
    Product.objects.bulk_create(products)
    prices: dict[tuple[str, str], dict[int, Decimal]] = {}
    items = []
    for name, currency, segment, factor in DEMO_PRICE_LISTS:
        price_list = PriceList.objects.create(name=name, currency=currency, segment=segment)
        listed = prices[(currency, segment)] = {}
        for product, row in zip(products, DEMO_PRODUCTS, strict=True):
            unit_price = (Decimal(row[5]) * factor).quantize(Decimal("1"))
            listed[product.pk] = unit_price
            items.append(
                PriceListItem(price_list=price_list, product=product, unit_price=unit_price)
            )
    PriceListItem.objects.bulk_create(items)
    return prices


class _DealMaker:
    """Opportunities with their stage history, products and contacts, written in bulk.

    About 35% are open (spread over the open stages, a fifth of them stuck longer than their
    stage usually takes), 40% won and 25% lost (with a reason); amounts are log-normal and are
    the sum of the deal's product lines at the account's price list.
    """

    def __init__(
        self, rng: random.Random, now: datetime, prices: dict[Any, dict[int, Decimal]]
    ) -> None:
        self.rng = rng
        # Midnight of the demo's day: the same deals all day long, and none in the future.
        self.today = timezone.localdate(now)
        self.now = timezone.make_aware(datetime.combine(self.today, time(0, 0)))
        self.zone = timezone.get_current_timezone()
        self.prices = prices
        self.pipeline = ensure_default_pipeline()
        stages = list(Stage.objects.filter(pipeline=self.pipeline).order_by("position", "pk"))
        self.open_stages = [stage for stage in stages if stage.kind == StageKind.OPEN]
        self.won = next(stage for stage in stages if stage.kind == StageKind.WON)
        self.lost = next(stage for stage in stages if stage.kind == StageKind.LOST)
        self.loss_reasons = list(
            LossReason.objects.order_by("position").values_list("pk", flat=True)
        )
        self.product_names = dict(Product.objects.values_list("pk", "name"))
        self.products = sorted(self.product_names)
        self.types = _table(DEAL_TYPES)
        self.roles = _table(DEAL_ROLES)
        self.make = instance_factory(Opportunity)
        self.opportunities: list[Opportunity] = []
        self.changes: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []
        self.deal_contacts: list[dict[str, Any]] = []

    def at(self, day: Any) -> datetime:
        """A working-hours moment of ``day`` (in the demo's time zone, as ``make_aware``)."""
        minutes = self.rng.randint(0, 540)
        return datetime.combine(day, time(9 + minutes // 60, minutes % 60), tzinfo=self.zone)

    def deals(
        self,
        accounts: Sequence[DealAccount],
        weights: Sequence[float],
        total: int,
        report: Callable[[int], None] | None = None,
    ) -> int:
        """Write ``total`` deals on ``accounts`` (busier accounts get more); returns how many."""
        if not accounts or total <= 0 or not self.loss_reasons:
            return 0
        written = 0
        for account in self.rng.choices(accounts, weights=weights, k=total):
            self.deal(account)
            if len(self.opportunities) >= DEAL_CHUNK:
                written += self.write()
                if report is not None:
                    report(written)
        return written + self.write()

    def deal(self, account: DealAccount) -> None:
        rng = self.rng
        roll = rng.random()
        status = StageKind.OPEN if roll < 0.35 else StageKind.WON if roll < 0.75 else StageKind.LOST
        today = self.today
        if status == StageKind.OPEN:
            depth = rng.randrange(len(self.open_stages))
            path = self.open_stages[: depth + 1]
            stage = path[-1]
            usual = stage.usual_days or 14
            stuck = rng.random() < 0.2
            entered_days = usual * rng.uniform(1.5, 4.0) if stuck else rng.uniform(0, usual)
            end = self.now - timedelta(days=entered_days, minutes=rng.randint(0, 600))
            created = end - timedelta(days=rng.uniform(1, 40) * len(path))
            if rng.random() < 0.15:  # overdue
                expected = today - timedelta(days=rng.randint(1, 60))
            else:
                expected = today + timedelta(days=rng.randint(1, 270))
            closed_on = None
        else:
            closed_on = today - timedelta(days=rng.randint(1, 365))
            end = self.at(closed_on)
            depth = rng.randrange(1 if status == StageKind.WON else 0, len(self.open_stages))
            path = [
                *self.open_stages[: depth + 1],
                self.won if status == StageKind.WON else self.lost,
            ]
            stage = path[-1]
            created = end - timedelta(days=rng.uniform(15, 180))
            expected = closed_on + timedelta(days=rng.randint(-20, 30))
        floor = account.created_at + timedelta(hours=1)
        if created < floor:
            created = min(floor, end - timedelta(minutes=5))
        kind = self.types[int(rng.random() * len(self.types))]
        currency = "USD" if account.currency == "USD" else "EUR"
        segment = Segment.A if account.tier == Tier.A and currency == "EUR" else Segment.ALL
        prices = self.prices[(currency, segment)]
        target = min(
            250_000.0,
            max(2_000.0, rng.lognormvariate(math.log(DEAL_AMOUNT_MEDIAN), DEAL_AMOUNT_SIGMA)),
        )
        products = rng.sample(self.products, 2 if rng.random() < 0.4 else 1)
        shares = [1.0] if len(products) == 1 else [0.7, 0.3]
        owner_id = account.owner_id
        if account.members and rng.random() < 0.15:
            owner_id = rng.choice(account.members)
        opportunity = self.make(
            name=DEAL_NAMES[kind][account.language].format(
                product=self.product_names[products[0]], account=account.name
            )[:200],
            account_id=account.pk,
            pipeline_id=self.pipeline.pk,
            stage_id=stage.pk,
            status=status,
            type=kind,
            currency=currency,
            probability=stage.probability,
            forecast_category=stage.forecast_category,
            expected_close_date=expected,
            closed_on=closed_on,
            owner_id=owner_id,
            created_by_id=owner_id,
            loss_reason_id=rng.choice(self.loss_reasons) if status == StageKind.LOST else None,
            stage_entered_at=end,
            created_at=created,
            updated_at=end,
        )
        opportunity.refresh_search_fields()
        index = len(self.opportunities)
        self.opportunities.append(opportunity)
        amount = Decimal(0)
        for position, (product, share) in enumerate(zip(products, shares, strict=True)):
            unit_price = prices[product]
            quantity = max(1, round(target * share / float(unit_price)))
            amount += unit_price * quantity
            self.lines.append(
                {
                    "opportunity_id": index,
                    "product_id": product,
                    "quantity": Decimal(quantity),
                    "unit_price": unit_price,
                    "position": position,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        opportunity.amount = amount.quantize(CENT)
        span = (end - created) / max(1, len(path) - 1)
        previous = None
        for step, to_stage in enumerate(path):
            moment = end if step == len(path) - 1 else created + span * step
            self.changes.append(
                {
                    "opportunity_id": index,
                    "from_stage_id": previous,
                    "to_stage_id": to_stage.pk,
                    "changed_at": moment,
                    "changed_by_id": owner_id,
                }
            )
            previous = to_stage.pk
        if account.contacts:
            people = rng.sample(account.contacts, min(len(account.contacts), rng.choice((1, 1, 2))))
            for contact_id in people:
                self.deal_contacts.append(
                    {
                        "opportunity_id": index,
                        "contact_id": contact_id,
                        "role": self.roles[int(rng.random() * len(self.roles))],
                        "created_at": created,
                        "updated_at": created,
                    }
                )

    def write(self) -> int:
        """Write the deals made so far and their rows; returns how many deals."""
        ids: list[int] = []
        with BulkInserter(Opportunity) as inserter:
            for opportunity in self.opportunities:
                ids.append(inserter.add(opportunity))
        for model, rows in (
            (StageChange, self.changes),
            (OpportunityLine, self.lines),
            (OpportunityContact, self.deal_contacts),
        ):
            with BulkInserter(model) as rows_inserter:
                for values in rows:
                    values["opportunity_id"] = ids[values["opportunity_id"]]
                    rows_inserter.add_values(**values)
        count = len(ids)
        self.opportunities, self.changes, self.lines, self.deal_contacts = [], [], [], []
        return count


PIPELINE_MODELS: tuple[type[models.Model], ...] = (
    Opportunity,
    StageChange,
    OpportunityLine,
    OpportunityContact,
)


# --- the medium and large demos --------------------------------------------------------------


@dataclass(frozen=True)
class DemoSize:
    """How many rows of each kind a demo size has."""

    accounts: int
    contacts: int
    interactions: int


DEMO_SIZES: dict[str, DemoSize] = {
    "small": DemoSize(DEFAULT_ACCOUNTS, DEFAULT_CONTACTS, DEFAULT_INTERACTIONS),
    "medium": DemoSize(10_000, 100_000, 500_000),
    "large": DemoSize(100_000, 1_000_000, 5_000_000),
}
SCALED_HISTORY_DAYS = 3 * 365  # the bigger demos' timelines cover about three years
POOL_DRAWS = 4000  # Faker draws per pool; repeats are kept, so common names stay common
PHONE_STEMS = 48  # validated numbers per country and line type; the rest vary their last digits
PHONE_VARIED_DIGITS = 4  # fill_digit_slots() fills exactly four
ACTIVITY_PARETO_ALPHA = 1.3  # account activity: a long tail of quiet accounts, a few busy ones
ACTIVITY_CAP = 150.0
CONTACT_ACTIVITY_EXPONENT = 0.6  # big accounts have many contacts, but not in proportion
TIER_ACTIVITY = {Tier.A.value: 20.0, Tier.B.value: 5.0, Tier.C.value: 1.0}
PROGRESS_STEPS = 10


def _table(pairs: Sequence[tuple[Any, int]]) -> tuple[Any, ...]:
    """Each value repeated by its integer weight: a uniform pick from it is a weighted pick."""
    return tuple(value for value, weight in pairs for _ in range(weight))


SCALED_TIERS = _table([(Tier.A.value, 6), (Tier.B.value, 22), (Tier.C.value, 72)])
SCALED_STATUSES = _table(
    [
        (AccountStatus.ACTIVE.value, 48),
        (AccountStatus.PROSPECT.value, 20),
        (AccountStatus.ONBOARDING.value, 6),
        (AccountStatus.AT_RISK.value, 10),
        (AccountStatus.CHURNED.value, 16),
    ]
)
SCALED_INDUSTRIES = _table(
    [
        (Industry.SOFTWARE.value, 12), (Industry.DISTRIBUTION.value, 11),
        (Industry.MANUFACTURING.value, 11), (Industry.SERVICES.value, 10),
        (Industry.RETAIL.value, 8), (Industry.FOOD.value, 7), (Industry.LOGISTICS.value, 7),
        (Industry.TECHNOLOGY.value, 7), (Industry.FINANCE.value, 6),
        (Industry.HEALTHCARE.value, 5), (Industry.ENERGY.value, 3), (Industry.TELECOM.value, 3),
        (Industry.AGENCY.value, 3), (Industry.EDUCATION.value, 2), (Industry.PUBLIC.value, 2),
        (Industry.REAL_ESTATE.value, 2), (Industry.MEDIA.value, 2),
    ]
)  # fmt: skip
SCALED_KINDS = _table(
    [
        (InteractionKind.CALL.value, 30),
        (InteractionKind.EMAIL.value, 35),
        (InteractionKind.MEETING.value, 17),
        (InteractionKind.NOTE.value, 18),
    ]
)
BUYING_ROLES = _table(
    [
        (BuyingRole.DECISION_MAKER.value, 20),
        (BuyingRole.INFLUENCER.value, 30),
        (BuyingRole.USER.value, 35),
        (BuyingRole.GATEKEEPER.value, 10),
        ("", 5),
    ]
)
CHANNELS = _table(
    [
        (Channel.EMAIL.value, 45),
        (Channel.PHONE.value, 20),
        (Channel.MOBILE.value, 15),
        (Channel.VIDEO.value, 12),
        (Channel.IN_PERSON.value, 8),
    ]
)
REPORT_PREFERENCES = _table(
    [(ReportPreference.BRIEF.value, 60), (ReportPreference.DETAILED.value, 40)]
)
TAG_COUNTS = _table([(0, 40), (1, 35), (2, 18), (3, 7)])
SPANISH_DESCRIPTIONS = (
    "Cliente histórico con presencia nacional.",
    "Grupo familiar en plena expansión.",
    "Compra por proyectos; decide el comité de dirección.",
    "Sensibles al precio; valoran el servicio postventa.",
    "",
)


class _KnownPhoneNumber(PhoneNumber):
    """A phone number checked valid when it was made, with its formats already worked out.

    Formatting a number through the metadata costs tens of microseconds; at a million contacts
    the demo makes numbers from validated stems instead (see ``_PhonePool``).
    """

    formats: dict[int, str]

    def is_valid(self) -> bool:
        """Made from a validated stem: valid."""
        return True

    def format_as(self, format: int) -> str:
        """The number formatted as ``format`` (worked out once)."""
        text = self.formats.get(format)
        if text is None:
            text = self.formats[format] = str(super().format_as(format))
        return text

    def __bool__(self) -> bool:
        """A valid number is never empty (the library would format it to find out)."""
        return True

    def __eq__(self, other: object) -> bool:
        """As the library compares, answering at once for the empty values fields test."""
        if other is None or (isinstance(other, str | list | tuple | dict) and not other):
            return False
        return bool(super().__eq__(other))

    __hash__ = PhoneNumber.__hash__


def digit_slots(text: str, count: int) -> tuple[str, ...]:
    """``text`` cut around its last ``count`` digits: "+34 912 34 56 78", 4 →
    ("+34 912 34 ", "", " ", "", "")."""
    positions = [index for index, char in enumerate(text) if char.isdigit()][-count:]
    pieces, start = [], 0
    for position in positions:
        pieces.append(text[start:position])
        start = position + 1
    pieces.append(text[start:])
    return tuple(pieces)


def fill_digit_slots(pieces: tuple[str, ...], digits: str) -> str:
    """The text ``digit_slots`` cut around four digits, with ``digits`` in the slots."""
    first, second, third, fourth, rest = pieces
    return f"{first}{digits[0]}{second}{digits[1]}{third}{digits[2]}{fourth}{digits[3]}{rest}"


#: A phone stem: the number's attributes, its national digits but the last four, and each
#: format cut around those four.
_PhoneStem = tuple[dict[str, Any], str, tuple[tuple[int, tuple[str, ...]], ...]]


class _PhonePool:
    """Valid numbers by the million: validated stems, then the last four digits varied.

    Within a number plan the type and the format of a number depend on its leading digits and
    its length, never on its last four digits, so every variant of a valid stem is valid and
    formats like it (``test_demo_sizes`` checks this against the library for every country).
    """

    FORMATS = (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def __init__(self, builder: _Builder) -> None:
        self.builder = builder
        self.stems: dict[tuple[str, bool], list[_PhoneStem]] = {}

    def prepare(self) -> None:
        """Make the stems of every country and line type now."""
        for region in COUNTRIES:
            for mobile in (False, True):
                self.stems_of(region, mobile)

    def stems_of(self, region: str, mobile: bool) -> list[_PhoneStem]:
        """The stems of ``region`` for fixed lines or mobiles (made the first time)."""
        stems = self.stems.get((region, mobile))
        if stems is None:
            stems = self.stems[(region, mobile)] = [
                self._stem(region, mobile) for _ in range(PHONE_STEMS)
            ]
        return stems

    def number(
        self, region: str, *, mobile: bool, random_: Callable[[], float] | None = None
    ) -> _KnownPhoneNumber:
        """A valid fixed-line or mobile number of ``region`` (``random_``: whose randomness)."""
        stems = self.stems_of(region, mobile)
        random_ = random_ or self.builder.rng.random
        attributes, prefix, formats = stems[int(random_() * len(stems))]
        digits = str(int(random_() * 10**PHONE_VARIED_DIGITS)).zfill(PHONE_VARIED_DIGITS)
        # A copy of the stem's attributes (the library's constructor is slow for millions).
        number: _KnownPhoneNumber = _KnownPhoneNumber.__new__(_KnownPhoneNumber)
        number.__dict__.update(attributes)
        number.national_number = int(prefix + digits)
        number.formats = {fmt: fill_digit_slots(pieces, digits) for fmt, pieces in formats}
        return number

    def _stem(self, region: str, mobile: bool) -> _PhoneStem:
        parsed = phonenumbers.parse(self.builder.phone(region, mobile=mobile))
        template = _KnownPhoneNumber(country_code=parsed.country_code, national_number=0)
        national = str(parsed.national_number)
        formats = tuple(
            (fmt, digit_slots(phonenumbers.format_number(parsed, fmt), PHONE_VARIED_DIGITS))
            for fmt in self.FORMATS
        )
        return dict(template.__dict__), national[:-PHONE_VARIED_DIGITS], formats


#: The words an interaction's subject and body are filled with, in their positional order.
_TEXT_WORDS = ("first", "contact", "city", "topic", "mood", "next", "next2")


def _positional(templates: Sequence[str]) -> tuple[str, ...]:
    """Templates with named fields made positional ("{city}" → "{2}"): faster to fill."""
    result = []
    for template in templates:
        for position, name in enumerate(_TEXT_WORDS):
            template = template.replace(f"{{{name}}}", f"{{{position}}}")
        result.append(template)
    return tuple(result)


@dataclass(slots=True)
class _ScaledAccount:
    """An account of a big demo while it is being made: its fields and what later steps need."""

    values: dict[str, Any]
    language: str
    team: str
    domain: str
    weight: float
    pk: int = 0
    parent: _ScaledAccount | None = None
    members: list[int] = field(default_factory=list)
    contacts: list[tuple[int, str, str]] = field(default_factory=list)  # id, first, full name
    email_locals: set[str] = field(default_factory=set)
    timeline_start: datetime | None = None


class _ScaledBuilder(_Builder):
    """The medium and large demos: the same people and shapes, written by the hundred thousand.

    Names and words come from pools drawn from Faker once and combined with the seeded random
    generator (calling Faker per row would take hours at the large size); rows go to the
    database through ``cartera.core.bulk`` (``COPY`` on PostgreSQL).
    """

    def __init__(
        self,
        seed: int,
        accounts: int,
        progress: Callable[[str], None] | None = None,
        workers: int = 1,
    ) -> None:
        super().__init__(seed)
        self.seed = seed
        self.workers = workers
        self.reported: dict[str, int] = {}
        # Midnight today: the same book all day, and nothing in the future.
        self.now = timezone.make_aware(datetime.combine(timezone.localdate(), time(0, 0)))
        self.progress = progress or (lambda message: None)
        self.timings: dict[str, float] = {}
        self.domains: set[str] = set()
        self.slugs: dict[str, str] = {}
        self.phones = _PhonePool(self)
        # Smaller books need smaller pools (the tests' books take seconds, not minutes).
        draws = min(POOL_DRAWS, 100 + 4 * accounts)
        self.pools = {language: self._pools(language, draws) for language in ("es", "en")}
        self.english_descriptions = [
            str(self.fakers["en"].paragraph(nb_sentences=2)) for _ in range(draws // 10)
        ]

    def _pools(self, language: str, draws: int) -> dict[str, list[str]]:
        faker = self.fakers[language]
        return {
            "first": [str(faker.first_name()) for _ in range(draws)],
            "last": [str(faker.last_name()) for _ in range(draws)],
            "company": [str(faker.company()) for _ in range(draws // 4)],
            "street": [str(faker.street_address()) for _ in range(draws)],
            "postcode": [str(faker.postcode()) for _ in range(draws // 2)],
        }

    def fast_pick(self, options: Sequence[Any]) -> Any:
        """One of ``options`` (a cheaper ``pick`` for the inner loops)."""
        return options[int(self.rng.random() * len(options))]

    def slug(self, text: str) -> str:
        """``text`` as the local part of an email address: "María José" → "maria.jose"."""
        slug = self.slugs.get(text)
        if slug is None:
            slug = self.slugs[text] = re.sub(r"[^a-z0-9.]+", "", normalize(text).replace(" ", "."))
        return slug

    def unique_domain(self, name: str, tld: str) -> str:
        """A web domain for ``name`` that no other demo account has."""
        domain, counter = domain_for(name, tld), 1
        while domain in self.domains:
            counter += 1
            stem, rest = domain_for(name, tld).split(".", 1)
            domain = f"{stem}{counter}.{rest}"
        self.domains.add(domain)
        return domain

    def allocate(self, total: int, weights: Sequence[float], minimum: int) -> list[int]:
        """``total`` split over ``weights`` (at least ``minimum`` each when it fits), exactly."""
        count = len(weights)
        if not count:
            return []
        floor = minimum if minimum * count <= total else 0
        counts = [floor] * count
        rest = total - floor * count
        scale = rest / (sum(weights) or 1.0)
        for index, weight in enumerate(weights):
            counts[index] += int(weight * scale)
        left = total - sum(counts)
        for index in self.rng.choices(range(count), weights=weights, k=left):
            counts[index] += 1
        return counts

    def timed(self, label: str, started: float, rows: int) -> None:
        """Record and report how long a table took."""
        elapsed = time_module.monotonic() - started
        self.timings[label] = elapsed
        rate = rows / elapsed if elapsed > 0 else 0.0
        self.progress(f"  {label}: {rows:,} rows in {elapsed:.1f}s ({rate:,.0f} rows/s)")

    # --- accounts -----------------------------------------------------------------------------

    def scaled_company_name(self, language: str, country: str) -> str:
        """A plausible company name, from the pools."""
        pools, pick = self.pools[language], self.fast_pick
        suffix = pick(LEGAL_SUFFIXES[country])
        sector = pick(SECTOR_WORDS[language])
        style = int(self.rng.random() * 5)
        if style == 0:
            return str(pick(pools["company"]))
        if style == 1:
            return f"{pick(pools['last'])} {sector} {suffix}"
        if style == 2:
            return f"{sector} {pick(pools['last'])} {suffix}"
        if style == 3:
            joiner = "y" if language == "es" else "&"
            return f"{pick(pools['last'])} {joiner} {pick(pools['last'])} {suffix}"
        return f"{pick(pools['last'])} {sector}"

    def scaled_account(self, language: str, country_code: str, tier: str) -> _ScaledAccount:
        """An account's fields, owned according to the team's jobs."""
        rng, pick = self.rng, self.fast_pick
        country = COUNTRIES[country_code]
        city, region = pick(country.cities)
        name = self.unique_name(self.scaled_company_name(language, country_code), city)
        domain = self.unique_domain(name, country.tld)
        status = pick(SCALED_STATUSES)
        if tier == Tier.A and status in {AccountStatus.PROSPECT, AccountStatus.CHURNED}:
            status = AccountStatus.ACTIVE.value
        size = {
            Tier.A.value: (CompanySize.LARGE, CompanySize.ENTERPRISE, CompanySize.HUGE),
            Tier.B.value: (CompanySize.MEDIUM, CompanySize.LARGE),
            Tier.C.value: (CompanySize.MICRO, CompanySize.SMALL, CompanySize.MEDIUM),
        }[tier]
        low, high = {Tier.A.value: (40e6, 600e6), Tier.B.value: (5e6, 60e6)}.get(tier, (0.2e6, 8e6))
        team = IBERIA if language == "es" else NORTH_AMERICA
        jobs = self.team_people(team)
        roll = rng.random()
        if status == AccountStatus.PROSPECT:
            owner = jobs["rep"] if roll < 0.7 else jobs["account_manager"]
        elif tier == Tier.A:
            owner = jobs["kam"] if roll < 0.75 else jobs["manager"]
        else:
            owner = (
                jobs["account_manager"]
                if roll < 0.6
                else jobs["kam"]
                if roll < 0.75
                else jobs["rep"]
                if roll < 0.9
                else jobs["manager"]
            )
        prospect = status == AccountStatus.PROSPECT
        created_at = self.ago(5, 200) if prospect else self.ago(30, 3000)
        age = (self.now - created_at).total_seconds()
        updated_at = self.now - timedelta(seconds=min(age, rng.expovariate(1 / (90 * 86400))))
        weight = TIER_ACTIVITY[tier] * min(rng.paretovariate(ACTIVITY_PARETO_ALPHA), ACTIVITY_CAP)
        if status in {AccountStatus.PROSPECT, AccountStatus.CHURNED}:
            weight /= 2
        values: dict[str, Any] = {
            "name": name,
            "legal_name": name if rng.random() < 0.7 else "",
            "tax_id": self.tax_id(country_code),
            "industry": pick(SCALED_INDUSTRIES),
            "size": pick(size).value,
            "website": f"https://www.{domain}",
            "phone": self.phones.number(country_code, mobile=False),
            "email": f"{'info' if language == 'en' else 'contacto'}@{domain}",
            "street": pick(self.pools[language]["street"]),
            "city": city,
            "region": region,
            "postal_code": pick(self.pools[language]["postcode"]),
            "country": country_code,
            "tier": tier,
            "is_key_account": tier == Tier.A and rng.random() < 0.8,
            "status": status,
            "annual_revenue": (Decimal(round(rng.uniform(low, high), -3)) * country.rate).quantize(
                Decimal(1)
            ),
            "currency": country.currency,
            "description": pick(self.english_descriptions)
            if language == "en"
            else pick(SPANISH_DESCRIPTIONS),
            "owner_id": owner.pk,
            "created_by_id": owner.pk,
            "created_at": created_at,
            "updated_at": max(updated_at, created_at),
            "version": 1,
        }
        return _ScaledAccount(
            values=values, language=language, team=team, domain=domain, weight=weight
        )

    def scaled_accounts(self, total: int) -> list[_ScaledAccount]:
        """``total`` accounts, 60% Spanish-speaking, 1 in 25 a group with 2-4 subsidiaries."""
        started = time_module.monotonic()
        spanish_total = round(total * 0.6)
        groups = max(1, total // 25)
        built: list[_ScaledAccount] = []
        for index in range(total):
            language = "es" if index < spanish_total else "en"
            is_group = (
                index < groups // 2 or spanish_total <= index < spanish_total + (groups + 1) // 2
            )
            countries = SPANISH_COUNTRIES if language == "es" else ENGLISH_COUNTRIES
            tier = Tier.A.value if is_group else self.fast_pick(SCALED_TIERS)
            built.append(self.scaled_account(language, self.weighted(countries), tier))
        parents = [item for item in built if item.values["tier"] == Tier.A][:groups]
        candidates = {
            language: iter([item for item in built if item.values["tier"] != Tier.A
                            and item.language == language])
            for language in ("es", "en")
        }  # fmt: skip
        for parent in parents:
            for child in itertools.islice(candidates[parent.language], self.rng.randint(2, 4)):
                self.make_subsidiary(child, parent)
        # Ids in creation order, parents first, as if the rows had been typed in over the years.
        built.sort(key=lambda item: item.values["created_at"])
        make = instance_factory(Account)
        with BulkInserter(Account) as inserter:
            first = inserter.next_id
            for offset, item in enumerate(built):
                item.pk = first + offset
            for item in built:
                if item.parent is not None:
                    item.values["parent_id"] = item.parent.pk
                account = make(id=item.pk, **item.values)
                account.refresh_search_fields()
                inserter.add(account)
        self.timed("accounts", started, len(built))
        return built

    def make_subsidiary(self, child: _ScaledAccount, parent: _ScaledAccount) -> None:
        """Recast ``child`` as a subsidiary of ``parent``: its name, domain and creation date."""
        values = child.values
        child.parent = parent
        base, city = base_name(parent.values["name"]), values["city"]
        taken = normalize(f"{base} {city}") in self.names
        sector = self.fast_pick(SECTOR_WORDS[child.language])
        values["name"] = self.unique_name(f"{base} {sector if taken else city}", sector)
        if values["legal_name"]:
            values["legal_name"] = values["name"]
        child.domain = self.unique_domain(values["name"], COUNTRIES[values["country"]].tld)
        values["website"] = f"https://www.{child.domain}"
        values["email"] = f"{values['email'].split('@')[0]}@{child.domain}"
        if values["created_at"] <= parent.values["created_at"]:
            values["created_at"] = parent.values["created_at"] + timedelta(days=1)
            values["updated_at"] = max(values["updated_at"], values["created_at"])

    def scaled_account_teams(self, built: list[_ScaledAccount]) -> int:
        """Coordinators, executives and KAMs on the accounts that deserve a team; and tags."""
        started = time_module.monotonic()
        make = instance_factory(AccountTeamMember)
        rng = self.rng
        with BulkInserter(AccountTeamMember) as inserter:
            for item in built:
                values = item.values
                jobs = self.team_people(item.team)
                tier = values["tier"]
                wanted: list[tuple[User, str]] = []
                if tier in {Tier.A, Tier.B} or rng.random() < 0.3:
                    wanted.append((jobs["coordinator"], TeamRole.COORDINATOR.value))
                if tier == Tier.A or (tier == Tier.B and rng.random() < 0.5):
                    wanted.append((jobs["account_manager"], TeamRole.EXECUTIVE.value))
                if values["is_key_account"]:
                    wanted.append((jobs["kam"], TeamRole.KAM.value))
                for user, role in wanted:
                    if user.pk != values["owner_id"] and user.pk not in item.members:
                        item.members.append(user.pk)
                        inserter.add(
                            make(
                                account_id=item.pk,
                                user_id=user.pk,
                                role=role,
                                created_at=values["created_at"],
                                updated_at=values["created_at"],
                            )
                        )
        self.timed("account team members", started, inserter.count)
        started = time_module.monotonic()
        tags = Tag.objects.bulk_create([Tag(name=name) for name in TAGS])
        through = Account.tags.through
        make_link = instance_factory(through)
        with BulkInserter(through) as links:
            for item in built:
                for tag in rng.sample(tags, self.fast_pick(TAG_COUNTS)):
                    links.add(make_link(account_id=item.pk, tag_id=tag.pk))
        self.timed("account tags", started, links.count)
        return inserter.count

    # --- contacts -----------------------------------------------------------------------------

    def scaled_contacts(self, built: list[_ScaledAccount], total: int) -> int:
        """``total`` contacts, at least one per account, many more at the busy ones.

        About one in eight also works with a second account: its group or subsidiary when it has
        one, else another account of the same team. Who they are (name, email, accounts) is
        decided here in creation order; the rest of each row is made in parallel (``_blocks``).
        """
        started = time_module.monotonic()
        random_, pick = self.rng.random, self.fast_pick
        weights = [item.weight**CONTACT_ACTIVITY_EXPONENT for item in built]
        counts = self.allocate(total, weights, minimum=1)
        # Contacts appear over the account's life (earlier more often), oldest first.
        slots: list[tuple[datetime, int]] = []
        for index, (item, count) in enumerate(zip(built, counts, strict=True)):
            since = item.values["created_at"]
            span = (self.now - since).total_seconds()
            slots.extend(
                (since + timedelta(seconds=span * random_() ** 2), index) for _ in range(count)
            )
        slots.sort(key=lambda slot: slot[0])
        by_team: dict[str, list[_ScaledAccount]] = {IBERIA: [], NORTH_AMERICA: []}
        children: dict[int, list[_ScaledAccount]] = {}
        for item in built:
            by_team[item.team].append(item)
            if item.parent is not None:
                children.setdefault(item.parent.pk, []).append(item)
        people: list[_ContactSeed] = []
        links: list[tuple[int, _ScaledAccount, bool, datetime]] = []
        first_id = next_free_id(Contact)
        for offset, (created_at, index) in enumerate(slots):
            item = built[index]
            pk = first_id + offset
            first, last, email = self.contact_name(item)
            full_name = escape(f"{first} {last}")
            item.contacts.append((pk, first, full_name))
            people.append((pk, index, created_at, first, last, email))
            links.append((pk, item, True, created_at))
            if random_() < 0.12:
                family = children.get(item.pk, [])
                if item.parent is not None:
                    family = [item.parent, *family]
                other = pick(family) if family else pick(by_team[item.team])
                if other is not item:
                    links.append((pk, other, False, created_at))
                    other.contacts.append((pk, first, full_name))
        self.phones.prepare()  # every stem now: the parallel blocks only vary them
        with BulkInserter(Contact) as inserter:
            blocks = [
                people[start : start + BLOCK_ROWS] for start in range(0, len(people), BLOCK_ROWS)
            ]
            state = {"builder": self, "built": built, "blocks": blocks, "inserter": inserter}
            for count, last_id, encoded in self.in_parallel(_contact_block, len(blocks), state):
                inserter.write_encoded(encoded, count=count, last_id=last_id)
                if inserter.count < total:
                    self.report("contacts", inserter.count, total, started)
        self.timed("contacts", started, inserter.count)
        started = time_module.monotonic()
        make_link = instance_factory(ContactAccount)
        with BulkInserter(ContactAccount) as link_inserter:
            for contact_id, item, is_primary, created_at in links:
                link_inserter.add(
                    make_link(
                        contact_id=contact_id,
                        account_id=item.pk,
                        is_primary=is_primary,
                        created_at=created_at,
                        updated_at=created_at,
                    )
                )
        self.timed("contact links", started, link_inserter.count)
        return inserter.count

    def contact_name(self, item: _ScaledAccount) -> tuple[str, str, str]:
        """First name, last name and an email at ``item``'s domain no colleague has."""
        pick = self.fast_pick
        pools = self.pools[item.language]
        first, last = pick(pools["first"]), pick(pools["last"])
        if item.language == "es" and self.rng.random() < 0.6:
            last = f"{last} {pick(pools['last'])}"
        local = f"{self.slug(first)}.{self.slug(last.split(' ')[0])}"[:40] or "contacto"
        candidate, counter = local, 1
        while candidate in item.email_locals:
            counter += 1
            candidate = f"{local}{counter}"
        item.email_locals.add(candidate)
        return first, last, f"{candidate}@{item.domain}"

    def scaled_contact(
        self,
        person: _ContactSeed,
        item: _ScaledAccount,
        random_: Callable[[], float],
        make: Callable[..., Contact],
    ) -> Contact:
        """The unsaved contact ``person`` at ``item``'s account, with derived columns computed."""
        pk, _index, created_at, first, last, email = person
        language = item.language
        country = item.values["country"]
        age = (self.now - created_at).total_seconds()
        number = self.phones.number

        def pick(options: Sequence[Any]) -> Any:
            return options[int(random_() * len(options))]

        contact = make(
            id=pk,
            first_name=first,
            last_name=last,
            email=email,
            phone=number(country, mobile=False, random_=random_) if random_() < 0.7 else "",
            mobile=number(country, mobile=True, random_=random_) if random_() < 0.8 else "",
            job_title=pick(JOB_TITLES[language]),
            buying_role=pick(BUYING_ROLES),
            preferred_channel=pick(CHANNELS),
            report_preference=pick(REPORT_PREFERENCES),
            language=language,
            special_requests=pick(SPECIAL_REQUESTS[language]) if random_() < 0.25 else "",
            do_not_contact=random_() < 0.03,
            created_by_id=item.values["owner_id"],
            created_at=created_at,
            updated_at=created_at + timedelta(seconds=age * random_() ** 3),
            version=1,
        )
        contact.refresh_search_fields()
        return contact

    def in_parallel(
        self, function: Callable[[int], _Block], blocks: int, state: dict[str, Any]
    ) -> Iterator[_Block]:
        """``function`` of each block number, in order, on ``self.workers`` processes.

        Each block draws from its own random generator (seeded by the demo's seed and the block
        number), so the book is the same whatever the number of processes. The processes are
        forked with ``state`` in place and never touch the database connection: the parent
        writes what they return.
        """
        _FORKED.clear()
        _FORKED.update(state)
        try:
            if self.workers <= 1 or blocks <= 1:
                yield from map(function, range(blocks))
                return
            context = multiprocessing.get_context("fork")
            with context.Pool(self.workers) as pool:
                yield from pool.imap(function, range(blocks))
        finally:
            _FORKED.clear()

    def scaled_opportunities(self, built: list[_ScaledAccount], total: int) -> int:
        """The catalogue and ``total`` deals, weighted like the timeline (busy accounts more)."""
        started = time_module.monotonic()
        maker = _DealMaker(random.Random(f"{self.seed}:opportunities"), self.now, demo_catalogue())
        accounts = [
            DealAccount(
                pk=item.pk,
                name=item.values["name"],
                language=item.language,
                owner_id=item.values["owner_id"],
                currency=item.values.get("currency") or "EUR",
                tier=item.values["tier"],
                members=item.members,
                contacts=[contact[0] for contact in item.contacts],
                created_at=item.values["created_at"],
            )
            for item in built
        ]
        count = maker.deals(
            accounts,
            [item.weight for item in built],
            total,
            report=lambda done: self.report("opportunities", done, total, started),
        )
        self.timed("opportunities (with their history and lines)", started, count)
        return count

    def report(self, label: str, done: int, total: int, started: float) -> None:
        """A progress line for a long table, about every tenth of it."""
        step = max(1, total // PROGRESS_STEPS)
        if done // step == self.reported.get(label, 0):
            return
        self.reported[label] = done // step
        elapsed = time_module.monotonic() - started
        rate = done / elapsed if elapsed > 0 else 0.0
        self.progress(f"  {label}: {done:,} of {total:,} ({done / total:.0%}), {rate:,.0f} rows/s")

    # --- timeline -----------------------------------------------------------------------------

    def scaled_interactions(self, built: list[_ScaledAccount], total: int) -> int:
        """``total`` interactions over about three years, oldest first, most on busy accounts.

        Which account each is on and which day is decided here; the rows themselves are made
        in parallel, a few days at a time (``_blocks``).
        """
        started = time_module.monotonic()
        random_ = self.rng.random
        earliest = self.now - timedelta(days=SCALED_HISTORY_DAYS)
        counts = self.allocate(total, [item.weight for item in built], minimum=0)
        days: list[list[int]] = [[] for _ in range(SCALED_HISTORY_DAYS + 1)]
        for index, (item, count) in enumerate(zip(built, counts, strict=True)):
            start = max(item.values["created_at"], earliest)
            item.timeline_start = start
            offset = (start - earliest).total_seconds() / 86400
            span = SCALED_HISTORY_DAYS - offset
            for _ in range(count):
                days[min(int(offset + random_() * span), SCALED_HISTORY_DAYS)].append(index)
        # Blocks of whole days, about BLOCK_ROWS rows each, with the id each one starts at.
        blocks: list[tuple[int, int, int]] = []
        next_id = next_free_id(Interaction)
        first_day, rows = 0, 0
        for day, on_day in enumerate(days):
            rows += len(on_day)
            if rows >= BLOCK_ROWS or (rows and day == SCALED_HISTORY_DAYS):
                blocks.append((first_day, day + 1, next_id))
                next_id += rows
                first_day, rows = day + 1, 0
        with BulkInserter(Interaction) as inserter:
            state = {
                "builder": self,
                "built": built,
                "days": days,
                "blocks": blocks,
                "earliest": earliest,
                "inserter": inserter,
            }
            for count, last_id, encoded in self.in_parallel(_interaction_block, len(blocks), state):
                inserter.write_encoded(encoded, count=count, last_id=last_id)
                if inserter.count < total:
                    self.report("interactions", inserter.count, total, started)
        self.timed("interactions", started, inserter.count)
        return inserter.count

    def interaction_rows(
        self,
        built: list[_ScaledAccount],
        days: list[list[int]],
        block: tuple[int, int, int],
        earliest: datetime,
        random_generator: random.Random,
    ) -> Iterator[dict[str, Any]]:
        """The interactions of the days of ``block``, oldest first, by attname."""
        random_ = random_generator.random
        texts = {
            language: (
                {kind: _positional(SUBJECTS[language][kind]) for kind in SCALED_KINDS},
                _positional(BODIES[language]),
                TOPICS[language],
                MOODS[language],
                NEXT_STEPS[language],
            )
            for language in ("es", "en")
        }
        note, kinds = InteractionKind.NOTE.value, SCALED_KINDS
        durations = {
            InteractionKind.CALL.value: tuple(range(5, 46)),
            InteractionKind.MEETING.value: (30, 45, 60, 90, 120),
        }
        two_way = {InteractionKind.CALL.value, InteractionKind.EMAIL.value}
        inbound, outbound = Direction.INBOUND.value, Direction.OUTBOUND.value
        homes: dict[int, tuple[Any, ...]] = {}
        now = self.now
        first_day, end_day, pk = block
        for day in range(first_day, end_day):
            on_day = list(days[day])
            random_generator.shuffle(on_day)
            seconds = sorted(random_() * 86400 for _ in on_day)
            midnight = earliest + timedelta(days=day)
            for index, second in zip(on_day, seconds, strict=True):
                home = homes.get(index)
                if home is None:
                    item = built[index]
                    values = item.values
                    home = homes[index] = (
                        item.pk,
                        item.contacts,
                        values["city"],
                        values["name"].split(" ")[0],
                        escape(values["name"]),
                        (values["owner_id"], *item.members),
                        item.timeline_start or earliest,
                        texts[item.language],
                    )
                account_id, contacts, city, first_word, name, authors, start, words = home
                subjects, bodies, topics, moods, steps = words
                occurred_at = midnight + timedelta(seconds=second)
                if occurred_at < start:
                    occurred_at = start + timedelta(seconds=random_() * 3600)
                if occurred_at > now:
                    occurred_at = now
                kind = kinds[int(random_() * len(kinds))]
                contact = (
                    contacts[int(random_() * len(contacts))]
                    if contacts and (kind != note or random_() < 0.3)
                    else None
                )
                text = (
                    contact[1] if contact else first_word,
                    contact[2] if contact else name,
                    city,
                    topics[int(random_() * len(topics))],
                    moods[int(random_() * len(moods))],
                    steps[int(random_() * len(steps))],
                    steps[int(random_() * len(steps))],
                )
                options = subjects[kind]
                duration = durations.get(kind)
                yield {
                    "id": pk,
                    "account_id": account_id,
                    "contact_id": contact[0] if contact else None,
                    "kind": kind,
                    "direction": inbound if kind in two_way and random_() < 0.35 else outbound,
                    "subject": options[int(random_() * len(options))].format(*text)[:200],
                    "body": bodies[int(random_() * len(bodies))].format(*text),
                    "occurred_at": occurred_at,
                    "duration_minutes": duration[int(random_() * len(duration))]
                    if duration
                    else None,
                    "author_id": authors[int(random_() * len(authors))],
                    "created_at": occurred_at,
                    "updated_at": occurred_at,
                    "version": 1,
                }
                pk += 1

    # --- edits through the services ------------------------------------------------------------

    def scaled_service_edits(self, built: list[_ScaledAccount]) -> int:
        """The small demo's everyday edits (audited, with actors) on a sample of accounts."""
        alive = [
            item
            for item in built
            if item.contacts and item.values["status"] != AccountStatus.CHURNED
        ]
        churned = [item for item in built if item.values["status"] == AccountStatus.CHURNED]
        sample = [
            *self.rng.sample(alive, min(len(alive), 24)),
            *self.rng.sample(churned, min(len(churned), 2)),
        ]
        accounts = Account.objects.select_related("owner").in_bulk([item.pk for item in sample])
        members = User.objects.in_bulk({pk for item in sample for pk in item.members})
        contact_ids = [contact[0] for item in sample for contact in item.contacts[:4]]
        contacts = Contact.objects.in_bulk(contact_ids)
        self.emails.update(contact.email for contact in contacts.values())
        demo_accounts = [
            _DemoAccount(
                account=accounts[item.pk],
                language=item.language,
                domain=item.domain,
                team=item.team,
                members=[members[pk] for pk in item.members],
                contacts=[contacts[contact[0]] for contact in item.contacts[:4]],
                weight=item.weight,
            )
            for item in sample
        ]
        return self.service_edits(demo_accounts)


#: Rows per block of work handed to a process (a few megabytes of COPY text).
BLOCK_ROWS = 5000
MAX_WORKERS = 4

#: What a block of work gives back: its row count, its last id and its encoded rows.
_Block = tuple[int, int, Any]

#: A contact decided in creation order: id, account index, created at, first and last name, email.
_ContactSeed = tuple[int, int, datetime, str, str, str]

#: The big demo's state, in place before the worker processes are forked (they read it).
_FORKED: dict[str, Any] = {}


def _contact_block(block: int) -> _Block:
    """Make, derive and encode the contacts of ``block`` (in a worker process or not)."""
    builder: _ScaledBuilder = _FORKED["builder"]
    built: list[_ScaledAccount] = _FORKED["built"]
    inserter: BulkInserter[Contact] = _FORKED["inserter"]
    people: list[_ContactSeed] = _FORKED["blocks"][block]
    random_ = random.Random(f"{builder.seed}:contacts:{block}").random
    make = instance_factory(Contact)
    rows = [
        inserter.row(builder.scaled_contact(person, built[person[1]], random_, make))
        for person in people
    ]
    return len(rows), people[-1][0], inserter.encode(rows)


def _interaction_block(block: int) -> _Block:
    """Make and encode the interactions of ``block`` (in a worker process or not)."""
    builder: _ScaledBuilder = _FORKED["builder"]
    inserter: BulkInserter[Interaction] = _FORKED["inserter"]
    generator = random.Random(f"{builder.seed}:interactions:{block}")
    rows = builder.interaction_rows(
        _FORKED["built"], _FORKED["days"], _FORKED["blocks"][block], _FORKED["earliest"], generator
    )
    # Interactions derive no column today; if they ever do, the model computes it.
    if hasattr(Interaction, "refresh_search_fields"):
        make = instance_factory(Interaction)
        prepared = []
        for values in rows:
            interaction = make(**values)
            interaction.refresh_search_fields()  # type: ignore[attr-defined]
            prepared.append(inserter.row(interaction))
    else:
        prepared = [inserter.values_row(values) for values in rows]
    first_id = _FORKED["blocks"][block][2]
    return len(prepared), first_id + len(prepared) - 1, inserter.encode(prepared)


def seed_scaled_demo(
    *,
    seed: int = DEFAULT_SEED,
    accounts: int,
    contacts: int,
    interactions: int,
    opportunities: int | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> DemoSummary:
    """Fill an empty database with a big demo book (the medium and large sizes), fast.

    The same personas, teams and kinds of rows as ``seed_demo``, in realistic proportions: a long
    tail of quiet accounts and a few with thousands of interactions and hundreds of contacts.
    Rows are bulk-written in one transaction (``COPY`` on PostgreSQL) with their derived columns
    computed by the models, contacts and interactions made by ``workers`` processes (default:
    one per CPU, up to four; the book is the same for any number); then a few dozen edits go
    through the services for the history, and the database's statistics are refreshed
    (``ANALYZE``).
    """
    if workers is None:
        workers = min(MAX_WORKERS, os.cpu_count() or 1)
    if opportunities is None:
        opportunities = OPPORTUNITIES_PER_ACCOUNT * accounts
    builder = _ScaledBuilder(seed, accounts, progress, workers)
    loaded: tuple[type[models.Model], ...] = (
        Account,
        Account.tags.through,
        AccountTeamMember,
        Contact,
        ContactAccount,
        Interaction,
        *PIPELINE_MODELS,
    )
    # Millions of long-lived rows and no reference cycles: the cyclic garbage collector would
    # only rescan them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with transaction.atomic():
            users, teams = builder.people()
            with indexes_built_after(*loaded, progress=builder.progress):
                built = builder.scaled_accounts(accounts)
                builder.scaled_account_teams(built)
                contact_count = builder.scaled_contacts(built, contacts)
                interaction_count = builder.scaled_interactions(built, interactions)
                opportunity_count = builder.scaled_opportunities(built, opportunities)
                started = time_module.monotonic()
            builder.timings["indexes and foreign keys"] = time_module.monotonic() - started
            reset_sequences(*loaded)
            edits = builder.scaled_service_edits(built)
            started = time_module.monotonic()
            rebuild_rollups()  # the deals were bulk-written: the board's totals from them
            builder.timings["deal totals"] = time_module.monotonic() - started
    finally:
        if collecting:
            gc.enable()
    started = time_module.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    builder.timings["statistics (ANALYZE)"] = elapsed = time_module.monotonic() - started
    builder.progress(f"  statistics (ANALYZE): {elapsed:.1f}s")
    return DemoSummary(
        users=users,
        teams=teams,
        accounts=len(built),
        contacts=contact_count,
        interactions=interaction_count,
        opportunities=opportunity_count,
        service_edits=edits,
        personas=dict(builder.personas),
        timings=dict(builder.timings),
    )


def demo_logins() -> list[tuple[Persona, User]]:
    """The demo personas that exist in this database, with their users."""
    users = {
        user.email: user for user in User.objects.filter(email__in=[p.email for p in PERSONAS])
    }
    return [(persona, users[persona.email]) for persona in PERSONAS if persona.email in users]
