"""Full-text search over the normalised ``search_text`` columns, on SQLite and PostgreSQL.

One mechanism serves the global search box (``ranked_search``) and every list's ``q`` filter
(``apply_search``; the list pages, their exports and the API share the filters).

What a search means, on both databases:

- The query is normalised like the column (``cartera.core.text.normalize``: lower case, accents
  stripped), so "Muñoz", "MUÑOZ" and "munoz" are the same search.
- It is split into words at spaces; a row matches when it matches every word. Within a word,
  punctuation separates tokens that must follow each other ("jose@munoz.example" is the phrase
  jose → munoz → example). The last token is a prefix ("mun" finds "Muñoz") unless the word ends
  in punctuation ("100%" finds "100% Natural", not "1000 Naturales").
- User input is never syntax: only letters and digits reach the full-text engine, each inside a
  quoted string (FTS5) or a quoted lexeme (``tsquery``), so quotes, ``*``, ``NEAR``, ``OR``,
  ``-``, ``:``, ``%``, ``_`` and backslashes are plain text. Words without a letter or digit are
  ignored; a query made only of them finds nothing.
- When no row at all has words starting like that (whoever may see it), words of 3 or more
  characters are looked for anywhere in the text instead (part of a word, of a tax id or of a
  phone number), through a trigram index. A word that only matches rows the user cannot see is
  not retried.

SQLite (embedded mode): two FTS5 external-content tables per searchable table over
``search_text``: ``<table>_fts`` (tokenizer ``unicode61 remove_diacritics 2``) for words and
``<table>_trigram`` (tokenizer ``trigram``) for parts of words, kept in step by insert, update
and delete triggers, so bulk inserts are indexed too. Django rebuilds a SQLite table for some
migrations (copy, drop, rename), which drops its triggers; the ``post_migrate`` handler here
puts them back and rebuilds the indexes when they were missing.

PostgreSQL: a ``search_vector`` column (not a model field: it belongs to this module's DDL),
filled by a trigger from ``search_text`` and ``name_key`` with ``to_tsvector('simple', …)`` and
indexed with GIN. The first word of ``name_key`` (a contact's surname, the first word of an
account's name) is stored marked, so the index can tell "starts the name" from "anywhere else":
list pages sorted by name then read the rows whose name starts with the word straight from the
``name_key`` b-tree, in order, and only the other matches from the full-text index. That keeps a
common surname (50,000 of a million contacts) as fast as a rare one without sorting every match.
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self, TypeVar, cast

from django.apps import apps
from django.db import DatabaseError, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models import Q, QuerySet, Value
from django.db.models.expressions import Expression
from django.db.models.functions import Concat, Lower
from django.db.models.lookups import Lookup
from django.db.models.query import ModelIterable
from django.db.models.signals import post_migrate
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.where import AND, WhereNode

from .text import normalize

M = TypeVar("M", bound=models.Model)

#: Models whose ``search_text`` (and ``name_key``) are full-text indexed.
SEARCHABLE_MODELS = ("accounts.Account", "contacts.Contact")

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
#: Shortest word looked for inside other words when the full-text index finds nothing.
MIN_SUBSTRING = 3
#: Marks the first word of ``name_key`` in PostgreSQL's ``search_vector``.
LEAD_MARK = "0lead"
#: ASCII punctuation: a separator between tokens, like any other character that is neither a
#: letter nor a digit.
PUNCTUATION = string.punctuation

_TOKEN = re.compile(r"[^\W_]+")
SEARCH_ROLE = "fulltext"
#: SQLite: from this many full-text matches on, pages walk their sort index (see ``many``).
SQLITE_MANY = 1000
#: PostgreSQL: up to this many estimated matches elsewhere than the name's first word, a name-
#: sorted page reads them all from the GIN index and sorts them.
FEW_MATCHES = 2000
#: PostgreSQL statistics target of ``search_vector`` (10x as many common words are kept).
STATISTICS_TARGET = 1000


@dataclass(frozen=True)
class Term:
    """One word of a search: its normalised text and the tokens the index knows it by."""

    text: str
    tokens: tuple[str, ...]
    prefix: bool

    @property
    def single_prefix(self) -> str | None:
        """The token, when the term is one token searched as a prefix (e.g. ``"garc"``)."""
        return self.tokens[0] if self.prefix and len(self.tokens) == 1 else None


def _printable(value: str) -> str:
    """``value`` without control characters, NULs and lone surrogates (spaces instead)."""
    return "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cs"} else ch for ch in value[:MAX_QUERY_LENGTH]
    )


def parse_query(query: str | None) -> list[Term]:
    """The searchable words of ``query`` (at most 8); punctuation-only words are dropped."""
    cleaned = normalize(_printable(query or ""))
    terms: list[Term] = []
    for word in cleaned.split(" "):
        tokens = tuple(_TOKEN.findall(word))
        if not tokens:
            continue
        terms.append(Term(text=word, tokens=tokens, prefix=bool(_TOKEN.fullmatch(word[-1]))))
        if len(terms) == MAX_TERMS:
            break
    return terms


def search_phrase(query: str | None) -> str:
    """The whole query normalised, as ``name_key`` would hold an exact match."""
    return normalize(_printable(query or ""))[:MAX_QUERY_LENGTH]


# --- query syntax ---------------------------------------------------------------------------


def fts5_query(terms: Sequence[Term]) -> str:
    """An FTS5 MATCH expression: every term as a quoted phrase, the last token maybe a prefix."""
    phrases = []
    for term in terms:
        body = " ".join(term.tokens).replace('"', '""')
        phrases.append(f'"{body}"' + ("*" if term.prefix else ""))
    return " AND ".join(phrases)


def _lexeme(token: str, *, prefix: bool, with_lead: bool) -> str:
    body = token.replace("\\", "\\\\").replace("'", "''")
    star = ":*" if prefix else ""
    plain = f"'{body}'{star}"
    if not with_lead:
        return plain
    return f"({plain} | '{LEAD_MARK}{body}'{star})"


def tsquery(terms: Sequence[Term], *, outside_lead: bool = False) -> str:
    """A ``to_tsquery('simple', …)`` text for ``terms``.

    With ``outside_lead``, a token matches only where it is not the first word of ``name_key``.
    """
    parts = []
    for term in terms:
        last = len(term.tokens) - 1
        lexemes = [
            _lexeme(token, prefix=term.prefix and index == last, with_lead=not outside_lead)
            for index, token in enumerate(term.tokens)
        ]
        parts.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


# --- conditions -----------------------------------------------------------------------------


class TableCondition(Expression):
    """A boolean SQL condition on the queryset's own table (``{table}`` is its alias)."""

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, template: str, params: Sequence[Any] = (), role: str = "") -> None:
        super().__init__()
        self.template = template
        self.params = list(params)
        self.role = role
        self.alias: str | None = None

    def resolve_expression(
        self,
        query: Any = None,
        allow_joins: bool = True,
        reuse: Any = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Self:
        clone = self.copy()
        clone.alias = query.get_initial_alias()
        return clone

    def relabeled_clone(self, change_map: Mapping[str, str]) -> Self:
        clone = self.copy()
        if clone.alias is not None:
            clone.alias = change_map.get(clone.alias, clone.alias)
        return clone

    def get_group_by_cols(self) -> list[Any]:
        return []

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        table = compiler.quote_name_unless_alias(self.alias or "")
        return self.template.format(table=table), list(self.params)


def fts_table(model: type[models.Model]) -> str:
    """Name of the FTS5 table that indexes ``model`` on SQLite."""
    return f"{model._meta.db_table}_fts"


def _vendor(queryset: QuerySet[Any]) -> str:
    return connections[queryset.db].vendor


def _fulltext_condition(
    model: type[models.Model],
    terms: Sequence[Term],
    vendor: str,
    *,
    outside_lead: bool = False,
    many: bool = False,
) -> Q | Expression:
    """Rows whose indexed text matches every term.

    On SQLite, ``many`` (the words match many rows) writes the condition so SQLite walks the
    index of the page's sort order and tests each row, instead of reading every match and
    sorting them all.
    """
    if vendor == "postgresql":
        query = tsquery(terms, outside_lead=outside_lead)
        whole = [
            _lexeme(token, prefix=False, with_lead=not outside_lead)
            for term in terms
            for token in (term.tokens[:-1] if term.prefix else term.tokens)
        ]
        if not any(term.prefix and len(term.tokens) > 1 for term in terms):
            return TableCondition(
                "{table}.\"search_vector\" @@ to_tsquery('simple'::regconfig, %s)",
                [query],
                role=SEARCH_ROLE,
            )
        # The prefix ending an e-mail or domain ("….example", "….com") is a costly GIN read of
        # almost every row: narrow by the whole words only, then test the full query on those
        # rows
        # (``|| ''::tsvector`` keeps the planner from pushing that test into the index scan).
        return TableCondition(
            "{table}.\"search_vector\" @@ to_tsquery('simple'::regconfig, %s)"
            " AND ({table}.\"search_vector\" || ''::tsvector)"
            " @@ to_tsquery('simple'::regconfig, %s)",
            [" & ".join(whole), query],
            role=SEARCH_ROLE,
        )
    if vendor == "sqlite":
        fts = fts_table(model)
        pk = model._meta.pk.column
        walk = "+" if many else ""  # a unary plus keeps SQLite from driving the query by it
        return TableCondition(
            f'{walk}{{table}}."{pk}" IN (SELECT rowid FROM "{fts}" WHERE "{fts}" MATCH %s)',  # noqa: S608
            [fts5_query(terms)],
            role=SEARCH_ROLE,
        )
    return _substring_condition(model, [t.text for t in terms], vendor)


def _index_matches(model: type[models.Model], terms: Sequence[Term], vendor: str) -> int:
    """0 when no row at all (whoever sees it) matches; ``SQLITE_MANY`` when many do; else 1.

    Zero means the index does not know the words: the fallback (words inside words) is for
    those only; a word matching only rows the user cannot see is not a part of another word.
    On SQLite "many" also picks how a page reads the matches (PostgreSQL's planner knows).
    """
    if vendor == "sqlite":
        fts, match = fts_table(model), fts5_query(terms)
        probe = f'SELECT 1 FROM "{fts}" WHERE "{fts}" MATCH %s LIMIT 1'  # noqa: S608
        with connections[model._default_manager.db].cursor() as cursor:
            cursor.execute(
                f"SELECT ({probe}), ({probe} OFFSET %s)", [match, match, SQLITE_MANY - 1]
            )
            row = cursor.fetchone()
        if not row or row[0] is None:
            return 0
        return SQLITE_MANY if row[1] is not None else 1
    return int(model._base_manager.filter(_fulltext_condition(model, terms, vendor)).exists())


def _glob_literal(word: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in word)


def _substring_condition(
    model: type[models.Model], words: Sequence[str], vendor: str
) -> Q | Expression:
    """Rows whose ``search_text`` contains every word.

    Words of 3+ characters are found through a trigram index (PostgreSQL ``pg_trgm``; SQLite an
    FTS5 ``trigram`` table), shorter ones only narrow those rows down.
    """
    condition = Q()
    for word in words:
        condition &= Q(search_text__contains=word)
    long_words = [word for word in words if len(word) >= MIN_SUBSTRING]
    if vendor != "sqlite" or not long_words:
        return condition
    trigram = f"{model._meta.db_table}_trigram"
    pk = model._meta.pk.column
    globs = " AND ".join(["search_text GLOB %s"] * len(long_words))
    return (
        Q(
            TableCondition(
                f'{{table}}."{pk}" IN (SELECT rowid FROM "{trigram}" WHERE {globs})',  # noqa: S608
                [f"*{_glob_literal(word)}*" for word in long_words],
            )
        )
        & condition
    )


def _upper_bound(prefix: str) -> str | None:
    """The smallest string after every string that starts with ``prefix`` (code point order)."""
    following = ord(prefix[-1]) + 1
    if following > 0x10FFFF:
        return None
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not text
        following = 0xE000
    return prefix[:-1] + chr(following)


def name_starts_with(prefix: str, *, code_points: bool = True) -> Q:
    """``name_key`` starts with ``prefix``, as a range the ``name_key`` b-tree can walk.

    In a code-point collation the range is exact; otherwise "starts with" is tested too.
    """
    upper = _upper_bound(prefix)
    if code_points and upper is not None:
        return Q(name_key__gte=prefix, name_key__lt=upper)
    return Q(name_key__gte=prefix, name_key__startswith=prefix)


_collation_cache: dict[tuple[str, str], bool] = {}


def code_point_collation(connection: BaseDatabaseWrapper) -> bool:
    """Whether text sorts by code point (SQLite; PostgreSQL in the C/POSIX collations).

    Only then is "starts with x" one range of the ``name_key`` index. Cached per database.
    """
    if connection.vendor == "sqlite":
        return True
    if connection.vendor != "postgresql":
        return False
    key = (connection.alias, str(connection.settings_dict.get("NAME")))
    if key not in _collation_cache:
        # ``datlocprovider`` (libc "c", ICU "i", builtin "b") exists from PostgreSQL 15.
        provider = "datlocprovider" if getattr(connection, "pg_version", 0) >= 150000 else "'c'"
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT datcollate, {provider} FROM pg_database"  # noqa: S608
                    " WHERE datname = current_database()"
                )
                row = cursor.fetchone()
        except DatabaseError:
            row = None
        collate, kind = (str(row[0]), str(row[1])) if row else ("", "")
        _collation_cache[key] = kind in {"c", "b"} and collate.split(".")[0] in {"C", "POSIX"}
    return _collation_cache[key]


