from django.contrib import admin

from .models import Article, ArticleFeedback, ArticleVersion, Deflection, KnowledgeCategory


@admin.register(KnowledgeCategory)
class KnowledgeCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "active"]
    list_editable = ["order", "active"]


class ArticleVersionInline(admin.TabularInline):
    model = ArticleVersion
    extra = 0
    fields = ["number", "title", "published_at", "published_by"]
    readonly_fields = fields
    can_delete = False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Read-mostly: articles are written and published in the workspace (journal, versions)."""

    list_display = ["number", "title", "state", "audience", "category", "owner", "review_date"]
    list_filter = ["state", "audience", "category"]
    search_fields = ["number", "title", "keywords"]
    raw_id_fields = ["owner", "assignment_group", "assigned_to"]
    readonly_fields = ["number", "state", "title", "summary", "body", "keywords"]
    inlines = [ArticleVersionInline]

    def has_add_permission(self, request):
        return False


@admin.register(ArticleFeedback)
class ArticleFeedbackAdmin(admin.ModelAdmin):
    list_display = ["article", "user", "helpful", "updated_at"]
    list_filter = ["helpful"]
    raw_id_fields = ["article", "user"]


@admin.register(Deflection)
class DeflectionAdmin(admin.ModelAdmin):
    list_display = ["article", "user", "query", "created_at"]
    raw_id_fields = ["article", "user"]
