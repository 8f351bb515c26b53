from django.db import migrations

from itsm.core.search import search_vector_operations


class Migration(migrations.Migration):
    dependencies = [("incidents", "0004_open_queue_by_team_index")]

    # Title and description only (never the journal: work notes stay out of search).
    operations = search_vector_operations(
        "incidents_incident", {"title": "A", "description": "B"}
    )