# --- list filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _SearchPlan:
    """What a searched queryset needs to read its pages through the name index."""

    terms: tuple[Term, ...]
    lead: str


class _SearchQuerySetMixin:
    """Reads a page sorted by name as two ordered index reads instead of sorting every match.

    The rows are exactly those of the plain query: the pages are found as (1) rows whose
    ``name_key`` starts with the search word, read in order from the ``name_key`` b-tree, and
    (2) rows matching the word elsewhere: all of them from the GIN index when PostgreSQL
    estimates few, else by walking ``<model>_name_vector_idx``; the page is the first rows of
    both, fetched by key. PostgreSQL with a code-point collation only; otherwise the plain query.
    """

    _search_plan: _SearchPlan | None = None

    def _clone(self) -> Any:
        clone = super()._clone()  # type: ignore[misc]
        clone._search_plan = self._search_plan
        return clone

    def _fetch_all(self) -> None:
        queryset = cast(QuerySet[Any], self)
        if queryset._result_cache is None and self._search_plan is not None:
            narrowed = _narrow_to_page(queryset, self._search_plan)
            if narrowed is not None:
                # Prefetching (if any) is done once, on this queryset's rows, just below.
                queryset._result_cache = list(narrowed.prefetch_related(None))
        super()._fetch_all()  # type: ignore[misc]


