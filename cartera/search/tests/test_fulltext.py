"""Full-text search (``cartera.core.fulltext``) through the list filters and the global search.

Every test runs on the database under test: SQLite (FTS5) by default, PostgreSQL (tsvector +
trigram) with ``CARTERA_DATABASE_URL``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cartera.accounts.filters import AccountFilters
from cartera.accounts.models import Account
from cartera.accounts.selectors import account_list, visible_accounts
from cartera.accounts.services import create_account, restore_account, trash_account, update_account
from cartera.contacts.filters import ContactFilters
from cartera.contacts.models import Contact, ContactAccount
from cartera.contacts.selectors import contact_list, visible_contacts
from cartera.contacts.services import create_contact, trash_contact
from cartera.core import fulltext
from cartera.core.fulltext import Term, apply_search, fts5_query, parse_query, tsquery
from cartera.core.pagination import Page
from cartera.core.testing import Book, fresh
from cartera.search.selectors import global_search
from cartera.users.models import User

POSTGRESQL = connection.vendor == "postgresql"


def account_names(user: User, q: str, **filters: Any) -> list[str]:
    page = account_list(fresh(user), AccountFilters(q=q, **filters), limit=200)
    return [account.name for account in page.items]


def contact_names(user: User, q: str, **filters: Any) -> list[str]:
    page = contact_list(fresh(user), ContactFilters(q=q, **filters), limit=200)
    return [contact.full_name for contact in page.items]


def found(user: User, q: str, limit: int = 8) -> tuple[list[str], list[str]]:
    results = global_search(fresh(user), q, limit=limit)
    return [a.name for a in results.accounts], [c.full_name for c in results.contacts]


def add_contact(book: Book, first: str, last: str = "", **data: Any) -> Contact:
    return create_contact(
        actor=book.owner,
        data={"first_name": first, "last_name": last, "accounts": [book.account.pk], **data},
    )


# --- the query language -----------------------------------------------------------------------


def test_words_are_normalised_and_split_at_punctuation() -> None:
    assert parse_query("  MUÑOZ   jose@Muñoz.example 100% ") == [
        Term("munoz", ("munoz",), True),
        Term("jose@munoz.example", ("jose", "munoz", "example"), True),
        Term("100%", ("100",), False),
    ]


@pytest.mark.parametrize("query", ["", "   ", "%", '" * - : ( ) ^', "\x00\x01", "🙂🙂"])
def test_words_without_letters_or_digits_are_not_searched(query: str) -> None:
    assert parse_query(query) == []


def test_at_most_eight_words_of_at_most_200_characters() -> None:
    assert len(parse_query(" ".join(f"w{i}" for i in range(20)))) == 8
    assert parse_query("a" * 500)[0].text == "a" * 200


def test_control_characters_and_emoji_separate_words() -> None:
    assert [t.text for t in parse_query("ana\x00garcia🙂lopez")] == ["ana", "garcia🙂lopez"]
    assert parse_query("ana\x00garcia🙂lopez")[1].tokens == ("garcia", "lopez")


def test_engine_syntax_is_always_quoted() -> None:
    terms = parse_query('near(a b) OR "x" -y col:z*')
    assert fts5_query(terms) == '"near a"* AND "b" AND "or"* AND "x" AND "y"* AND "col z"'
    assert tsquery(parse_query("o'neil")) == ("(('o' | '0leado') <-> ('neil':* | '0leadneil':*))")
    assert tsquery(parse_query("garc"), outside_lead=True) == "('garc':*)"


# --- what a search finds ------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["munoz", "MUÑOZ", "Muñoz", "muñoz logística", "  Munoz  "])
def test_accents_and_case_do_not_matter(book: Book, query: str) -> None:
    assert account_names(book.owner, query) == ["Muñoz Logística"]
    assert found(book.owner, query)[0] == ["Muñoz Logística"]


def test_accents_in_the_data_or_in_the_query_both_ways(book: Book) -> None:
    create_account(actor=book.owner, data={"name": "Munoz Hermanos"})
    assert account_names(book.owner, "muñoz") == ["Munoz Hermanos", "Muñoz Logística"]
    assert account_names(book.owner, "MUNOZ") == ["Munoz Hermanos", "Muñoz Logística"]


@pytest.mark.parametrize("query", ["mu", "muñ", "logis", "mun log", "LOGÍSTICA MU"])
def test_every_word_is_a_prefix(book: Book, query: str) -> None:
    assert account_names(book.owner, query) == ["Muñoz Logística"]


@pytest.mark.parametrize("query", ["munoz zeta", "logistica fisk", "munozz"])
def test_every_word_must_match(book: Book, query: str) -> None:
    assert account_names(book.owner, query) == []


def test_a_word_ending_in_punctuation_is_whole(book: Book) -> None:
    create_account(actor=book.owner, data={"name": "100% Natural"})
    create_account(actor=book.owner, data={"name": "1000 Naturales"})
    assert account_names(book.owner, "100%") == ["100% Natural"]
    assert account_names(book.owner, "100") == ["100% Natural", "1000 Naturales"]


@pytest.mark.parametrize(
    "query", ["jose@munoz.example", "JOSE@MUÑOZ.EXAMPLE", "jose@munoz", "munoz.example", "jose@"]
)
def test_emails(book: Book, query: str) -> None:
    assert contact_names(book.owner, query) == ["José Pérez"]


def test_tax_ids_by_prefix_or_any_part(book: Book) -> None:
    create_account(actor=book.owner, data={"name": "Quesos Ruiz", "tax_id": "B12345678"})
    for query in ["B12345678", "b1234", "12345678", "345678"]:
        assert account_names(book.owner, query) == ["Quesos Ruiz"], query


def test_phone_digits(book: Book) -> None:
    add_contact(book, "Luz", "Vega", phone="+34 600 12 34 56")
    for query in ["600 12 34 56", "+34 600", "600 12", "34 56"]:
        assert contact_names(book.owner, query) == ["Luz Vega"], query


def test_part_of_a_word_when_no_word_starts_so(book: Book) -> None:
    assert account_names(book.owner, "unoz") == ["Muñoz Logística"]
    assert account_names(book.owner, "ogist") == ["Muñoz Logística"]
    assert found(book.owner, "gística")[0] == ["Muñoz Logística"]
    assert contact_names(book.owner, "unoz.exa") == ["José Pérez"]


def test_no_fallback_for_a_word_the_index_knows(book: Book) -> None:
    # "munoz" starts a word of the book's account: the outsider, who cannot see it, does not
    # get accounts that merely contain "munoz" inside a word instead.
    create_account(actor=book.outsider, data={"name": "Xmunozx Trading"})
    assert account_names(book.outsider, "munoz") == []
    assert found(book.outsider, "munoz") == ([], [])
    assert account_names(book.director, "munoz") == ["Muñoz Logística"]


def test_typos_are_not_guessed(book: Book) -> None:
    assert found(book.owner, "logistca") == ([], [])
    assert account_names(book.owner, "munozz") == []


#: Input that is syntax somewhere (FTS5, tsquery, LIKE, SQL, HTML), and whether it finds the
#: book's "Muñoz Logística": punctuation only separates words, and every word must match.
HOSTILE: list[tuple[str, bool]] = [
    ('"', False),
    ("'", False),
    ("''", False),
    ('"munoz', True),
    ('"munoz"', True),
    ("*", False),
    ("munoz*", True),
    ("NEAR(munoz logistica)", False),
    ("munoz OR nordic", False),
    ("NOT nordic", False),
    ("-munoz", True),
    ("munoz -logistica", True),
    ("%", False),
    ("_", False),
    ("%munoz%", True),
    ("mu_oz", False),
    ("\\", False),
    ("munoz\\", True),
    ("\\x00munoz", False),
    ("munoz\x00", True),
    ("a:b", False),
    ("search_text:munoz", False),
    ("{munoz}", True),
    ("(", False),
    (")", False),
    ("^munoz", True),
    ("' OR '1'='1", False),
    ("'; DROP TABLE accounts_account; --", False),
    ("munoz 🙂", True),
    ("🙂", False),
    ("x" * 200, False),
    (("munoz " * 40)[:200], True),
    ("<script>alert(1)</script>", False),
]


@pytest.mark.parametrize(("query", "finds"), HOSTILE)
def test_hostile_input_is_plain_text(book: Book, query: str, finds: bool) -> None:
    expected = ["Muñoz Logística"] if finds else []
    assert account_names(book.director, query) == expected
    contact_names(book.director, query)
    assert found(book.director, query)[0] == expected
    assert Account.objects.count() == 2  # nothing was dropped


def test_words_are_matched_against_tokens_not_sql_patterns(book: Book) -> None:
    create_account(actor=book.owner, data={"name": "Mucho Ozono"})
    assert account_names(book.owner, "mu_oz") == []
    assert account_names(book.owner, "mu%oz") == []
    assert account_names(book.owner, "mu oz") == ["Mucho Ozono"]


# --- ranking (global search) --------------------------------------------------------------------


def test_exact_name_then_names_starting_so_then_the_rest(book: Book) -> None:
    for name in ["Grupo Acme", "Acme Iberia", "Acme", "Aaa Acme Partners", "Acmea"]:
        create_account(actor=book.owner, data={"name": name})
    accounts, _ = found(book.owner, "acme")
    assert accounts == ["Acme", "Acme Iberia", "Acmea", "Aaa Acme Partners", "Grupo Acme"]


def test_exact_email_first(book: Book) -> None:
    add_contact(book, "Ana", "Alonso", email="ana.alonso@acme.example")
    add_contact(book, "Ana", "Zapata", email="ana@acme.example")
    add_contact(book, "Anabel", "Aguirre", email="anabel@acme.example")
    _, contacts = found(book.owner, "ANA@acme.example")
    assert contacts[0] == "Ana Zapata"
    _, contacts = found(book.owner, "ana")
    assert contacts == ["Anabel Aguirre", "Ana Alonso", "Ana Zapata"]


def test_a_persons_exact_name_in_either_order_first(book: Book) -> None:
    add_contact(book, "Ana", "García López")
    add_contact(book, "Ana", "García")
    add_contact(book, "Anabel", "García")
    for query in ["ana garcia", "García Ana"]:
        assert found(book.owner, query)[1][0] == "Ana García", query
    assert found(book.owner, "garcia")[1] == ["Ana García", "Anabel García", "Ana García López"]


def test_common_word_returns_the_best_few_alphabetically(book: Book) -> None:
    for index in range(30):
        add_contact(book, f"Persona{index:02d}", "Smith")
        add_contact(book, "Smith", f"Zz{index:02d}")
    _, contacts = found(book.owner, "smith", limit=5)
    assert contacts == [f"Persona{index:02d} Smith" for index in range(5)]
    _, contacts = found(book.owner, "smith", limit=50)
    assert contacts[:30] == [f"Persona{index:02d} Smith" for index in range(30)]
    assert contacts[30:] == [f"Smith Zz{index:02d}" for index in range(20)]


# --- visibility and freshness -------------------------------------------------------------------


def test_outsider_finds_nothing_of_the_book(book: Book) -> None:
    for query in ["munoz", "jose", "perez", "jose@munoz.example", "unoz", "logistica"]:
        assert account_names(book.outsider, query) == []
        assert contact_names(book.outsider, query) == []
        assert found(book.outsider, query) == ([], [])
    assert account_names(book.outsider, "nordic") == ["Nordic Fisk AB"]
    assert found(book.outsider, "fisk")[0] == ["Nordic Fisk AB"]


def test_new_changed_and_trashed_rows_are_searchable_at_once(book: Book) -> None:
    account = create_account(actor=book.owner, data={"name": "Zumos Ébano"})
    assert account_names(book.owner, "ebano") == ["Zumos Ébano"]
    assert found(book.owner, "zumos")[0] == ["Zumos Ébano"]
    account = update_account(
        actor=book.owner, account=account, changes={"name": "Zumos Roble"}, expected_version=1
    )
    assert account_names(book.owner, "ebano") == []
    assert account_names(book.owner, "roble") == ["Zumos Roble"]
    trash_account(actor=book.owner, account=account, expected_version=account.version)
    assert account_names(book.owner, "roble") == []
    assert found(book.owner, "roble") == ([], [])
    restore_account(actor=book.owner, account=Account.objects.get(pk=account.pk))
    assert account_names(book.owner, "roble") == ["Zumos Roble"]

    contact = add_contact(book, "Irene", "Ébano")
    assert contact_names(book.owner, "ebano") == ["Irene Ébano"]
    trash_contact(actor=book.owner, contact=contact, expected_version=contact.version)
    assert contact_names(book.owner, "ebano") == []
    assert found(book.owner, "irene") == ([], [])


def test_bulk_inserts_and_updates_are_indexed(book: Book) -> None:
    contacts = [Contact(first_name="Bulk", last_name=f"Ñandú {i}", version=1) for i in range(3)]
    for contact in contacts:
        contact.refresh_search_fields()
    Contact.objects.bulk_create(contacts)
    ContactAccount.objects.bulk_create(
        [ContactAccount(contact=contact, account=book.account) for contact in contacts]
    )
    assert contact_names(book.owner, "nandu") == [f"Bulk Ñandú {i}" for i in range(3)]
    Contact.objects.filter(pk=contacts[0].pk).update(search_text="bulk yak", name_key="yak bulk")
    assert contact_names(book.owner, "nandu") == ["Bulk Ñandú 1", "Bulk Ñandú 2"]
    assert contact_names(book.owner, "yak") == ["Bulk Ñandú 0"]
    Contact.objects.filter(pk=contacts[1].pk).delete()
    assert contact_names(book.owner, "nandu") == ["Bulk Ñandú 2"]


def test_search_combines_with_the_other_filters(book: Book) -> None:
    create_account(actor=book.owner, data={"name": "Muñoz Distribución", "status": "churned"})
    assert account_names(book.owner, "munoz", status=["active"]) == ["Muñoz Logística"]
    assert account_names(book.owner, "munoz", status=["churned"]) == ["Muñoz Distribución"]
    other = create_account(actor=book.owner, data={"name": "Otra"})
    add_contact(book, "Marta", "Pérez", accounts=[other.pk])
    assert contact_names(book.owner, "perez", account=other.pk) == ["Marta Pérez"]


# --- pages ----------------------------------------------------------------------------------------


def _pages(fetch: Any, size: int) -> list[str]:
    names: list[str] = []
    cursor = None
    for _ in range(50):
        page: Page[Any] = fetch(cursor, size)
        names += [str(row) for row in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return names
    raise AssertionError("too many pages")


@pytest.mark.parametrize("few_matches", [fulltext.FEW_MATCHES, -1])
@pytest.mark.parametrize("sort", ["name", "-name", "-updated_at"])
@pytest.mark.parametrize("query", ["smith", "smi", "smith ana", "ana"])
def test_pages_hold_exactly_the_matches_in_order(
    book: Book, sort: str, query: str, few_matches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clustered ("Smith, …" in one run of the name index) and scattered matches, page by page.

    PostgreSQL reads the scattered ones either all at once (few) or by walking the name index.
    """
    monkeypatch.setattr(fulltext, "FEW_MATCHES", few_matches)
    rows = [("Ana", "Smith"), ("Bea", "Smith"), ("Smith", "Adams"), ("Ana", "Zubizarreta")]
    rows += [(f"P{i:02d}", "Smith") for i in range(9)] + [("Ana", "Smithers"), ("Zoe", "Abad")]
    rows += [(f"N{i:02d}", "Nadie") for i in range(6)]
    for first, last in rows:
        add_contact(book, first, last, email=f"{first}@{last}.example".lower())
    owner = fresh(book.owner)
    filters = ContactFilters(q=query, sort=sort)
    expected = [str(c) for c in filters.apply(visible_contacts(owner)).order_by(*filters.ordering)]
    assert expected  # the query matches something

    def fetch(cursor: str | None, size: int) -> Page[Contact]:
        return contact_list(fresh(book.owner), filters, cursor=cursor, limit=size)

    assert _pages(fetch, 3) == expected
    assert _pages(fetch, 200) == expected


