"""Importers of the pipeline kinds: people and teams, products (with list prices), and
opportunities (with their product line and stage history).

They run on the engine of ``engine.py`` (batches of one transaction with the job's checkpoint,
dry runs, every row accounted for, audit entries attributed to the importing person and the
job) and are registered in ``engine.IMPORTERS`` by :func:`register` (``ImportsConfig.ready()``).

- ``users`` (administrators): a person per row, matched by email, then full name. Rows without
  an email get a made-up, stable one (``first.last@<email_domain>``, default
  ``imported.invalid``) and an unusable password (they sign in once an administrator sends them
  a password reset). The manager column names (or creates) the manager, who gets the manager role
  and a team named after them (office = the regional office column); the row's person joins it.
- ``products`` (administrators and directors): a product per row, matched by SKU, then name; a
  missing SKU is made from the name (``GTX Pro`` → ``GTX-PRO``). The price goes to the
  all-customers price list of the row's currency (``List prices USD`` is created if missing).
- ``opportunities`` (people who may write): see :class:`OpportunityImporter`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from cartera.catalog.models import PriceList, PriceListItem, Product
from cartera.core import bulk
from cartera.core.errors import DomainError, Forbidden, InvalidInput
from cartera.core.services import validate
from cartera.core.text import normalize
from cartera.leads.models import Lead, LeadSource
from cartera.sales import rollups
from cartera.sales.models import (
    ForecastCategory,
    Opportunity,
    OpportunityLine,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)
from cartera.users.models import Role, Team, User

from . import mapping as mp
from .engine import (
    CREATED,
    IMPORTERS,
    UNCHANGED,
    UPDATED,
    AccountFinder,
    Change,
    Importer,
    Row,
    _matching,
    _same,
)
from .mapping_sales import DATE_FIELDS, LEAD_FIELDS, PRODUCT_FIELDS, check_domain
from .models import ImportJob, ImportKind

#: The domain of made-up emails when the import gives none.
DEFAULT_EMAIL_DOMAIN = "imported.invalid"
#: Roles a person named as a manager is raised from (to ``manager``).
_BELOW_MANAGER = {Role.SALES_REP, Role.ACCOUNT_MANAGER, Role.COORDINATOR, Role.READ_ONLY}
_SQUASH = re.compile(r"[^0-9a-z]+")
_NOON = dt.time(12, 0)


def squash(text: str) -> str:
    """A name compared without case, accents, spaces or punctuation: ``GTXPro`` = ``GTX Pro``."""
    return _SQUASH.sub("", normalize(text))


# --- who may import what -------------------------------------------------------------------------


def ensure_can_import_kind(actor: User, kind: str) -> None:
    """People and teams: administrators; products: administrators and directors."""
    if kind == ImportKind.USERS and not actor.is_admin:
        raise Forbidden(_("Only administrators can import people and teams."))
    if kind == ImportKind.PRODUCTS and not (actor.is_admin or actor.role == Role.DIRECTOR):
        raise Forbidden(_("Only administrators and directors can import products."))


def kinds_for(actor: User) -> list[tuple[str, Any]]:
    """The kinds ``actor`` may import, for a choice list."""
    allowed = []
    for value, label in ImportKind.choices:
        try:
            ensure_can_import_kind(actor, value)
        except Forbidden:
            continue
        allowed.append((value, label))
    return allowed


def validate_options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """The kind's own options (opportunities: ``stage_map``, ``add_stages``), checked."""
    if kind != ImportKind.OPPORTUNITIES:
        if options:
            raise InvalidInput(
                field_errors={"options": [_("This kind of import has no such options.")]}
            )
        return {}
    cleaned: dict[str, Any] = {}
    errors: list[str] = []
    for name, value in options.items():
        if name == "stage_map":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip()
                for k, v in value.items()
            ):
                errors.append(_("Map stages as file value → stage name."))
                continue
            cleaned["stage_map"] = {k.strip(): v.strip() for k, v in value.items()}
        elif name == "add_stages":
            cleaned["add_stages"] = bool(value)
        else:
            errors.append(_("Unknown option %(name)s.") % {"name": name})
    if errors:
        raise InvalidInput(field_errors={"options": errors})
    return cleaned


class _SalesImporter(Importer):
    """What the pipeline kinds share: dates and percentages, and who may run them."""

    def run(self, table: Any, **kwargs: Any) -> None:
        ensure_can_import_kind(self.actor, self.kind)
        super().run(table, **kwargs)

    def convert_special(self, row: Row, spec: mp.FieldSpec, raw: str) -> None:
        if spec.name in DATE_FIELDS:
            moment = mp.to_datetime(raw, day_first=self.day_first, tz=self.tz)
            row.data[spec.name] = moment.astimezone(self.tz).date()
        elif spec.type == "percent":
            text = raw.strip().rstrip("%").strip()
            try:
                value = mp.parse_number(text)
            except (InvalidOperation, ValueError) as error:
                raise mp.ConversionError(_("Not a percentage: %(value)s.") % {"value": raw}) from (
                    error
                )
            if not Decimal(0) <= value <= Decimal(100):
                raise mp.ConversionError(_("A percentage goes from 0 to 100."))
            row.data[spec.name] = value.quantize(Decimal("0.01"))
        else:
            super().convert_special(row, spec, raw)

    def moment(self, day: dt.date) -> dt.datetime:
        """A date as a moment: noon in the importing person's time zone (the same date in
        UTC wherever they are)."""
        return dt.datetime.combine(day, _NOON, tzinfo=self.tz)

    def currency(self, row: Row) -> str:
        """The row's currency: its column, a currency sign in its amount, or the default."""
        data = row.data
        return str(
            data.get("currency") or data.get("_currency") or settings.CARTERA_CURRENCY
        ).upper()

    def orm_write(self, changes: list[Change], model: type[models.Model]) -> list[LogEntry]:
        """Save ``changes`` one by one (small tables: people, teams, stages), without
        auditlog's signals; returns their audit entries (with the job)."""
        with disable_auditlog():
            for change in changes:
                record = change.record
                if change.created:
                    record.save(force_insert=True)
                elif change.fields:
                    names = {mp_field(model, name) for name in change.fields}
                    record.save(update_fields=names)
        return self.audit(changes, model)

    def audited_entries(self, changes: list[Change], model: type[models.Model]) -> list[LogEntry]:
        """Audit entries of ``changes`` when ``model`` is in the audit trail."""
        if not changes or not auditlog.contains(model):
            return []
        return self.audit(changes, model)


def mp_field(model: type[models.Model], attribute: str) -> str:
    """The field name of an attribute (``team_id`` → ``team``)."""
    for field in model._meta.concrete_fields:
        if field.attname == attribute:
            return field.name
    return attribute


# --- people and teams ----------------------------------------------------------------------------


