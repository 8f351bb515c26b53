"""The chain head's trigger (it only moves forward), on PostgreSQL; the other triggers
are re-created as they are (``install_triggers`` is idempotent)."""

from django.db import migrations

from itsm.audit.db import install_triggers


def _noop(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_triggers")]

    operations = [migrations.RunPython(install_triggers, _noop)]
