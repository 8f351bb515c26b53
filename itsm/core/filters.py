"""Filters shared by every record type's FilterSet (API and screens alike)."""

from datetime import UTC, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .scoping import scope_filters

User = get_user_model()


#: The widest UTC offset a time zone has (PostgreSQL refuses anything beyond).
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)


def bounded_datetime(value):
    """An aware date-time as UTC, refusing an offset no time zone has (``+20:00`` would
    reach the database and fail there); a naive one is read in the current time zone."""
    if value is None:
        return None
    if timezone.is_naive(value):
        return timezone.make_aware(value)
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError(_("A UTC offset between -15:59 and +15:59."), code="offset")
    return value.astimezone(UTC)


class BoundedDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time with a real UTC offset, as UTC."""

    def to_python(self, value):
        return bounded_datetime(super().to_python(value))


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """A date-time parameter (``created_after`` …): ISO 8601, a real UTC offset, else 400."""

    field_class = BoundedDateTimeField


class IdFilter(django_filters.NumberFilter):
    """An id: a whole number the database can hold (``1.5`` or 30 digits is a 400, not a
    500)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class UserFilter(django_filters.CharFilter):
    """A user by username; ``me`` is the signed-in user."""

    def filter(self, qs, value):
        if not value:
            return qs
        request = getattr(self.parent, "request", None)
        if value == "me" and request is not None:
            return qs.filter(**{self.field_name: request.user.pk})
        return qs.filter(**{f"{self.field_name}__username": value})


class TeamFilter(django_filters.CharFilter):
    """A team by id; ``mine`` is every team the signed-in user belongs to."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "validators",
            [
                RegexValidator(
                    r"^(mine|[0-9]{1,18}(,[0-9]{1,18})*)$",
                    _("Team ids separated by commas, or `mine`."),
                )
            ],
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        request = getattr(self.parent, "request", None)
        if value == "mine" and request is not None:
            return qs.filter(**{f"{self.field_name}__in": list(request.user.team_ids)})
        return qs.filter(**{f"{self.field_name}__in": [int(part) for part in value.split(",")]})


class FilterSet(django_filters.FilterSet):
    """Every list's filters: the model-choice filters offer (and accept) only the rows the
    requesting person may see (``itsm.core.scoping``), in the API and on the screens."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scope_filters(self, getattr(self.request, "user", None))


class RecordFilterSet(FilterSet):
    """Assignment, text search and dates: what every record list filters on."""

    assignment_group = TeamFilter(help_text=_("Team id(s), comma-separated, or `mine`."))
    assigned_to = UserFilter(help_text=_("Username, or `me`."))
    unassigned = django_filters.BooleanFilter(field_name="assigned_to", lookup_expr="isnull")
    open = django_filters.BooleanFilter(
        method="filter_open",
        label=_("Open"),
        help_text=_("Still needing work (the workflow's open states)."),
    )
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    search = django_filters.CharFilter(method="filter_text", label=_("Search"))

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        states = queryset.model.workflow.open
        return queryset.filter(state__in=states) if value else queryset.exclude(state__in=states)

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        prefix = queryset.model.NUMBER_PREFIX
        if value.upper().startswith(prefix) and value[len(prefix) :].isdigit():
            return queryset.filter(number=value.upper())
        return queryset.filter(Q(title__icontains=value))
