"""PostgreSQL-only indexes: trigram search of the lead list and the audit trail's lead lookups.

SQLite skips them (its lead search scans ``search_text``, fine at embedded sizes).
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS lead_search_trgm_idx ON leads_lead"
    " USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL",
    "CREATE INDEX IF NOT EXISTS auditlog_lead_related_idx ON auditlog_logentry"
    " ((additional_data -> 'lead_id')) WHERE additional_data IS NOT NULL",
]
BACKWARD = [
    "DROP INDEX IF EXISTS auditlog_lead_related_idx",
    "DROP INDEX IF EXISTS lead_search_trgm_idx",
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
        ("leads", "0001_initial"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
