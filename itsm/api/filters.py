"""The filter backend of every list: django-filter, with choices scoped to the person."""

from django_filters import rest_framework as filters

from itsm.core.scoping import scope_filters


class ScopedFilterSet(filters.FilterSet):
    """The FilterSet built from a view's ``filterset_fields``: its choices, too, come from
    what the requesting person may see."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scope_filters(self, getattr(self.request, "user", None))


class FilterBackend(filters.DjangoFilterBackend):
    filterset_base = ScopedFilterSet
