"""Full-text search indexes (see ``cartera.core.fulltext``).

SQLite: FTS5 external-content tables ``accounts_account_fts`` and ``contacts_contact_fts`` over
``search_text`` with insert/update/delete triggers (a ``post_migrate`` handler puts the triggers
back when a later migration rebuilds the table).

PostgreSQL: a ``search_vector`` tsvector column on both tables, kept by a trigger and indexed
with GIN.
"""

from django.db import migrations

# Imported here, not in the functions: every ``migrate`` loads this module, which connects the
# ``post_migrate`` handler that repairs what a later SQLite table rebuild drops.
from cartera.core import fulltext


def forward(apps, schema_editor):
    fulltext.install(schema_editor.connection)


def backward(apps, schema_editor):
    fulltext.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_postgresql_search_indexes"),
        ("accounts", "0002_initial"),
        ("contacts", "0002_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
