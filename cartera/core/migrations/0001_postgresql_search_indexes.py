"""PostgreSQL-only indexes: trigram search and the audit trail's related-object lookups.

SQLite skips them (its search runs on the same normalised columns without an index until the
FTS5 tables land).
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS account_search_trgm_idx ON accounts_account"
    " USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL",
    "CREATE INDEX IF NOT EXISTS contact_search_trgm_idx ON contacts_contact"
    " USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL",
    "CREATE INDEX IF NOT EXISTS auditlog_account_related_idx ON auditlog_logentry"
    " ((additional_data -> 'account_id')) WHERE additional_data IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS auditlog_contact_related_idx ON auditlog_logentry"
    " ((additional_data -> 'contact_id')) WHERE additional_data IS NOT NULL",
]
BACKWARD = [
    "DROP INDEX IF EXISTS auditlog_contact_related_idx",
    "DROP INDEX IF EXISTS auditlog_account_related_idx",
    "DROP INDEX IF EXISTS contact_search_trgm_idx",
    "DROP INDEX IF EXISTS account_search_trgm_idx",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("contacts", "0002_initial"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
