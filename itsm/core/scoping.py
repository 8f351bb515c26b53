"""Choices come from what the person may see.

Every list of choices a person is shown, or may pick from (a serializer's related field,
hence the browsable API's forms; a filter form; a screen's select), is narrowed by one
rule: the model's ``visible_to(user)`` where it has one (records, CIs, assets, users…);
otherwise staff see every row and nobody else any. A model whose rows anyone may pick
(live services, active categories) says so with a ``visible_to`` of its own."""


def visible_choices(queryset, user):
    """The rows of ``queryset`` that ``user`` may be shown as choices."""
    if user is None:
        return queryset  # no person (schema generation, internal use)
    if hasattr(queryset, "visible_to"):
        return queryset.visible_to(user)
    if user.is_authenticated and getattr(user, "is_agent", False):
        return queryset
    return queryset.none()


def scope_related_fields(fields, user) -> None:
    """Narrow the querysets of a serializer's related fields (one or many) to ``user``."""
    from rest_framework.relations import ManyRelatedField, RelatedField

    for field in fields.values():
        related = field.child_relation if isinstance(field, ManyRelatedField) else field
        if isinstance(related, RelatedField) and getattr(related, "queryset", None) is not None:
            related.queryset = visible_choices(related.queryset, user)


def scope_filters(filterset, user) -> None:
    """Narrow the querysets of a FilterSet's model-choice filters (its form's selects)."""
    for flt in filterset.filters.values():
        queryset = getattr(flt, "queryset", None)
        if queryset is not None and not callable(queryset):
            flt.queryset = visible_choices(queryset, user)
            flt.extra["queryset"] = flt.queryset


def scope_form(form, user) -> None:
    """Narrow the querysets of a Django form's model-choice fields."""
    for field in form.fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is not None:
            field.queryset = visible_choices(queryset, user)


# Data separation ------------------------------------------------------------------------
#
# Which rows staff see is each model's ``visible_to``; how it is narrowed for a staff
# member by the ``DATA_SEPARATION`` setting is decided here once, and each model's queryset
# says what "theirs" means for its rows (``separation_scope``).


class Separation:
    """What narrows one staff member's view: their teams (those they are in or manage),
    the organizations those teams serve, and every organization some team serves (the
    customers; a person or record of any other organization is internal)."""

    def __init__(self, user, mode: str):
        from itsm.accounts.models import Team

        self.user = user
        self.mode = mode
        self.team_ids = user.scope_team_ids
        self.served_organization_ids = frozenset()
        self.customer_ids = frozenset()
        self.serving_team_ids = frozenset()
        self.customer_team_ids = frozenset()
        if mode == "organizations":
            pairs = list(Team.organizations.through.objects.values_list("team", "organization"))
            self.customer_ids = frozenset(org for _, org in pairs)
            self.customer_team_ids = frozenset(team for team, _ in pairs)
            self.served_organization_ids = frozenset(
                org for team, org in pairs if team in self.team_ids
            )
            self.serving_team_ids = frozenset(
                team for team, org in pairs if org in self.served_organization_ids
            )

    def of_organizations(self, path: str):
        """``Q``: the row's organization (at ``path``) is one they serve, or is internal
        (no organization, or one no team serves)."""
        from django.db.models import Q

        served = Q(**{f"{path}__in": self.served_organization_ids})
        return served | ~Q(**{f"{path}__in": self.customer_ids})


def separation(user) -> Separation | None:
    """How ``user``'s (a staff member's) view of records is narrowed, or None: every record
    (``DATA_SEPARATION = "all"``, or they hold ``core.see_every_record``). Computed once
    per request (kept on the user)."""
    from django.conf import settings

    mode = getattr(settings, "DATA_SEPARATION", "all")
    if mode == "all" or user.has_perm("core.see_every_record"):
        return None
    cached = getattr(user, "_separation", None)
    if cached is None or cached.mode != mode:
        cached = Separation(user, mode)
        user._separation = cached
    return cached


def may_see(record, user) -> bool:
    """Whether ``user`` may see ``record`` (one query, none when nothing is separated for
    staff)."""
    if user is None or not user.is_active:
        return False
    model = type(record)
    if user.is_agent and separation(user) is None:
        return True
    return model._default_manager.visible_to(user).filter(pk=record.pk).exists()