def made_up_email(full_name: str, domain: str) -> str:
    """``Anna Snelling`` → ``anna.snelling@imported.invalid``: stable for the same name."""
    local = ".".join(part for part in re.split(r"[^0-9a-z]+", normalize(full_name)) if part)
    return f"{(local or 'person')[:60]}@{domain}"


class UserImporter(_SalesImporter):
    """People (and, from the manager column, managers and their teams)."""

    model = User
    kind = ImportKind.USERS
    strong_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, job: ImportJob, *, dry_run: bool) -> None:
        super().__init__(job, dry_run=dry_run)
        self.users: list[User] | None = None
        self.teams: list[Team] | None = None

    def all_users(self) -> list[User]:
        if self.users is None:
            self.users = list(User.objects.order_by("pk"))
        return self.users

    def all_teams(self) -> list[Team]:
        if self.teams is None:
            self.teams = list(Team.objects.select_related("manager").order_by("pk"))
        return self.teams

    def domain(self, row: Row) -> str | None:
        text = row.data.get("email_domain") or DEFAULT_EMAIL_DOMAIN
        try:
            return check_domain(str(text))
        except mp.ConversionError as error:
            row.reject(row.columns.get("email_domain", ""), "email_domain", str(error))
            return None

    def key_values(self, row: Row) -> dict[str, str]:
        data = row.data
        keys: dict[str, str] = {}
        email = data.get("email") or data.get("_email")
        if email:
            keys["email"] = email.lower()
        if data.get("full_name"):
            keys["name"] = normalize(data["full_name"])
        return keys

    def record_keys(self, record: Any) -> dict[str, str]:
        return {"email": (record.email or "").lower(), "name": normalize(record.full_name)}

    def lookup(self, key: str, values: set[str]) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = defaultdict(list)
        for person in self.all_users():
            value = self.record_keys(person)[key]
            if value in values:
                found[value].append(person)
        return found

    def writable_ids(self, ids: set[int]) -> set[int]:
        return set(ids) if self.actor.is_admin else set()

    def not_writable_reason(self, key: str) -> str:
        return _("Only administrators can change people.")

    def apply_rows(self, rows: list[Row]) -> list[Change]:
        for row in rows:
            domain = self.domain(row)
            if domain and not row.data.get("email") and row.data.get("full_name"):
                row.data["_email"] = made_up_email(row.data["full_name"], domain)
        rows = [row for row in rows if not row.errors]
        self.match(rows)
        pending: dict[tuple[str, str], Any] = {}
        self.user_changes: dict[int, Change] = {}
        self.team_changes: dict[int, Change] = {}
        for position, row in enumerate(rows):
            person = self.find(position, row, pending)
            if row.errors:
                continue
            row.outcome = UNCHANGED
            values: dict[str, Any] = {}
            if row.data.get("full_name"):
                values["full_name"] = row.data["full_name"]
            if row.data.get("email"):
                values["email"] = row.data["email"].lower()
            if "role" in row.data:
                values["role"] = row.data["role"]
            if person is None:
                if not values.get("full_name"):
                    values["full_name"] = (values.get("email") or "").split("@")[0][:150]
                values.setdefault("email", row.data.get("_email", ""))
                values.setdefault("role", Role.SALES_REP)
                person = self.new_person(values, row)
                row.outcome = CREATED
            elif self.change_person(person, values):
                row.outcome = UPDATED
            row.record = person
            self.remember(person, pending)
            team = self.team_of_row(row, person, pending)
            if row.errors:
                continue
            if team is not None and self.join(person, team) and row.outcome == UNCHANGED:
                row.outcome = UPDATED
        changes = [*self.user_changes.values(), *self.team_changes.values()]
        if self.dry_run:
            for change in changes:
                self.pk_for(change.record)
        return changes

    def new_person(self, values: dict[str, Any], row: Row | None) -> User:
        person = User(is_active=True, created_at=self.now)
        person.set_unusable_password()
        for name, value in values.items():
            setattr(person, name, value)
        person.is_staff = person.is_superuser = person.role == Role.ADMIN
        self.user_changes[id(person)] = Change(record=person, created=True)
        self.all_users().append(person)
        return person

    def change_person(self, person: User, values: dict[str, Any]) -> bool:
        change = self.user_changes.get(id(person)) or Change(
            record=person, created=person.pk is None or person.pk < 0
        )
        if self.set_fields(person, values, change, creating=change.created):
            if "role" in change.fields:
                person.is_staff = person.is_superuser = person.role == Role.ADMIN
                change.fields |= {"is_staff", "is_superuser"}
            self.user_changes[id(person)] = change
            return True
        return False

    def person_named(self, text: str, row: Row, pending: dict[tuple[str, str], Any]) -> User | None:
        """The manager a row names (email or full name): existing, made by an earlier row, or
        made now with the manager role."""
        text = text.strip()
        lowered, key = text.lower(), normalize(text)
        matches = [
            person
            for person in self.all_users()
            if (person.email or "").lower() == lowered or normalize(person.full_name) == key
        ]
        if len(matches) > 1:
            row.reject(
                row.columns.get("manager", ""),
                "manager",
                _("%(count)s people are called %(name)s; use the manager's email.")
                % {"count": len(matches), "name": text},
            )
            return None
        if matches:
            manager = matches[0]
            if (
                manager.role in _BELOW_MANAGER
                and self.change_person(manager, {"role": Role.MANAGER})
                and row.outcome == UNCHANGED
            ):
                row.outcome = UPDATED
            return manager
        if "@" in text:
            try:
                email = mp.to_email(text, 254)
            except mp.ConversionError as error:
                row.reject(row.columns.get("manager", ""), "manager", str(error))
                return None
            values = {"email": email.lower(), "full_name": email.split("@")[0][:150]}
        else:
            domain = self.domain(row)
            if domain is None:
                return None
            values = {"full_name": text[:150], "email": made_up_email(text, domain)}
        values["role"] = Role.MANAGER
        manager = self.new_person(values, None)
        self.remember(manager, pending)
        if row.outcome == UNCHANGED:
            row.outcome = UPDATED
        return manager

    def team_of_row(self, row: Row, person: User, pending: dict[tuple[str, str], Any]) -> Any:
        """The team the row puts its person in: the team column, else the manager's team."""
        data = row.data
        manager = self.person_named(data["manager"], row, pending) if data.get("manager") else None
        if row.errors:
            return None
        if manager is person:
            manager = None
        name = data.get("team") or (manager.full_name[:120] if manager is not None else "")
        if not name:
            if data.get("office"):
                row.warn(
                    row.columns.get("office", ""),
                    "office",
                    _("Without a manager or a team, the office was not set."),
                )
            return None
        team = None
        if manager is not None and not data.get("team"):
            team = next((t for t in self.all_teams() if t.manager is manager), None)
            if team is None and manager.pk is not None:
                team = next((t for t in self.all_teams() if t.manager_id == manager.pk), None)
        if team is None:
            key = normalize(name)
            team = next((t for t in self.all_teams() if normalize(t.name) == key), None)
            if (
                team is not None
                and manager is not None
                and team.manager_id is not None
                and team.manager_id != manager.pk
                and not data.get("team")
            ):
                row.reject(
                    row.columns.get("manager", ""),
                    "manager",
                    _("A team called %(name)s already has another manager.") % {"name": name},
                )
                return None
        values: dict[str, Any] = {}
        if manager is not None:
            values["manager"] = manager
        if data.get("office"):
            values["office"] = data["office"]
        if team is None:
            team = Team(name=name, created_at=self.now)
            self.team_changes[id(team)] = Change(record=team, created=True)
            self.all_teams().append(team)
            for attribute, value in values.items():
                setattr(team, attribute, value)
            if row.outcome == UNCHANGED:
                row.outcome = UPDATED
        else:
            change = self.team_changes.get(id(team)) or Change(
                record=team, created=team.pk is None or team.pk < 0
            )
            changed = False
            if (
                manager is not None
                and team.manager is not manager
                and (change.created or team.manager_id != manager.pk or manager.pk is None)
            ):
                if not change.created and "manager_id" not in change.before:
                    change.before["manager_id"] = team.manager_id
                team.manager = manager
                change.fields.add("manager_id")
                changed = True
            if "office" in values and self.set_fields(
                team, {"office": values["office"]}, change, creating=change.created
            ):
                changed = True
            if changed:
                self.team_changes[id(team)] = change
                if row.outcome == UNCHANGED:
                    row.outcome = UPDATED
        if manager is not None and manager.team_id is None and manager.team is None:
            self.join(manager, team)
        return team

    def join(self, person: User, team: Team) -> bool:
        """Put ``person`` in ``team``; True if that changed anything."""
        joining = person.__dict__.get("_import_team")
        if joining is team:
            return False
        if joining is None and team.pk is not None and person.team_id == team.pk:
            return False
        change = self.user_changes.get(id(person)) or Change(
            record=person, created=person.pk is None or person.pk < 0
        )
        if not change.created and "team_id" not in change.before:
            change.before["team_id"] = person.team_id
        person._import_team = team  # type: ignore[attr-defined]
        person.team = team if team.pk is not None else None
        change.fields.add("team_id")
        self.user_changes[id(person)] = change
        return True

    def write(self, changes: list[Change], rows: list[Row]) -> None:
        users = [change for change in changes if isinstance(change.record, User)]
        teams = [change for change in changes if isinstance(change.record, Team)]
        entries: list[LogEntry] = []
        with disable_auditlog():
            for change in users:  # teams may not exist yet: their id is set below
                person = change.record
                team = getattr(person, "_import_team", None)
                if team is not None and team.pk is None:
                    person.team = None
                if change.created:
                    person.save(force_insert=True)
                elif change.fields:
                    person.save(update_fields={mp_field(User, name) for name in change.fields})
            for change in teams:
                team = change.record
                if team.manager is not None:
                    team.manager_id = team.manager.pk
                if change.created:
                    team.save(force_insert=True)
                elif change.fields:
                    team.save(update_fields={mp_field(Team, name) for name in change.fields})
            for change in users:
                person = change.record
                team = getattr(person, "_import_team", None)
                if team is not None and person.team_id != team.pk:
                    person.team = team
                    person.save(update_fields=["team"])
        entries += self.audit(users, User)
        entries += self.audit(teams, Team)
        self.write_audit(entries)
        self.users = None
        self.teams = None


