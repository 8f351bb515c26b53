"""API tokens stored hashed, and the kernel's service accounts.

The service accounts of the deployments practice become the kernel's (same rows: the
table is adopted and renamed). DRF's clear-text tokens, if any, are converted: the same
key keeps working, now stored as its SHA-256 hash, named "migrated" and expiring in 90
days; then DRF's table (which held the keys in clear) is dropped."""

import hashlib
from datetime import timedelta

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def convert_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("api", "ApiToken")
    now = django.utils.timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cursor.fetchall()
    taken = set()
    for key, user_id, created in rows:
        length = 8  # the authentication looks up 8 to 12 characters
        while key[:length] in taken and length < 12:
            length += 1
        taken.add(key[:length])
        ApiToken.objects.create(
            user_id=user_id,
            name="migrated",
            prefix=key[:length],
            secret_hash=hashlib.sha256(key.encode()).hexdigest(),
            scopes=["write"],
            expires_at=now + timedelta(days=90),
            created_at=created or now,
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE authtoken_token")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("deployments", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The deployments' service accounts, adopted as they are, then renamed.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ServiceAccount",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("description", models.TextField(blank=True)),
                        ("active", models.BooleanField(default=True)),
                        (
                            "created_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, editable=False
                            ),
                        ),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="service_account",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["user__username"],
                        "db_table": "deployments_serviceaccount",
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="serviceaccount", table=None),
        migrations.AddField(
            model_name="serviceaccount",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                help_text="The person who answers for this account.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="service_accounts_owned",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                ("prefix", models.CharField(editable=False, max_length=20, unique=True)),
                ("secret_hash", models.CharField(editable=False, max_length=64)),
                ("scopes", models.JSONField(default=list)),
                ("expires_at", models.DateTimeField()),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "last_used_at",
                    models.DateTimeField(blank=True, editable=False, null=True),
                ),
                (
                    "last_used_from",
                    models.GenericIPAddressField(blank=True, editable=False, null=True),
                ),
                ("revoked_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "revoked_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "API token",
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("revoked_at__isnull", True)),
                        fields=("user", "name"),
                        name="one_live_token_name_per_user",
                    )
                ],
            },
        ),
        migrations.RunPython(convert_drf_tokens, migrations.RunPython.noop),
    ]
