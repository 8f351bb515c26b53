"""The audit log has one right to grant, reading it (``audit.view_auditevent``); the
chain head none. Rights made before (add, change, delete) are removed, from every group
and person that held them."""

from django.db import migrations


def remove_stale_rights(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    stale = Permission.objects.filter(content_type__app_label="audit").exclude(
        codename="view_auditevent"
    )
    stale.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_chain_head_guard"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="auditevent",
            options={"default_permissions": ("view",), "ordering": ["-sequence"]},
        ),
        migrations.AlterModelOptions(
            name="chainhead",
            options={"default_permissions": (), "verbose_name": "audit chain head"},
        ),
        migrations.RunPython(remove_stale_rights, migrations.RunPython.noop),
    ]