# --- products -----------------------------------------------------------------------------------

_PRODUCT_ATTRIBUTES = {spec.name: spec.attribute for spec in PRODUCT_FIELDS if spec.attribute}


def sku_from_name(name: str) -> str:
    """``GTX Pro`` → ``GTX-PRO``."""
    parts = [part for part in re.split(r"[^0-9A-Z]+", normalize(name).upper()) if part]
    return "-".join(parts)[:60] or "PRODUCT"


class ProductImporter(_SalesImporter):
    """Products of the catalogue and their list price in the row's currency."""

    model = Product
    kind = ImportKind.PRODUCTS
    strong_keys: ClassVar[tuple[str, ...]] = ("sku",)

    def key_values(self, row: Row) -> dict[str, str]:
        data = row.data
        keys: dict[str, str] = {}
        if data.get("sku"):
            keys["sku"] = data["sku"].upper()
        if data.get("name"):
            keys["name"] = normalize(data["name"])[:200]
        return keys

    def record_keys(self, record: Any) -> dict[str, str]:
        return {"sku": (record.sku or "").upper(), "name": record.name_key}

    def lookup(self, key: str, values: set[str]) -> dict[str, list[Any]]:
        queryset = Product.objects.all()
        if key == "sku":
            queryset = queryset.annotate(sku_upper=Upper("sku")).filter(sku_upper__in=list(values))
        else:
            queryset = queryset.filter(name_key__in=list(values))
        if connection.features.has_select_for_update and not self.dry_run:
            queryset = queryset.select_for_update(of=("self",))
        found: dict[str, list[Any]] = defaultdict(list)
        for product in queryset.order_by("pk"):
            found[self.record_keys(product)[key]].append(product)
        return found

    def writable_ids(self, ids: set[int]) -> set[int]:
        return set(ids)

    def apply_rows(self, rows: list[Row]) -> list[Change]:
        self.match(rows)
        pending: dict[tuple[str, str], Any] = {}
        changes: dict[int, Change] = {}
        self.price_changes: list[Change] = []
        self.list_changes: list[Change] = []
        prices = self.prices_of(rows)
        for position, row in enumerate(rows):
            product = self.find(position, row, pending)
            if row.errors:
                continue
            values = {
                attribute: row.data[name]
                for name, attribute in _PRODUCT_ATTRIBUTES.items()
                if name in row.data
            }
            if "sku" in values:
                values["sku"] = values["sku"].upper()
            if product is None:
                if not values.get("name"):
                    row.reject(
                        row.columns.get("name", ""), "name", _("The product's name is empty.")
                    )
                    continue
                if "sku" not in values:
                    values["sku"] = self.free_sku(sku_from_name(values["name"]), pending)
                elif self.sku_taken(values["sku"], pending):
                    row.reject(
                        row.columns.get("sku", ""),
                        "sku",
                        _("Another product has the SKU %(sku)s.") % {"sku": values["sku"]},
                    )
                    continue
                product = bulk.new(Product, created_at=self.now)
                change = Change(record=product, created=True)
                self.set_fields(product, values, change, creating=True)
                product.name_key = normalize(product.name)[:200]
                changes[id(product)] = change
                row.outcome = CREATED
            else:
                change = changes.get(id(product)) or Change(
                    record=product, created=product.pk is None or product.pk < 0
                )
                if self.set_fields(product, values, change, creating=change.created):
                    if "name" in change.fields:
                        product.name_key = normalize(product.name)[:200]
                        change.fields.add("name_key")
                    changes[id(product)] = change
                    row.outcome = UPDATED
                else:
                    row.outcome = UNCHANGED
            row.record = product
            self.remember(product, pending)
            priced = "price" in row.data and self.set_price(product, row, prices)
            if priced and row.outcome == UNCHANGED:
                row.outcome = UPDATED
        result = list(changes.values())
        if self.dry_run:
            for change in [*result, *self.list_changes, *self.price_changes]:
                self.pk_for(change.record)
        return result

    def sku_taken(self, sku: str, pending: dict[tuple[str, str], Any]) -> bool:
        if ("sku", sku) in pending or (self.dry_run and ("sku", sku) in self.memory):
            return True
        return Product.objects.filter(sku__iexact=sku).exists()

    def free_sku(self, base: str, pending: dict[tuple[str, str], Any]) -> str:
        candidate, number = base, 1
        while self.sku_taken(candidate, pending):
            number += 1
            candidate = f"{base}-{number}"
        return candidate

    def prices_of(self, rows: list[Row]) -> dict[str, Any]:
        """The batch's price lists by currency: (list, {product id: item})."""
        self.lists: dict[str, Any] = getattr(self, "lists", {})
        for row in rows:
            if "price" not in row.data or row.errors:
                continue
            currency = self.currency(row)
            if currency in self.lists:
                continue
            price_list = (
                PriceList.objects.filter(currency=currency, segment="", is_active=True)
                .order_by("pk")
                .first()
            )
            items: dict[int, PriceListItem] = {}
            if price_list is not None:
                items = {item.product_id: item for item in price_list.items.all()}
            self.lists[currency] = (price_list, items)
        return self.lists

    def set_price(self, product: Product, row: Row, prices: dict[str, Any]) -> bool:
        """Put the row's price on its currency's list; True if that changed anything."""
        currency = self.currency(row)
        price_list, items = prices.get(currency, (None, {}))
        if price_list is None:
            price_list = bulk.new(
                PriceList,
                name=(_("List prices %(currency)s") % {"currency": currency})[:120],
                currency=currency,
                segment="",
                created_at=self.now,
            )
            self.list_changes.append(Change(record=price_list, created=True))
            prices[currency] = (price_list, items)
        amount = row.data["price"]
        key = product.pk if product.pk is not None and product.pk > 0 else id(product)
        item = items.get(key)
        if item is None:
            item = bulk.new(PriceListItem, unit_price=amount)
            item._import_list = price_list  # type: ignore[attr-defined]
            item._import_product = product  # type: ignore[attr-defined]
            items[key] = item
            self.price_changes.append(Change(record=item, created=True))
            return True
        if item.unit_price == amount:
            return False
        change = next((c for c in self.price_changes if c.record is item), None)
        if change is None:
            change = Change(record=item, created=item.pk is None)
            self.price_changes.append(change)
        if not change.created and "unit_price" not in change.before:
            change.before["unit_price"] = item.unit_price
        item.unit_price = amount
        change.fields.add("unit_price")
        return True

    def write(self, changes: list[Change], rows: list[Row]) -> None:
        new = [change.record for change in changes if change.created]
        updated = [change for change in changes if not change.created]
        self.bulk_insert(Product, new)
        self.bulk_save(Product, updated)
        entries = self.audit(changes, Product)
        entries += self.orm_write(self.list_changes, PriceList)
        for change in self.price_changes:
            item = change.record
            if change.created:
                item.price_list_id = item._import_list.pk
                item.product_id = item._import_product.pk
        new_items = [change.record for change in self.price_changes if change.created]
        self.bulk_insert(PriceListItem, new_items)
        updated_items = [change.record for change in self.price_changes if not change.created]
        bulk.update(PriceListItem, updated_items, ["unit_price"])
        entries += self.audit(self.price_changes, PriceListItem)
        self.write_audit(entries)
        # Items now have ids: key them by product id for the next batches.
        for _currency, (_list, items) in self.lists.items():
            for key, item in list(items.items()):
                if item.product_id and key != item.product_id:
                    items[item.product_id] = items.pop(key)


