from django.db import migrations

INDEX = "cmdb_ci_attributes_gin"


def create(apps, schema_editor):
    # Attribute filters use jsonb containment on PostgreSQL; other databases scan.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON cmdb_configurationitem "
            "USING gin (attributes jsonb_path_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("cmdb", "0005_import_results")]

    operations = [migrations.RunPython(create, drop)]
