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
