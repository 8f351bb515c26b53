import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cmdb", "0003_default_classes")]

    operations = [
        migrations.AlterField(
            model_name="configurationitem",
            name="ci_class",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="items",
                to="cmdb.ciclass",
            ),
        ),
    ]
