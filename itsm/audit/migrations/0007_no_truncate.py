"""TRUNCATE of the protected tables refused, on PostgreSQL (``itsm.audit.db``); the other
triggers are re-created as they are."""

from django.db import migrations

from itsm.audit.db import install_triggers


def _noop(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_labels")]

    operations = [migrations.RunPython(install_triggers, _noop)]
