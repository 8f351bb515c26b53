"""Full-text search of changes on PostgreSQL: a generated, weighted ``search_vector``
column with a GIN index (nothing on other databases); the fields are
``changes.search.FIELDS``."""

from django.db import migrations

from itsm.core.search import search_vector_operations


class Migration(migrations.Migration):
    dependencies = [("changes", "0001_initial")]

    operations = search_vector_operations(
        "changes_change",
        {"title": "A", "description": "B", "justification": "C", "implementation_plan": "D"},
    )