@pytest.mark.skipif(not POSTGRESQL, reason="the name-index page reads are PostgreSQL's")
def test_name_sorted_pages_read_two_ordered_index_ranges(book: Book) -> None:
    for index in range(5):
        add_contact(book, f"P{index}", "Smith")
    with CaptureQueriesContext(connection) as queries:
        page = contact_list(fresh(book.owner), ContactFilters(q="smith"), limit=3)
    sqls = [query["sql"] for query in queries.captured_queries]
    assert [c.full_name for c in page.items] == ["P0 Smith", "P1 Smith", "P2 Smith"]
    starting = [s for s in sqls if "\"name_key\" >= 'smith'" in s and "LIMIT 4" in s]
    elsewhere = [s for s in sqls if "(''smith'':*)" in s and "LIMIT 4" in s]
    assert len(starting) == 1 and "search_vector" not in starting[0]
    assert len(elsewhere) == 1 and "0lead" not in elsewhere[0]


def test_pages_never_count(book: Book, client: Any) -> None:
    client.force_login(book.owner)
    urls = [
        "/accounts/?q=munoz",
        "/accounts/?q=unoz",
        "/contacts/?q=perez",
        "/contacts/?q=jose%40munoz.example",
        "/timeline/",
        "/search/?q=munoz",
        "/search/?q=unoz",
        "/api/v1/search?q=munoz",
        "/api/v1/accounts?q=munoz",
        "/api/v1/contacts?q=jose",
    ]
    for url in urls:
        headers = {"HTTP_HX_REQUEST": "true"} if url.startswith("/search/") else {}
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, **headers)
        assert response.status_code == 200, url
        assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_list_query_count_does_not_grow_with_matches(book: Book) -> None:
    def queries_for(query: str) -> int:
        owner = fresh(book.owner)
        visible_accounts(owner).exists()  # the visibility scope, cached on the user
        with CaptureQueriesContext(connection) as queries:
            contact_list(owner, ContactFilters(q=query), limit=5)
        return len(queries.captured_queries)

    add_contact(book, "Uno", "Smith")
    few = queries_for("smith")
    for index in range(20):
        add_contact(book, f"P{index:02d}", "Smith", email=f"p{index}@smith.example")
    assert queries_for("smith") == few
    # The fallback check, the rows, their accounts; PostgreSQL adds its estimate of the matches
    # outside the names' first word (an EXPLAIN) and its two ordered reads.
    assert few == (6 if POSTGRESQL else 3)


