"""Incident management's pickers (categories, a category's subcategories, a parent
incident) and the open incidents on a person's contact card. See ``itsm.core.lookups``."""

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from itsm.core.lookups import Lookup, Param, PersonCount, register, register_person_count

from .models import Category, Incident
from .workflows import IncidentState

categories = register(
    Lookup(
        key="categories",
        queryset=lambda: Category.objects.filter(active=True, parent__isnull=True),
        search=("name",),
        ordering=("name",),
    )
)

subcategories = register(
    Lookup(
        key="subcategories",
        queryset=lambda: Category.objects.filter(active=True, parent__isnull=False),
        search=("name", "parent__name"),
        label=lambda category: category.name,
        detail=lambda category: category.parent.name,
        params={
            "parent": Param(
                filter=lambda queryset, parent: queryset.filter(parent=parent),
                values=lambda category: [category.parent_id],
            )
        },
        ordering=("parent__name", "name"),
        select=("parent",),
    )
)

any_categories = register(
    Lookup(
        key="any-categories",
        # A problem's category: any active one, top-level or not.
        queryset=lambda: Category.objects.filter(active=True),
        search=("name", "parent__name"),
        ordering=("parent__name", "name"),
        select=("parent",),
    )
)

parent_incidents = register(
    Lookup(
        key="parent-incidents",
        # what a child may be attached to: an open incident that is no child itself
        queryset=lambda: Incident.objects.filter(parent__isnull=True, state__in=IncidentState.OPEN),
        search=("number", "title"),
        value="number",
        label=lambda incident: f"{incident.number} {incident.title}",
        detail=lambda incident: incident.state_label,
        ordering=("-created_at", "-id"),
    )
)

register_person_count(
    PersonCount(
        label=_("Open incidents"),
        records=lambda person: Incident.objects.filter(caller=person, state__in=IncidentState.OPEN),
        url=lambda person: (
            reverse("incidents:queue")
            + "?"
            + urlencode({"caller": person.username, "open": "true"})
        ),
        order=10,
    )
)