_search_classes: dict[type[QuerySet[Any]], type[QuerySet[Any]]] = {}


def _plain_class(queryset: QuerySet[Any]) -> type[QuerySet[Any]]:
    cls = type(queryset)
    while issubclass(cls, _SearchQuerySetMixin):
        cls = cls.__mro__[2]
    return cls


def _with_plan(queryset: QuerySet[M], plan: _SearchPlan) -> QuerySet[M]:
    base = _plain_class(queryset)
    if base not in _search_classes:
        _search_classes[base] = type(f"Searching{base.__name__}", (_SearchQuerySetMixin, base), {})
    clone = queryset._chain()  # type: ignore[attr-defined]
    clone.__class__ = _search_classes[base]
    clone._search_plan = plan
    return cast(QuerySet[M], clone)


def _lead_arms(
    queryset: QuerySet[M], terms: Sequence[Term], lead: str
) -> tuple[QuerySet[M], QuerySet[M]]:
    """Every row of ``queryset`` (not yet searched) matching ``terms``, as two ordered reads.

    ``lead`` is one of the terms: (1) rows whose name starts with it (a ``name_key`` b-tree
    range), and (2) rows with it anywhere but the name's first word (the full-text index, or a
    walk of ``<model>_name_vector_idx`` when such rows are common). Both also match the other
    terms. PostgreSQL only.
    """
    others = list(terms)
    others.pop(next(i for i, term in enumerate(terms) if term.single_prefix == lead))
    model = queryset.model
    starting = queryset.filter(name_starts_with(lead))
    elsewhere = queryset.filter(
        _fulltext_condition(model, [Term(lead, (lead,), True)], "postgresql", outside_lead=True)
    )
    if others:
        condition = _fulltext_condition(model, others, "postgresql")
        starting, elsewhere = starting.filter(condition), elsewhere.filter(condition)
    return starting, elsewhere


