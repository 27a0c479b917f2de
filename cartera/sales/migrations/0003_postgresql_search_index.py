"""PostgreSQL only: a trigram index for the deal list's search (``LIKE '%word%'``)."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS opp_search_trgm_idx ON sales_opportunity"
    " USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL",
]
BACKWARD = ["DROP INDEX IF EXISTS opp_search_trgm_idx"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("sales", "0002_board_indexes")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