# --- opportunities ------------------------------------------------------------------------------

#: Words that name a won or a lost stage in other systems' exports.
_WON_WORDS = {"won", "closed won", "closedwon", "win", "ganada", "ganado", "cerrada ganada"}
_LOST_WORDS = {"lost", "closed lost", "closedlost", "loss", "perdida", "perdido", "cerrada perdida"}
#: Probability of open stages the import adds, by common names (the position follows it).
_FUNNEL = {
    "lead": 5,
    "new": 5,
    "prospecting": 10,
    "prospect": 10,
    "prospeccion": 10,
    "contacted": 20,
    "qualification": 20,
    "qualified": 25,
    "cualificacion": 20,
    "discovery": 25,
    "engaging": 30,
    "engaged": 30,
    "needs analysis": 40,
    "demo": 40,
    "evaluation": 50,
    "proposal": 60,
    "quote": 60,
    "propuesta": 60,
    "negotiation": 80,
    "negociacion": 80,
    "commit": 90,
}

_OPPORTUNITY_ATTRIBUTES = {
    "external_id": "external_id",
    "name": "name",
    "type": "type",
    "next_step": "next_step",
    "description": "description",
    "expected_close_date": "expected_close_date",
}


class StageResolver:
    """The pipeline and stage each row goes to, creating what the import may create.

    A stage is found, in order: by the stage map (``--map-stage FILE=STAGE``), by its name in
    the pipeline, by won/lost words (``Won``, ``Closed Won``, ``Ganada``… go to the pipeline's
    won stage). Otherwise, when stages may be added (``--add-stages``, or a pipeline the import
    creates), the import adds it (won/lost words as won/lost stages; open stages placed by their
    usual probability); else the row is rejected, naming the pipeline's stages.
    """

    def __init__(self, importer: OpportunityImporter) -> None:
        self.importer = importer
        options = importer.job.options or {}
        self.stage_map = {normalize(k): v for k, v in (options.get("stage_map") or {}).items()}
        self.add_stages = bool(options.get("add_stages"))
        self.pipelines: dict[str, Pipeline | None] = {}
        #: Pipelines this job created (kept in the job's options with the batch that made
        #: them, so a resumed import still adds the stages later rows name).
        self.created_pipelines: set[int] = set(options.get("created_pipelines") or [])
        self.stages: dict[int, list[Stage]] = {}
        self.pipeline_changes: list[Change] = []
        self.stage_changes: list[Change] = []
        self.default: Pipeline | None = None

    def may_configure(self) -> bool:
        actor = self.importer.actor
        return bool(actor.is_admin or actor.role == Role.DIRECTOR)

    def default_pipeline(self) -> Pipeline:
        if self.default is not None:
            return self.default
        found = (
            Pipeline.objects.filter(is_active=True)
            .order_by("-is_default", "position", "pk")
            .first()
        )
        if found is None:
            found = self.make_default()
        self.default = found
        return found

    def make_default(self) -> Pipeline:
        """The product's default pipeline (``ensure_default_pipeline()``); a dry run builds it
        in a savepoint rolled back, so it sees the stages a real run would get."""
        from cartera.sales.services import ensure_default_pipeline

        if not self.importer.dry_run:
            return ensure_default_pipeline()

        class _Rollback(Exception):
            pass

        captured: dict[str, Any] = {}
        try:
            with transaction.atomic():
                pipeline = ensure_default_pipeline()
                captured["pipeline"] = pipeline
                captured["stages"] = list(pipeline.stages.order_by("position", "pk"))
                raise _Rollback
        except _Rollback:
            pass
        pipeline = captured["pipeline"]
        self.stages[pipeline.pk] = captured["stages"]
        return pipeline

    def new_pipeline(self, pipeline: Pipeline) -> None:
        importer = self.importer
        if not importer.dry_run:
            with disable_auditlog():
                pipeline.save(force_insert=True)
        else:
            importer.pk_for(pipeline)
        self.pipeline_changes.append(Change(record=pipeline, created=True))
        self.created_pipelines.add(pipeline.pk)
        self.stages[pipeline.pk] = []
        if not importer.dry_run:  # in the batch's transaction
            job = importer.job
            job.options = {
                **(job.options or {}),
                "created_pipelines": sorted(self.created_pipelines),
            }
            ImportJob.objects.filter(pk=job.pk).update(options=job.options)

    def pipeline(self, row: Row) -> Pipeline | None:
        name = row.data.get("pipeline")
        if not name:
            return self.default_pipeline()
        key = normalize(name)
        if key not in self.pipelines:
            found = next(
                (p for p in Pipeline.objects.order_by("pk") if normalize(p.name) == key), None
            )
            if found is None and self.may_configure():
                found = Pipeline(name=name[:120], created_at=self.importer.now)
                self.new_pipeline(found)
            self.pipelines[key] = found
        pipeline = self.pipelines[key]
        if pipeline is None:
            row.reject(
                row.columns.get("pipeline", ""),
                "pipeline",
                _(
                    "There is no pipeline called %(name)s (administrators and directors can "
                    "import into a new one)."
                )
                % {"name": name},
            )
        return pipeline

    def stages_of(self, pipeline: Pipeline) -> list[Stage]:
        if pipeline.pk not in self.stages:
            self.stages[pipeline.pk] = list(pipeline.stages.order_by("position", "pk"))
        return self.stages[pipeline.pk]

    def stage(self, row: Row, pipeline: Pipeline) -> Stage | None:
        text = row.data["stage"]
        stages = self.stages_of(pipeline)
        wanted = self.stage_map.get(normalize(text), text)
        key = normalize(wanted)
        found = next((stage for stage in stages if normalize(stage.name) == key), None)
        if found is None and key in _WON_WORDS | _LOST_WORDS:
            kind = StageKind.WON if key in _WON_WORDS else StageKind.LOST
            found = next((stage for stage in stages if stage.kind == kind), None)
        if found is not None:
            return found
        if (self.add_stages or pipeline.pk in self.created_pipelines) and self.may_configure():
            return self.add_stage(pipeline, wanted)
        names = ", ".join(stage.name for stage in stages) or "—"
        row.reject(
            row.columns.get("stage", ""),
            "stage",
            _(
                "The pipeline %(pipeline)s has no stage called %(stage)s (its stages: "
                "%(stages)s). Map it to one of them (cartera import --map-stage "
                '"%(stage)s=STAGE") or let the import add it (--add-stages).'
            )
            % {"pipeline": pipeline.name, "stage": wanted, "stages": names},
        )
        return None

    def add_stage(self, pipeline: Pipeline, name: str) -> Stage:
        """A new stage of ``pipeline`` in its place: open ones by usual probability, then won,
        then lost; the positions of the others follow."""
        key = normalize(name)
        stages = self.stages_of(pipeline)
        if key in _WON_WORDS:
            kind, probability, category = StageKind.WON, 100, ForecastCategory.CLOSED
        elif key in _LOST_WORDS:
            kind, probability, category = StageKind.LOST, 0, ForecastCategory.OMITTED
        else:
            kind, category = StageKind.OPEN, ForecastCategory.PIPELINE
            probability = _FUNNEL.get(key, 20)
        stage = Stage(
            pipeline=pipeline,
            name=name[:80],
            kind=kind,
            probability=probability,
            forecast_category=category,
            created_at=self.importer.now,
        )
        stages.append(stage)
        order = {StageKind.OPEN: 0, StageKind.WON: 1, StageKind.LOST: 2}
        ranked = sorted(
            stages,
            key=lambda s: (
                order[StageKind(s.kind)],
                s.probability if s.kind == StageKind.OPEN else 0,
                s.position if s.pk else 10_000,
            ),
        )
        moved: list[Stage] = []
        for position, item in enumerate(ranked):
            if item.position != position:
                if item is not stage and item.pk is not None:
                    self.stage_changes.append(
                        Change(
                            record=item,
                            created=False,
                            before={"position": item.position},
                            fields={"position"},
                        )
                    )
                    moved.append(item)
                item.position = position
        stages[:] = ranked
        importer = self.importer
        if importer.dry_run:
            importer.pk_for(stage)
        else:
            with disable_auditlog():
                stage.save(force_insert=True)
                for item in moved:
                    item.save(update_fields=["position"])
        self.stage_changes.append(Change(record=stage, created=True))
        return stage

    def entries(self) -> list[LogEntry]:
        """Audit entries of the pipelines and stages created or moved in this batch."""
        importer = self.importer
        entries = importer.audit(self.pipeline_changes, Pipeline)
        entries += importer.audit(self.stage_changes, Stage)
        self.pipeline_changes, self.stage_changes = [], []
        return entries


