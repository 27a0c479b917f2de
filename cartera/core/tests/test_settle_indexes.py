"""``bulk.settle_search_indexes`` after an import: PostgreSQL lets only the indexes' owner (or a
superuser) run ``gin_clean_pending_list``. A database role that uses the tables without owning
them (migrations run by another role) must still finish its imports: the merge is skipped and
autovacuum does it later."""

from __future__ import annotations

import pytest
from django.db import connection

from cartera.accounts.models import Account
from cartera.core import bulk

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN pending lists: PostgreSQL"),
]


def test_a_role_that_does_not_own_the_indexes_is_not_stopped() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE cartera_r1_not_owner")  # rolled back with the test
        cursor.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO cartera_r1_not_owner")
        cursor.execute("GRANT USAGE ON SCHEMA public TO cartera_r1_not_owner")
        cursor.execute("SET LOCAL ROLE cartera_r1_not_owner")
    bulk.settle_search_indexes(Account)
    # The connection is still usable afterwards (no aborted transaction).
    assert Account.objects.count() >= 0
