"""On PostgreSQL, a trigram index makes the queue's title search fast on millions of rows."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS inc_title_trgm ON incidents_incident "
        "USING gin (title gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS inc_title_trgm")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_default_priority_matrix")]
    operations = [migrations.RunPython(forwards, backwards)]
