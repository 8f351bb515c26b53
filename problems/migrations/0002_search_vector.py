"""Full-text search of problems and known errors on PostgreSQL: a generated, weighted
``search_vector`` column with a GIN index (nothing on other databases). The columns and
weights are ``problems.models.SEARCH_FIELDS``."""

from django.db import migrations

from itsm.core.search import search_vector_operations


class Migration(migrations.Migration):
    dependencies = [("problems", "0001_initial")]

    operations = search_vector_operations(
        "problems_problem", {"title": "A", "workaround": "B", "description": "C"}
    )
