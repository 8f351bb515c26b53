from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("changes", "0002_search_vector"),
    ]

    operations = [
        migrations.AddField(
            model_name="schedulewindow",
            name="held_changes",
            field=models.ManyToManyField(
                blank=True, editable=False, related_name="holding_freezes", to="changes.change"
            ),
        ),
    ]
