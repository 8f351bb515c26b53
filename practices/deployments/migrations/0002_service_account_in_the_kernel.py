"""The service accounts are the kernel's now (``api.ServiceAccount``, the same rows and
ids): the foreign keys point there; nothing changes in the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_service_accounts_and_tokens"),
        ("deployments", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="deployment",
                    name="service_account",
                    field=models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deployments",
                        to="api.serviceaccount",
                    ),
                ),
                migrations.AlterField(
                    model_name="githubintegration",
                    name="service_account",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="github_integrations",
                        to="api.serviceaccount",
                    ),
                ),
                migrations.DeleteModel(name="ServiceAccount"),
            ],
            database_operations=[],
        ),
    ]
