"""One filter set for the article list, shared by the API and the workspace."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itsm.core.filters import FilterSet, IdFilter, RecordFilterSet, UserFilter

from .models import Article, Audience
from .services import REVIEW_NOTICE
from .workflows import ArticleState


class ArticleFilterSet(RecordFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ArticleState.choices, distinct=False)
    audience = django_filters.ChoiceFilter(choices=Audience.choices)
    category = IdFilter(field_name="category_id")
    owner = UserFilter(help_text=_("Username, or `me`."))
    review_due = django_filters.BooleanFilter(
        method="filter_review_due",
        label=_("Review due"),
        help_text=_("Published articles whose review date is within 7 days or past."),
    )
    published = django_filters.BooleanFilter(
        method="filter_published", label=_("Has a published version")
    )

    class Meta:
        model = Article
        fields = ["state", "audience", "category", "owner", "assignment_group"]

    def _reader(self) -> bool:
        request = getattr(self, "request", None)
        return request is None or not request.user.is_agent

    def filter_text(self, queryset, name, value):
        """Number, or words of the title and keywords: the published ones for readers (they
        never match text that is only in a draft)."""
        value = value.strip()
        if not value:
            return queryset
        prefix = Article.NUMBER_PREFIX
        if value.upper().startswith(prefix) and value[len(prefix) :].isdigit():
            return queryset.filter(number=value.upper())
        if self._reader():
            return queryset.filter(
                Q(published_title__icontains=value) | Q(published_keywords__icontains=value)
            )
        return queryset.filter(Q(title__icontains=value) | Q(keywords__icontains=value))

    def filter_review_due(self, queryset, name, value):
        if value is None:
            return queryset
        due = Q(review_date__lte=timezone.localdate() + REVIEW_NOTICE)
        if value:
            return queryset.readable().filter(due)
        return queryset.exclude(due & Q(published_number__isnull=False))

    def filter_published(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(published_number__isnull=False)
        return queryset.filter(published_number__isnull=True)


#: Columns the list and the API sort by (non-null fields, for keyset pagination).
ORDERING_FIELDS = ["number", "title", "state", "created_at", "updated_at", "views"]

#: What a reader may sort by: nothing a revision in progress changes (a keyset cursor
#: carries the sort values of a page's last row).
READER_ORDERING_FIELDS = ["number", "published_title", "created_at", "views"]


class ReaderArticleFilterSet(FilterSet):
    """The filters a reader (an end user) may use: only published, public facts."""

    search = django_filters.CharFilter(method="filter_text", label=_("Search"))
    category = IdFilter(field_name="category_id")

    class Meta:
        model = Article
        fields = ["search", "category"]

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        prefix = Article.NUMBER_PREFIX
        if value.upper().startswith(prefix) and value[len(prefix) :].isdigit():
            return queryset.filter(number=value.upper())
        return queryset.filter(
            Q(published_title__icontains=value) | Q(published_keywords__icontains=value)
        )
