"""Known errors are searched by what an end user may read of them (title and workaround):
a second generated vector, so no word of an internal description can be probed."""

from django.db import migrations

from itsm.core.search import search_vector_operations


class Migration(migrations.Migration):
    dependencies = [("problems", "0002_search_vector")]

    operations = search_vector_operations(
        "problems_problem", {"title": "A", "workaround": "B"}, column="public_search_vector"
    )