# --- the indexes themselves -------------------------------------------------------------------


def test_install_is_idempotent(db: None) -> None:
    assert fulltext.install(connection) == []
    assert fulltext.install(connection) == []


@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL functions and statistics")
def test_migrate_brings_an_older_postgresql_install_up_to_date(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION cartera_search_document(search_text text, name_key text)"
            " RETURNS tsvector LANGUAGE sql IMMUTABLE AS"
            " $$ SELECT to_tsvector('simple'::regconfig, search_text) $$"
        )
        cursor.execute(
            'ALTER TABLE "contacts_contact" ALTER COLUMN "search_vector" SET STATISTICS -1'
        )
    call_command("migrate", verbosity=0)  # nothing to apply; post_migrate converges
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'cartera_search_document'")
        assert fulltext.PG_PUNCTUATION_RE in cursor.fetchone()[0]
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'contacts_contact'::regclass"
            " AND attname = 'search_vector'"
        )
        assert cursor.fetchone()[0] == fulltext.STATISTICS_TARGET
    assert fulltext.install(connection) == []


@pytest.mark.skipif(POSTGRESQL, reason="SQLite table rebuilds")
@pytest.mark.django_db(transaction=True)
def test_sqlite_table_rebuild_keeps_search_working() -> None:
    from cartera.core.testing import build_book

    book = build_book()
    with connection.schema_editor() as editor:
        editor._remake_table(Contact)  # what Django does for many SQLite migrations
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert not [row for row in cursor.fetchall() if row[0].startswith("contacts_contact")]
    add_contact(book, "Nueva", "Tras Reconstrucción")
    assert contact_names(book.owner, "reconstruccion") == []  # not indexed: triggers gone
    call_command("migrate", verbosity=0)  # nothing to apply; post_migrate repairs
    assert contact_names(book.owner, "reconstruccion") == ["Nueva Tras Reconstrucción"]
    assert contact_names(book.owner, "perez") == ["José Pérez"]
    add_contact(book, "Otra", "Después")
    assert contact_names(book.owner, "despues") == ["Otra Después"]