def _estimated_matches(model: type[models.Model], terms: Sequence[Term], lead: str) -> float:
    """PostgreSQL's estimate (planning only) of the rows with ``lead`` outside the name's first
    word and the other terms anywhere, among all rows."""
    _, elsewhere = _lead_arms(model._base_manager.all(), terms, lead)
    plan = json.loads(elsewhere.values("pk").explain(format="json"))
    return float(plan[0]["Plan"]["Plan Rows"])


def _drop_search(node: WhereNode) -> bool:
    """Remove the full-text condition from a (cloned) WHERE tree; whether it was there."""
    if node.connector != AND or node.negated:
        return False
    kept, dropped = [], False
    for child in node.children:
        # ``filter(condition)`` stores ``Exact(condition, True)``.
        condition = child.lhs if isinstance(child, Lookup) else child
        if isinstance(condition, TableCondition) and condition.role == SEARCH_ROLE:
            dropped = True
            continue
        if isinstance(child, WhereNode) and _drop_search(child):
            dropped = True
        kept.append(child)
    node.children = kept
    return dropped


def _narrow_to_page(queryset: QuerySet[Any], plan: _SearchPlan) -> QuerySet[Any] | None:
    query = queryset.query
    ordering = [str(field) for field in query.order_by]
    if (
        queryset._iterable_class is not ModelIterable
        or query.low_mark != 0
        or query.high_mark is None
        or not ordering
        or ordering[0].lstrip("-") != "name_key"
    ):
        return None
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or not code_point_collation(connection):
        return None
    size = query.high_mark
    plain = queryset._chain()  # type: ignore[attr-defined]
    plain.__class__ = _plain_class(queryset)
    plain._search_plan = None
    plain.query.clear_limits()
    unsearched = plain.select_related(None).prefetch_related(None)
    if not _drop_search(unsearched.query.where):
        return None
    starting, elsewhere = _lead_arms(unsearched, plan.terms, plan.lead)
    if _estimated_matches(queryset.model, plan.terms, plan.lead) <= FEW_MATCHES:
        # Few rows have the word elsewhere: read them all from the full-text index and sort
        # them (bounded work), rather than walk the name index testing visibility row by row.
        descending = ordering[0].startswith("-")
        key = Concat("name_key", Value(""), output_field=models.CharField())
        elsewhere = elsewhere.order_by(
            key.desc() if descending else key.asc(), "-pk" if descending else "pk"
        )
    ids = list(
        dict.fromkeys(
            [
                *starting.values_list("pk", flat=True)[:size],
                *elsewhere.values_list("pk", flat=True)[:size],
            ]
        )
    )
    # The page query keeps every condition (search included); only these rows can be on it.
    narrowed = plain.filter(pk__in=ids)
    narrowed.query.set_limits(0, size)
    return cast(QuerySet[Any], narrowed)