class OpportunityImporter(_SalesImporter):
    """Opportunities with their product line and stage history.

    - ``external_id`` (e.g. ``opportunity_id``) finds a deal imported before: re-importing the
      same file leaves every row unchanged.
    - Owner by full name or email among the people the importer may assign (else the row is
      rejected); without an owner column the importer owns them.
    - Account by external id, website domain or name among the accounts the importer sees
      (optional; a name that matches none rejects the row).
    - Product by SKU or by name compared without case, spaces or punctuation (``GTXPro`` =
      ``GTX Pro``): one line, quantity 1, unit price = the close value of a closed deal with a
      value, else the product's list price in the deal's currency.
    - Amount: the amount column (the close value); an open deal without one gets its product's
      list price; a closed one without one, 0.
    - Stage: see :class:`StageResolver`; status, probability and forecast category come from it.
    - Dates: ``engaged_on`` is the deal's creation and its first stage change; a closed deal
      without an expected close date gets its close date. The stage history: an open deal
      entered its stage on the engage date (else at the import); a closed one entered the
      pipeline's last open stage on the engage date, then its won/lost stage on the close date.
    """

    model = Opportunity
    kind = ImportKind.OPPORTUNITIES

    def __init__(self, job: ImportJob, *, dry_run: bool) -> None:
        super().__init__(job, dry_run=dry_run)
        self.resolver = StageResolver(self)
        self._products: dict[str, Any] | None = None
        self.list_prices: dict[str, dict[int, Decimal]] = {}
        self.owner = job.default_owner or self.actor

    # matching

    def key_values(self, row: Row) -> dict[str, str]:
        data = row.data
        keys: dict[str, str] = {}
        if data.get("external_id"):
            keys["external_id"] = data["external_id"]
        if data.get("name"):
            keys["name"] = normalize(data["name"])[:200]
        return keys

    def record_keys(self, record: Any) -> dict[str, str]:
        return {"external_id": record.external_id, "name": record.name_key}

    def lookup(self, key: str, values: set[str]) -> dict[str, list[Any]]:
        column = "name_key" if key == "name" else "external_id"
        queryset = _matching(Opportunity.objects.filter(deleted_at=None), column, values)
        if connection.features.has_select_for_update and not self.dry_run:
            queryset = queryset.select_for_update(of=("self",))
        found: dict[str, list[Any]] = defaultdict(list)
        for record in queryset.order_by("pk"):
            found[getattr(record, column)].append(record)
        return found

    def not_writable_reason(self, key: str) -> str:
        return _("An existing opportunity with this %(key)s is not one you may change.") % {
            "key": str(mp.MATCH_KEY_LABELS[key]).lower()
        }

    # references

    def products(self) -> dict[str, Any]:
        """Products by upper-case SKU and by squashed name (a list when several share it)."""
        if self._products is None:
            found: dict[str, Any] = {}
            for product in Product.objects.order_by("pk"):
                found[f"sku:{product.sku.upper()}"] = product
                key = f"name:{squash(product.name)}"
                found[key] = [*found[key], product] if key in found else product
                if isinstance(found[key], list) and product in found[key][:-1]:
                    found[key] = product
            self._products = found
        return self._products

    def product(self, text: str) -> Any:
        products = self.products()
        return products.get(f"sku:{text.strip().upper()}") or products.get(f"name:{squash(text)}")

    def list_price(self, product: Product, currency: str) -> Decimal | None:
        """The product's price on the all-customers list of ``currency``."""
        if currency not in self.list_prices:
            prices: dict[int, Decimal] = {}
            items = (
                PriceListItem.objects.filter(
                    price_list__currency=currency,
                    price_list__segment="",
                    price_list__is_active=True,
                )
                .order_by("-price_list_id")
                .values_list("product_id", "unit_price")
            )
            for product_id, price in items:
                prices[product_id] = price
            self.list_prices[currency] = prices
        return self.list_prices[currency].get(product.pk)

    def resolve(self, rows: list[Row]) -> None:
        """Owner, account, product, pipeline and stage of each row (or its rejection)."""
        refs = {row.data["account"] for row in rows if row.data.get("account")}
        accounts = AccountFinder(self).resolve(refs, set()) if refs else {}
        for row in rows:
            data = row.data
            if "owner" in data:
                person = self.person(data["owner"])
                if person is None:
                    row.reject(
                        row.columns.get("owner", ""),
                        "owner",
                        _("No active person you may assign deals to is called %(name)s.")
                        % {"name": data["owner"]},
                    )
                else:
                    data["_owner"] = person
            ref = data.get("account")
            if ref:
                account = accounts.get(ref)
                if isinstance(account, list):
                    row.reject(
                        row.columns.get("account", ""),
                        "account",
                        _(
                            "%(count)s accounts you can see match %(name)s; use its external id "
                            "or website instead."
                        )
                        % {"count": len(account), "name": ref},
                    )
                elif account is None:
                    row.reject(
                        row.columns.get("account", ""),
                        "account",
                        _("No account you can see matches %(name)s.") % {"name": ref},
                    )
                else:
                    data["_account"] = account
            if data.get("product"):
                product = self.product(data["product"])
                if isinstance(product, list):
                    row.reject(
                        row.columns.get("product", ""),
                        "product",
                        _("%(count)s products are called %(name)s; use the SKU.")
                        % {"count": len(product), "name": data["product"]},
                    )
                elif product is None:
                    row.reject(
                        row.columns.get("product", ""),
                        "product",
                        _("No product has the name or SKU %(name)s.") % {"name": data["product"]},
                    )
                else:
                    data["_product"] = product
            if row.errors:
                continue
            if not data.get("stage"):
                row.reject(row.columns.get("stage", ""), "stage", _("The stage is empty."))
                continue
            pipeline = self.resolver.pipeline(row)
            if pipeline is None:
                continue
            stage = self.resolver.stage(row, pipeline)
            if stage is not None:
                data["_pipeline"], data["_stage"] = pipeline, stage

    # applying

    def apply_rows(self, rows: list[Row]) -> list[Change]:
        self.resolve(rows)
        rows = [row for row in rows if not row.errors]
        self.match(rows)
        pending: dict[tuple[str, str], Any] = {}
        changes: dict[int, Change] = {}
        self.line_changes: dict[int, Change] = {}  # by id() of the line
        self.history: list[StageChange] = []
        existing = [
            record
            for records in self.found.values()
            for items in records.values()
            for record in items
        ]
        lines = self.first_lines({record.pk for record in existing if record.pk})
        for position, row in enumerate(rows):
            record = self.find(position, row, pending)
            if row.errors:
                continue
            values = self.values(row, record)
            stage: Stage = row.data["_stage"]
            if record is None:
                record = bulk.new(
                    Opportunity,
                    owner_id=self.owner.pk,
                    created_by_id=self.actor.pk,
                    created_at=self.now,
                    stage_entered_at=self.now,
                )
                change = Change(record=record, created=True)
                changes[id(record)] = change
                engaged = row.data.get("engaged_on")
                if engaged:
                    record.created_at = self.moment(engaged)
                self.set_fields(record, values, change, creating=True)
                self.set_stage(record, stage, None, row)
                record.refresh_search_fields()
                row.outcome = CREATED
            else:
                change = changes.get(id(record)) or Change(
                    record=record, created=record.pk is None or record.pk < 0
                )
                old_stage_id = record.stage_id
                changed = self.set_fields(record, values, change, creating=change.created)
                if old_stage_id != stage.pk:
                    before = {
                        name: getattr(record, name)
                        for name in (
                            "status",
                            "probability",
                            "forecast_category",
                            "stage_entered_at",
                        )
                    }
                    for name, value in before.items():
                        if not change.created:
                            change.before.setdefault(name, value)
                    self.set_stage(record, stage, old_stage_id, row)
                    change.fields |= {
                        "status",
                        "probability",
                        "forecast_category",
                        "stage_entered_at",
                    }
                    changed = True
                if changed:
                    record.refresh_search_fields()
                    change.fields |= {"name_key", "search_text"}
                    changes[id(record)] = change
                    row.outcome = UPDATED
                else:
                    row.outcome = UNCHANGED
            row.record = record
            self.remember(record, pending)
            lined = "_product" in row.data and self.set_line(record, row, lines)
            if lined and row.outcome == UNCHANGED:
                row.outcome = UPDATED
        result = list(changes.values())
        if self.dry_run:
            for change in [*result, *self.line_changes.values()]:
                self.pk_for(change.record)
        return result

    def values(self, row: Row, record: Opportunity | None) -> dict[str, Any]:
        """Attribute → value of the row's own columns, with what follows from them."""
        data = row.data
        stage: Stage = data["_stage"]
        values: dict[str, Any] = {
            attribute: data[name]
            for name, attribute in _OPPORTUNITY_ATTRIBUTES.items()
            if name in data
        }
        currency = self.currency(row)
        if record is None or data.get("currency") or data.get("_currency"):
            values["currency"] = currency
        values["pipeline_id"] = data["_pipeline"].pk
        values["stage_id"] = stage.pk
        if "_owner" in data:
            values["owner_id"] = data["_owner"].pk
        if "_account" in data:
            values["account_id"] = data["_account"].pk
        if record is None and "name" not in values:
            product = data.get("_product")
            account = data.get("_account")
            values["name"] = (
                f"{product.name if product else _('Deal')} — "
                f"{account.name if account else _('No account')}"
            )[:200]
        closed = stage.kind != StageKind.OPEN
        if "amount" in data:
            values["amount"] = data["amount"]
        elif "_product" in data and not closed:
            price = self.list_price(data["_product"], currency)
            if price is not None:
                values["amount"] = price
        if closed:
            closed_on = data.get("closed_on") or self.now.astimezone(self.tz).date()
            values["closed_on"] = closed_on
            values.setdefault("expected_close_date", closed_on)
        else:
            values["closed_on"] = None
        return values

    def set_stage(self, record: Opportunity, stage: Stage, old_stage_id: Any, row: Row) -> None:
        """Stage, status, probability, forecast category and the stage history."""
        record.stage_id = stage.pk
        record._import_stage = stage  # type: ignore[attr-defined]
        record.status = stage.kind
        record.probability = stage.probability
        record.forecast_category = stage.forecast_category
        data = row.data
        engaged = data.get("engaged_on")
        closed = stage.kind != StageKind.OPEN
        moves: list[tuple[Any, Stage, dt.datetime]] = []
        if old_stage_id is None:
            if closed and record.closed_on is not None:
                closed_at = self.moment(record.closed_on)
                if engaged:
                    worked = self.last_open_stage(data["_pipeline"])
                    if worked is not None:
                        moves.append((None, worked, self.moment(engaged)))
                        moves.append((worked, stage, closed_at))
                    else:
                        moves.append((None, stage, closed_at))
                else:
                    moves.append((None, stage, closed_at))
            else:
                moves.append((None, stage, self.moment(engaged) if engaged else self.now))
        else:
            at = self.moment(record.closed_on) if closed and record.closed_on else self.now
            moves.append((old_stage_id, stage, at))
        for source, target, at in moves:
            change = bulk.new(StageChange, changed_at=at, changed_by_id=self.actor.pk)
            change._import_opportunity = record  # type: ignore[attr-defined]
            change._import_from = source  # type: ignore[attr-defined]
            change._import_to = target  # type: ignore[attr-defined]
            self.history.append(change)
        record.stage_entered_at = moves[-1][2]

    def last_open_stage(self, pipeline: Pipeline) -> Stage | None:
        stages = [s for s in self.resolver.stages_of(pipeline) if s.kind == StageKind.OPEN]
        return stages[-1] if stages else None

    def first_lines(self, ids: set[int]) -> dict[int, OpportunityLine]:
        """The first product line of each existing deal."""
        lines: dict[int, OpportunityLine] = {}
        if ids:
            for line in OpportunityLine.objects.filter(opportunity_id__in=ids).order_by(
                "-position", "-id"
            ):
                lines[line.opportunity_id] = line
        return lines

    def set_line(self, record: Opportunity, row: Row, lines: dict[int, Any]) -> bool:
        """The deal's product line (quantity 1); True if it was added or changed."""
        data = row.data
        product: Product = data["_product"]
        stage: Stage = data["_stage"]
        amount = data.get("amount")
        if stage.kind != StageKind.OPEN and amount:
            unit_price = amount
        else:
            unit_price = self.list_price(product, record.currency)
            if unit_price is None:
                unit_price = amount or Decimal("0")
        values = {"product_id": product.pk, "unit_price": unit_price}
        line = getattr(record, "_import_line", None) or (
            lines.get(record.pk) if record.pk and record.pk > 0 else None
        )
        if line is None:
            line = bulk.new(OpportunityLine, quantity=Decimal("1"), position=0, created_at=self.now)
            line._import_opportunity = record  # type: ignore[attr-defined]
            record._import_line = line  # type: ignore[attr-defined]
            change = Change(record=line, created=True)
            self.set_fields(line, values, change, creating=True)
            line._state.fields_cache["product"] = product  # its name, for the audit entry
            self.line_changes[id(line)] = change
            return True
        record._import_line = line  # type: ignore[attr-defined]
        change = self.line_changes.get(id(line)) or Change(
            record=line, created=line.pk is None or line.pk < 0
        )
        if self.set_fields(line, values, change, creating=change.created):
            line._state.fields_cache["product"] = product
            self.line_changes[id(line)] = change
            return True
        return False

    # writing

    def write(self, changes: list[Change], rows: list[Row]) -> None:
        new = [change.record for change in changes if change.created]
        updated = [change for change in changes if not change.created]
        entries = self.resolver.entries()
        # The board's and forecast's totals follow the batch (its deals' buckets before/after).
        with rollups.tracking(*(change.record.pk for change in updated)) as deals:
            self.bulk_insert(Opportunity, new)
            self.bulk_save(Opportunity, updated)
            deals.add(*(record.pk for record in new))
        entries += self.audit(changes, Opportunity)
        line_changes = list(self.line_changes.values())
        for change in line_changes:
            if change.created:
                change.record.opportunity_id = change.record._import_opportunity.pk
        self.bulk_insert(OpportunityLine, [c.record for c in line_changes if c.created])
        moved = [c.record for c in line_changes if not c.created]
        if moved:
            for line in moved:
                line.updated_at = self.now
            bulk.update(OpportunityLine, moved, ["product", "unit_price", "updated_at"])
        entries += self.audit(line_changes, OpportunityLine)
        for item in self.history:
            links: Any = item  # the references kept while the batch was applied
            item.opportunity_id = links._import_opportunity.pk
            source = links._import_from
            item.from_stage_id = source.pk if isinstance(source, Stage) else source
            item.to_stage_id = links._import_to.pk
        self.bulk_insert(StageChange, self.history)
        entries += self.audited_entries(
            [Change(record=item, created=True) for item in self.history], StageChange
        )
        self.write_audit(entries)

    def process(self, rows: list[Row]) -> Any:
        result = super().process(rows)
        if self.dry_run:
            self.resolver.entries()
        return result


