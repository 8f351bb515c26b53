"""Filters of the CMDB lists, shared by the API and the screens.

Attribute values are filtered with ``attr.<key>=value`` (and ``attr.<key>__gte`` /
``__lte`` / ``__gt`` / ``__lt`` / ``__icontains``); values are read as the attribute's type."""

import django_filters
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core.filters import DateTimeFilter, FilterSet, IdFilter, TeamFilter

from .attributes import coerce, descendant_ids
from .models import (
    AttributeDefinition,
    CIClass,
    ConfigurationItem,
    Environment,
    Relationship,
    RelationshipType,
    Status,
)

ATTRIBUTE_PREFIX = "attr."
#: ``ordering=name`` sorts CIs by ``sort_name`` (the name in lower case), as people read
#: names: "app-01", "DB-01", "db-02", not every capital first.
NAME_ORDERING = {"name": "sort_name", "-name": "-sort_name"}
ATTRIBUTE_LOOKUPS = {"gte", "lte", "gt", "lt", "icontains"}


class CIClassFilter(django_filters.CharFilter):
    """A class by key, with every class below it (``server`` includes virtual…)."""

    def filter(self, qs, value):
        if not value:
            return qs
        ids: set[int] = set()
        for key in value.split(","):
            ci_class = CIClass.objects.filter(key=key.strip()).first()
            if ci_class is None:
                raise ValidationError(
                    {
                        self.field_name: gettext("There is no CI class %(key)s.")
                        % {"key": key.strip()}
                    }
                )
            ids.update(descendant_ids(ci_class))
        return qs.filter(ci_class_id__in=sorted(ids))


class ConfigurationItemFilterSet(FilterSet):
    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    ci_class = CIClassFilter(field_name="ci_class", help_text=_("Class key(s), with subclasses."))
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    environment = django_filters.MultipleChoiceFilter(choices=Environment.choices)
    owner_team = TeamFilter(help_text=_("Team id(s), comma-separated, or `mine`."))
    support_team = TeamFilter(help_text=_("Team id(s), comma-separated, or `mine`."))
    location = IdFilter(field_name="location_id")
    updated_after = DateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = ConfigurationItem
        fields = ["search", "ci_class", "status", "environment", "owner_team", "support_team"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(keys__value=value.casefold()))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.form.cleaned_data.get("search"):
            queryset = queryset.distinct()
        return filter_attributes(queryset, self.data)


def _definitions(key: str) -> list[AttributeDefinition]:
    return list(AttributeDefinition.objects.filter(key=key))


def filter_attributes(queryset, params):
    """Apply every ``attr.<key>[__lookup]`` parameter; a bad value is a ValidationError
    naming the parameter."""
    for param in sorted(params.keys()):
        if not param.startswith(ATTRIBUTE_PREFIX):
            continue
        key, _, lookup = param[len(ATTRIBUTE_PREFIX) :].partition("__")
        if not key or (lookup and lookup not in ATTRIBUTE_LOOKUPS):
            raise ValidationError(
                {
                    param: gettext("Lookups: %(lookups)s.")
                    % {"lookups": ", ".join(sorted(ATTRIBUTE_LOOKUPS))}
                }
            )
        raw = params.get(param)
        if raw in (None, ""):
            continue
        definitions = _definitions(key)
        if not definitions:
            raise ValidationError(
                {param: gettext("No CI class has an attribute %(key)s.") % {"key": key}}
            )
        value = raw
        if lookup != "icontains":
            try:
                value = coerce(definitions[0], raw)
            except ValueError as exc:
                raise ValidationError({param: str(exc)}) from None
        if not lookup and connection.vendor == "postgresql":
            # Containment is what the GIN index on attributes answers.
            queryset = queryset.filter(attributes__contains={key: value})
        else:
            queryset = queryset.filter(**{f"attributes__{key}__{lookup or 'exact'}": value})
    return queryset


class RelationshipFilterSet(FilterSet):
    ci = IdFilter(method="filter_ci", label=_("Either end is this CI"))
    source = IdFilter(field_name="source_id")
    target = IdFilter(field_name="target_id")
    type = django_filters.ModelChoiceFilter(
        queryset=RelationshipType.objects.all(), to_field_name="key"
    )

    class Meta:
        model = Relationship
        fields = ["source", "target", "type"]

    def filter_ci(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(Q(source_id=value) | Q(target_id=value))