def apply_search(queryset: QuerySet[M], query: str | None) -> QuerySet[M]:
    """``queryset`` narrowed to the rows matching ``query`` (unchanged when it is blank).

    Runs one small query to learn whether the full-text index knows the words at all (in any
    row); if not, words of 3+ characters are looked for inside words instead.
    """
    if not (query or "").strip():
        return queryset
    terms = parse_query(query)
    if not terms:
        return queryset.none()
    vendor, model = _vendor(queryset), queryset.model
    if vendor not in {"postgresql", "sqlite"}:
        return queryset.filter(_fulltext_condition(model, terms, vendor))
    known = _index_matches(model, terms, vendor)
    if not known and any(len(term.text) >= MIN_SUBSTRING for term in terms):
        return queryset.filter(_substring_condition(model, [t.text for t in terms], vendor))
    many = known >= SQLITE_MANY
    matched = queryset.filter(_fulltext_condition(model, terms, vendor, many=many))
    lead = next((term.single_prefix for term in terms if term.single_prefix), None)
    if vendor == "postgresql" and lead is not None:
        return _with_plan(matched, _SearchPlan(terms=tuple(terms), lead=lead))
    return matched


# --- ranked search (the global search box) ---------------------------------------------------


def _rotations(phrase: str) -> list[str]:
    """ "ana garcia" → ["ana garcia", "garcia ana"]: a contact's key is surname first."""
    words = phrase.split(" ")
    return list(dict.fromkeys(" ".join(words[i:] + words[:i]) for i in range(len(words))))[:8]


