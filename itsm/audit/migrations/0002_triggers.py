"""PostgreSQL triggers refusing UPDATE and DELETE of the audit log, the timelines and the
attachments (``itsm.audit.db``); nothing on SQLite."""

from django.db import migrations

from itsm.audit.db import install_triggers, uninstall_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("core", "0003_notification_claim"),
    ]

    operations = [migrations.RunPython(install_triggers, uninstall_triggers)]
