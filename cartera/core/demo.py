"""A deterministic, bilingual demo book of business (``cartera demo``).

Two teams share the demo: "Iberia" looks after Spanish-speaking accounts (Spain and Latin
America, names from Faker's ``es_ES``) and "North America" after English-speaking ones
(``en_US``). Every persona sees a realistic book through the normal access rules.

Rows are bulk-inserted for speed (a couple of seconds for 200 accounts, 1,000 contacts and
5,000 interactions); then a few dozen changes go through the services, as people would make them,
so History tabs show real audit entries with their actors.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import phonenumbers
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from faker import Faker

from cartera.accounts.models import (
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
from cartera.contacts.models import (
    BuyingRole,
    Channel,
    Contact,
    ContactAccount,
    ReportPreference,
)
from cartera.contacts.services import create_contact, trash_contact, update_contact
from cartera.core.audit import audited
from cartera.core.text import normalize
from cartera.users.models import Role, User
from cartera.users.services import create_team, create_user, update_team

DEMO_PASSWORD = "Cartera-Demo-2025"
DEFAULT_SEED = 2025
DEFAULT_ACCOUNTS = 200
DEFAULT_CONTACTS = 1000
DEFAULT_INTERACTIONS = 5000
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
    service_edits: int = 0
    personas: dict[str, User] = field(default_factory=dict)


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
            [
                "parent",
                "name",
                "website",
                "email",
                "name_key",
                "search_text",
            ],
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
        edits = builder.service_edits(built)
    return DemoSummary(
        users=users,
        teams=teams,
        accounts=len(built),
        contacts=contact_count,
        interactions=interaction_count,
        service_edits=edits,
        personas=dict(builder.personas),
    )


def demo_logins() -> list[tuple[Persona, User]]:
    """The demo personas that exist in this database, with their users."""
    users = {
        user.email: user for user in User.objects.filter(email__in=[p.email for p in PERSONAS])
    }
    return [(persona, users[persona.email]) for persona in PERSONAS if persona.email in users]