def ranked_search(
    queryset: QuerySet[M],
    query: str | None,
    *,
    limit: int,
    email_fields: Sequence[str] = ("email",),
    scoped: bool = False,
) -> list[M]:
    """The best ``limit`` rows of ``queryset`` for ``query``, best first.

    ``scoped``: ``queryset`` holds only the rows one person sees (not every row), so walking
    the name index until ``limit`` visible matches turn up may read the whole index when that
    person sees few of them; then matches estimated few are read from the full-text index
    instead, as list pages do (``FEW_MATCHES``).

    Ranks: (0) the name is the query (a contact's in either order) or an email is; (1) the name
    starts with the query; (2) every word matches somewhere, alphabetically; then, only when no
    row at all has such words, words inside words. Each rank is an
    index read cut at ``limit`` rows, so no query sorts every match of a common word; a rank is
    skipped once the better ones filled the page.
    """
    terms = parse_query(query)
    if not terms:
        return []
    vendor = _vendor(queryset)
    phrase = search_phrase(query)
    by_name = queryset.order_by("name_key", "pk")
    found: dict[Any, M] = {}

    def take(rows: Iterable[M]) -> bool:
        for row in rows:
            found.setdefault(row.pk, row)
        return len(found) >= limit

    def result() -> list[M]:
        return list(found.values())[:limit]

    email = (query or "").strip().lower()
    rotations = _rotations(phrase)
    exact: list[M] = []
    if len(rotations) > 1 or "@" in email:
        exact += by_name.filter(name_key__in=rotations)[:limit]
    if "@" in email:
        for field in email_fields:
            # An equality on the partial ``Lower(email)`` index (non-empty emails); unordered,
            # so the planner never walks the name index looking for it.
            same = {f"{field}_lower": email}
            exact += (
                queryset.alias(**{f"{field}_lower": Lower(field)})
                .filter(**same)
                .exclude(**{field: ""})
                .order_by()[:limit]
            )
    exact.sort(key=lambda row: (getattr(row, "name_key", ""), row.pk))
    if take(exact):
        return result()
    # A one-word exact name is the first row of this range.
    code_points = code_point_collation(connections[queryset.db])
    if take(by_name.filter(name_starts_with(phrase, code_points=code_points))[: 2 * limit]):
        return result()
    model = queryset.model
    # SQLite learns first how many rows match (it picks how to read them); PostgreSQL asks
    # only when nothing matched, to know whether to try the fallbacks.
    known = _index_matches(model, terms, vendor) if vendor == "sqlite" else None
    lead = next((term.single_prefix for term in terms if term.single_prefix), None)
    wanted = limit + len(found)
    if known == 0:
        pass
    elif vendor == "postgresql" and lead is not None and code_points:
        # The name starts with the word (already read when the query is that word), or the
        # word is elsewhere: two ordered index reads, never a sort of every match.
        starting, elsewhere = _lead_arms(by_name, terms, lead)
        if scoped and _estimated_matches(model, terms, lead) <= FEW_MATCHES:
            key = Concat("name_key", Value(""), output_field=models.CharField())
            elsewhere = elsewhere.order_by(key.asc(), "pk")
        keys = list(elsewhere.values_list("name_key", "pk")[:wanted])
        if lead != phrase:
            keys += starting.values_list("name_key", "pk")[:wanted]
        best = [pk for _, pk in sorted(set(keys)) if pk not in found][:limit]
        if best:
            take(by_name.filter(pk__in=best))
    else:
        many = (known or 0) >= SQLITE_MANY
        take(by_name.filter(_fulltext_condition(model, terms, vendor, many=many))[:wanted])
    if found or vendor not in {"postgresql", "sqlite"}:
        return result()
    if not any(len(term.text) >= MIN_SUBSTRING for term in terms):
        return []
    if known is None:
        known = _index_matches(model, terms, vendor)
    if known:
        return []  # the words exist, in rows this user cannot see
    take(by_name.filter(_substring_condition(model, [t.text for t in terms], vendor))[:limit])
    return result()


# --- schema ---------------------------------------------------------------------------------
# SQL below is built from quoted table names and constants (S608); values are always parameters.


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


#: ASCII punctuation as a POSIX regular expression (the ranges of ``PUNCTUATION``); cheaper
#: than ``translate()`` with a 32-character map.
PG_PUNCTUATION_RE = "[!-/:-@[-`{-~]"

PG_FUNCTIONS = [
    f"""
CREATE OR REPLACE FUNCTION cartera_search_document(search_text text, name_key text)
RETURNS tsvector LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  body text := regexp_replace(search_text, {_sql_text(PG_PUNCTUATION_RE)}, ' ', 'g');
  lead text := split_part(regexp_replace(name_key, {_sql_text(PG_PUNCTUATION_RE)}, ' ', 'g'),
                          ' ', 1);
BEGIN
  IF lead <> '' THEN
    body := replace(' ' || body || ' ', ' ' || lead || ' ', ' {LEAD_MARK}' || lead || ' ');
  END IF;
  RETURN to_tsvector('simple'::regconfig, body);
END
$$""",
    """
CREATE OR REPLACE FUNCTION cartera_search_vector_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := cartera_search_document(NEW.search_text, NEW.name_key);
  RETURN NEW;
END
$$""",
]


