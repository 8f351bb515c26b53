"""Inside a privacy erasure's rewriting block the triggers let only the personal columns of
timeline entries and attachments change (as they did for audit events); re-created on
PostgreSQL (``install_triggers`` is idempotent)."""

from django.db import migrations

from itsm.audit.db import install_triggers


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_only_the_right_to_read")]

    operations = [migrations.RunPython(install_triggers, migrations.RunPython.noop)]
