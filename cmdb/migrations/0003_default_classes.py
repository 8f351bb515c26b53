from django.db import migrations


def install_defaults(apps, schema_editor):
    from cmdb.defaults import install

    install(apps)
    CIClass = apps.get_model("cmdb", "CIClass")
    ConfigurationItem = apps.get_model("cmdb", "ConfigurationItem")
    # CIs made before classes existed become applications; staff re-class them.
    application = CIClass.objects.get(key="application")
    ConfigurationItem.objects.filter(ci_class__isnull=True).update(ci_class=application)


class Migration(migrations.Migration):
    dependencies = [("cmdb", "0002_classes_relationships")]

    operations = [migrations.RunPython(install_defaults, migrations.RunPython.noop)]