def test_apply_search_leaves_a_blank_query_alone(book: Book) -> None:
    queryset = visible_accounts(fresh(book.owner))
    assert apply_search(queryset, "   ") is queryset
    assert list(apply_search(queryset, "%")) == []


# --- scoped people: few of the matches are theirs ---------------------------------------------


@pytest.mark.parametrize("few_matches", [fulltext.FEW_MATCHES, -1])
@pytest.mark.parametrize("query", ["smith", "smi", "smith ana", "ana", "zz"])
def test_scoped_search_ranks_the_same_and_shows_only_what_they_see(
    book: Book, query: str, few_matches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rep whose matches are few among everyone's: the same hits, in the same order, as the
    plain ranking, and nothing of another team's (PostgreSQL reads "elsewhere" matches from
    the full-text index when few, else walks the name index)."""
    monkeypatch.setattr(fulltext, "FEW_MATCHES", few_matches)
    theirs = create_account(actor=book.outsider, data={"name": "Smith Nordic AB"})
    mine = [("Ana", "Smith"), ("Smith", "Adams"), ("Zz", "Smithson"), ("Ana", "Zz")]
    for first, last in mine:
        add_contact(book, first, last, email=f"{first}@{last}.example".lower())
    for index in range(12):
        create_contact(
            actor=book.outsider,
            data={"first_name": f"Ana{index:02d}", "last_name": "Smith", "accounts": [theirs.pk]},
        )
        create_contact(
            actor=book.outsider,
            data={"first_name": "Smith", "last_name": f"Zz{index:02d}", "accounts": [theirs.pk]},
        )
    owner = fresh(book.owner)
    for limit in (1, 2, 8):
        results = global_search(owner, query, limit=limit)
        expected = fulltext.ranked_search(visible_contacts(owner), query, limit=limit, scoped=False)
        assert [c.pk for c in results.contacts] == [c.pk for c in expected]
        visible = set(visible_contacts(owner).values_list("pk", flat=True))
        assert {c.pk for c in results.contacts} <= visible
        assert theirs.pk not in {a.pk for a in results.accounts}
    assert found(book.owner, "smith", limit=50)[1] == ["Ana Smith", "Zz Smithson", "Smith Adams"]


@pytest.mark.skipif(not POSTGRESQL, reason="the full-text index read is PostgreSQL's")
def test_scoped_search_reads_few_elsewhere_matches_from_the_full_text_index(book: Book) -> None:
    """No walk of the name index for a rep: the "elsewhere" read is ordered by an expression
    (``name_key || ''``) no index has, so PostgreSQL reads the matches from the GIN index; the
    director (every row visible) still walks it."""
    add_contact(book, "Ana", "Smith")
    owner = fresh(book.owner)
    with CaptureQueriesContext(connection) as scoped:
        global_search(owner, "smith")
    director = fresh(book.director)
    with CaptureQueriesContext(connection) as everyone:
        global_search(director, "smith")
    by_expression = 'ORDER BY (COALESCE("contacts_contact"."name_key"'
    assert any(by_expression in q["sql"] for q in scoped.captured_queries)
    assert not any(by_expression in q["sql"] for q in everyone.captured_queries)