@dataclass(frozen=True)
class _Searchable:
    table: str
    short: str  # index name prefix, e.g. "contact"

    @property
    def fts(self) -> str:
        return f"{self.table}_fts"

    @property
    def trigram(self) -> str:
        return f"{self.table}_trigram"


def _searchables() -> list[_Searchable]:
    found = []
    for label in SEARCHABLE_MODELS:
        model = apps.get_model(label)
        found.append(_Searchable(table=model._meta.db_table, short=model._meta.model_name or ""))
    return found


def _execute(connection: BaseDatabaseWrapper, statements: Iterable[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _fetch_names(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {str(row[0]) for row in cursor.fetchall()}


def _sqlite_tables(item: _Searchable) -> dict[str, str]:
    content = f"content='{item.table}', content_rowid='id'"
    return {
        item.fts: f'CREATE VIRTUAL TABLE "{item.fts}" USING fts5(search_text, {content},'
        " tokenize='unicode61 remove_diacritics 2')",
        item.trigram: f'CREATE VIRTUAL TABLE "{item.trigram}" USING fts5(search_text, {content},'
        " tokenize='trigram', detail='none')",
    }


def _sqlite_triggers(item: _Searchable) -> dict[str, str]:
    table = item.table
    insert = delete = ""
    for fts in (item.fts, item.trigram):
        insert += f'INSERT INTO "{fts}"(rowid, search_text) VALUES (new."id", new."search_text");'  # noqa: S608
        delete += (
            f'INSERT INTO "{fts}"("{fts}", rowid, search_text)'  # noqa: S608
            f' VALUES (\'delete\', old."id", old."search_text");'
        )
    return {
        f"{table}_search_insert": (
            f'CREATE TRIGGER "{table}_search_insert" AFTER INSERT ON "{table}" BEGIN {insert} END'
        ),
        f"{table}_search_delete": (
            f'CREATE TRIGGER "{table}_search_delete" AFTER DELETE ON "{table}" BEGIN {delete} END'
        ),
        f"{table}_search_update": (
            f'CREATE TRIGGER "{table}_search_update" AFTER UPDATE OF "search_text" ON "{table}"'
            f" BEGIN {delete} {insert} END"
        ),
    }


def _install_sqlite(connection: BaseDatabaseWrapper) -> list[str]:
    rebuilt = []
    for item in _searchables():
        existing = _fetch_names(
            connection,
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')"
            " AND tbl_name IN (%s, %s, %s)",
            [item.table, item.fts, item.trigram],
        )
        wanted = {**_sqlite_tables(item), **_sqlite_triggers(item)}
        statements = [sql for name, sql in wanted.items() if name not in existing]
        if statements:
            # Rows written while a trigger was missing are not in the index: rebuild it.
            statements += [
                f'INSERT INTO "{fts}"("{fts}") VALUES (\'rebuild\')'  # noqa: S608
                for fts in (item.fts, item.trigram)
            ]
            rebuilt.append(item.table)
        _execute(connection, statements)
    return rebuilt


def _install_postgresql(connection: BaseDatabaseWrapper) -> list[str]:
    """Create what is missing and bring older installs up to date (functions, statistics)."""
    refreshed = []
    sources = _fetch_names(
        connection,
        "SELECT proname || ':' || prosrc FROM pg_proc WHERE proname IN (%s, %s)",
        ["cartera_search_document", "cartera_search_vector_update"],
    )
    current = [src for src in sources if PG_PUNCTUATION_RE in src or "vector_update:" in src]
    if len(sources) < 2 or len(current) < 2:
        # Same words as before, computed faster: stored vectors stay valid.
        _execute(connection, PG_FUNCTIONS)
    for item in _searchables():
        columns = _fetch_names(
            connection,
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s",
            [item.table],
        )
        triggers = _fetch_names(
            connection,
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [item.table],
        )
        trigger = f"{item.table}_search_vector"
        statements = []
        if "search_vector" not in columns:
            statements.append(f'ALTER TABLE "{item.table}" ADD COLUMN "search_vector" tsvector')
        targets = _fetch_names(
            connection,
            "SELECT attstattarget FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attname = 'search_vector'",
            [item.table],
        )
        statistics = []
        if targets != {str(STATISTICS_TARGET)}:
            # More common-word statistics: rare words are then estimated as rare, so the
            # planner reads them from the GIN index instead of walking the name index.
            statistics = [
                f'ALTER TABLE "{item.table}" ALTER COLUMN "search_vector"'
                f" SET STATISTICS {STATISTICS_TARGET}",
                f'ANALYZE "{item.table}" ("search_vector")',
            ]
        if trigger not in triggers:
            statements += [
                f'UPDATE "{item.table}" SET "search_vector" ='  # noqa: S608
                ' cartera_search_document("search_text", "name_key")',
                f'CREATE OR REPLACE TRIGGER "{trigger}" BEFORE INSERT OR UPDATE OF'
                f' "search_text", "name_key" ON "{item.table}"'
                " FOR EACH ROW EXECUTE FUNCTION cartera_search_vector_update()",
            ]
            refreshed.append(item.table)
        indexes = {
            f"{item.short}_search_vector_idx": f'CREATE INDEX "{item.short}_search_vector_idx"'
            f' ON "{item.table}" USING gin ("search_vector")',
            # Name-ordered walks that test the vector without reading the table.
            f"{item.short}_name_vector_idx": f'CREATE INDEX "{item.short}_name_vector_idx"'
            f' ON "{item.table}" ("name_key", "id") INCLUDE ("search_vector")'
            ' WHERE "deleted_at" IS NULL',
        }
        existing = _fetch_names(
            connection,
            "SELECT indexname FROM pg_indexes"
            " WHERE schemaname = current_schema() AND tablename = %s",
            [item.table],
        )
        statements += [sql for name, sql in indexes.items() if name not in existing]
        # Nothing is executed (no lock taken) when everything is in place.
        _execute(connection, [*statements, *statistics])
    return refreshed


def install(connection: BaseDatabaseWrapper) -> list[str]:
    """Create whatever search tables, columns, triggers and indexes are missing (idempotent).

    Returns the tables whose index had to be (re)built.
    """
    if connection.vendor == "sqlite":
        return _install_sqlite(connection)
    if connection.vendor == "postgresql":
        rebuilt = _install_postgresql(connection)
        code_point_collation(connection)
        return rebuilt
    return []


def uninstall(connection: BaseDatabaseWrapper) -> None:
    """Drop everything ``install`` creates."""
    statements: list[str] = []
    for item in _searchables():
        if connection.vendor == "sqlite":
            statements += [f'DROP TRIGGER IF EXISTS "{name}"' for name in _sqlite_triggers(item)]
            statements += [f'DROP TABLE IF EXISTS "{name}"' for name in _sqlite_tables(item)]
        elif connection.vendor == "postgresql":
            statements += [
                f'DROP TRIGGER IF EXISTS "{item.table}_search_vector" ON "{item.table}"',
                f'DROP INDEX IF EXISTS "{item.short}_search_vector_idx"',
                f'DROP INDEX IF EXISTS "{item.short}_name_vector_idx"',
                f'ALTER TABLE "{item.table}" DROP COLUMN IF EXISTS "search_vector"',
            ]
    if connection.vendor == "postgresql":
        statements += [
            "DROP FUNCTION IF EXISTS cartera_search_vector_update()",
            "DROP FUNCTION IF EXISTS cartera_search_document(text, text)",
        ]
    _execute(connection, statements)


def _installed(connection: BaseDatabaseWrapper) -> bool:
    """Whether migration ``core.0002_fulltext`` has been applied on ``connection``."""
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return False
    return recorder.migration_qs.filter(app="core", name__startswith="0002_fulltext").exists()


def repair_after_migrate(using: str = "default", **kwargs: Any) -> None:
    """``post_migrate``: put back what a SQLite table rebuild dropped; on PostgreSQL, bring an
    older install up to date. Idempotent: checks, and changes only what differs."""
    connection = connections[using]
    if _installed(connection):
        install(connection)


def _on_post_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    if getattr(sender, "label", None) == "core":
        repair_after_migrate(using)


def _on_connection_created(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    # Learn the collation when connecting, so no page pays (or counts) that query.
    if connection.vendor == "postgresql":
        code_point_collation(connection)


post_migrate.connect(_on_post_migrate, dispatch_uid="cartera.core.fulltext.repair")
connection_created.connect(_on_connection_created, dispatch_uid="cartera.core.fulltext.collation")