# --- leads -------------------------------------------------------------------------------------

_LEAD_ATTRIBUTES = {spec.name: spec.attribute for spec in LEAD_FIELDS if spec.attribute}


class LeadImporter(_SalesImporter):
    """Leads, through the leads' own services (scoring, assignment rules, the assignee's
    notification), one row at a time; found again by external id or email.

    A new lead without an owner column goes through the assignment rules as one typed in;
    ``source`` is "Import" unless a column says otherwise.
    """

    model = Lead
    kind = ImportKind.LEADS

    def key_values(self, row: Row) -> dict[str, str]:
        data = row.data
        keys: dict[str, str] = {}
        if data.get("external_id"):
            keys["external_id"] = data["external_id"]
        if data.get("email"):
            keys["email"] = data["email"].lower()
        return keys

    def record_keys(self, record: Any) -> dict[str, str]:
        return {"external_id": record.external_id, "email": (record.email or "").lower()}

    def lookup(self, key: str, values: set[str]) -> dict[str, list[Any]]:
        queryset = _matching(
            Lead.objects.filter(deleted_at=None), key, values, lower=key == "email"
        )
        if connection.features.has_select_for_update and not self.dry_run:
            queryset = queryset.select_for_update(of=("self",))
        found: dict[str, list[Any]] = defaultdict(list)
        for record in queryset.order_by("pk"):
            found[self.record_keys(record)[key]].append(record)
        return found

    def not_writable_reason(self, key: str) -> str:
        return _("An existing lead with this %(key)s is not one you may change.") % {
            "key": str(mp.MATCH_KEY_LABELS[key]).lower()
        }

    def values(self, row: Row) -> dict[str, Any]:
        data = row.data
        values = {
            attribute: data[name] for name, attribute in _LEAD_ATTRIBUTES.items() if name in data
        }
        if "full_name" in data:
            first, last = data["full_name"]
            if first and "first_name" not in values:
                values["first_name"] = first[:100]
            if last and "last_name" not in values:
                values["last_name"] = last[:150]
        if "owner" in data:
            person = self.person(data["owner"])
            if person is None:
                row.reject(
                    row.columns.get("owner", ""),
                    "owner",
                    _("No active person you may assign leads to is called %(name)s.")
                    % {"name": data["owner"]},
                )
            else:
                values["owner"] = person
        return values

    def apply_rows(self, rows: list[Row]) -> list[Change]:
        from cartera.leads.services import create_lead, update_lead

        self.match(rows)
        pending: dict[tuple[str, str], Any] = {}
        mark = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for position, row in enumerate(rows):
            lead = self.find(position, row, pending)
            if row.errors:
                continue
            values = self.values(row)
            if row.errors:
                continue
            try:
                if lead is None:
                    values.setdefault("source", LeadSource.IMPORT)
                    if self.dry_run:
                        lead = self.check_new(values)
                    else:
                        lead = create_lead(actor=self.actor, data=values)
                    row.outcome = CREATED
                else:
                    changes = {
                        name: value
                        for name, value in values.items()
                        if not _same(
                            getattr(lead, "owner_id" if name == "owner" else name),
                            value.pk if name == "owner" else value,
                        )
                    }
                    if not changes:
                        row.outcome = UNCHANGED
                    else:
                        if self.dry_run:
                            self.check_changes(lead, changes)
                        else:
                            lead = update_lead(
                                actor=self.actor,
                                lead=lead,
                                changes=changes,
                                expected_version=lead.version,
                            )
                        row.outcome = UPDATED
            except DomainError as error:
                self.reject_with(row, error)
                continue
            row.record = lead
            self.remember(lead, pending)
        if not self.dry_run:
            self.tag_audit(mark)
        return []

    def check_new(self, values: dict[str, Any]) -> Lead:
        """A dry run's lead: checked as ``create_lead`` checks it, not saved."""
        owner = values.pop("owner", None)
        lead = Lead(**values)
        if owner is not None:
            lead.owner = owner
        validate(lead)
        self.pk_for(lead)
        return lead

    def check_changes(self, lead: Lead, changes: dict[str, Any]) -> None:
        """A dry run's update: the lead changed in memory and checked."""
        for name, value in changes.items():
            setattr(lead, name, value)
        validate(lead)

    def reject_with(self, row: Row, error: DomainError) -> None:
        """A refusal of the leads' services as the row's reason(s)."""
        if not error.field_errors:
            row.reject("", "", error.message)
            return
        for name, messages in error.field_errors.items():
            field_name = {"owner": "owner"}.get(name, name)
            row.reject(row.columns.get(field_name, ""), field_name, " ".join(messages))

    def tag_audit(self, mark: int) -> None:
        """The audit entries the services wrote for this batch carry the job, as the
        engine's own entries do."""
        content_type = self.content_type(Lead)
        entries = LogEntry.objects.filter(
            pk__gt=mark, actor=self.actor, content_type=content_type
        ).only("pk", "additional_data")
        for entry in entries:
            entry.additional_data = {**(entry.additional_data or {}), "import_job": self.job.pk}
            entry.save(update_fields=["additional_data"])

    def write(self, changes: list[Change], rows: list[Row]) -> None:
        """Written row by row by the leads' services in ``apply_rows``."""


SALES_IMPORTERS: dict[str, type[Importer]] = {
    ImportKind.USERS: UserImporter,
    ImportKind.PRODUCTS: ProductImporter,
    ImportKind.OPPORTUNITIES: OpportunityImporter,
    ImportKind.LEADS: LeadImporter,
}


def register() -> None:
    """Make the engine run the pipeline kinds (``ImportsConfig.ready()``)."""
    IMPORTERS.update(SALES_IMPORTERS)
