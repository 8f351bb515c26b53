"""A second search vector over what an article is about (published title, keywords and
summary) with its GIN index: suggestions qualify rows through it (PostgreSQL only)."""

from django.db import migrations

from itsm.core.search import search_vector_operations
from practices.knowledge.search import SUGGEST_FIELDS, SUGGEST_VECTOR


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_revision_started_at")]

    operations = search_vector_operations("knowledge_article", SUGGEST_FIELDS, SUGGEST_VECTOR)
