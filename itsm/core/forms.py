"""What every form that edits a record in place shares: the page carries what the agent
saw, only what they changed is applied, and after a conflict their changes are laid over
the current values."""

from django import forms
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

#: What a person picker's box says before anything is typed.
TYPE_A_PERSON = _("Type a name or e-mail")


class PersonField(forms.ModelChoiceField):
    """An active person by username: typed, or picked by name as one types (the kernel's
    person picker, with a contact card); ``typed`` is what the box says without script."""

    def __init__(self, placeholder=TYPE_A_PERSON, typed="username", **kwargs):
        from itsm.accounts.models import User

        from .widgets import TextPicker

        kwargs.setdefault(
            "widget",
            TextPicker(
                "people",
                card=True,
                placeholder=placeholder,
                attrs={"placeholder": typed, "autocomplete": "off"},
            ),
        )
        super().__init__(
            queryset=User.objects.filter(is_active=True), to_field_name="username", **kwargs
        )


class AssignmentGroupField(forms.ModelChoiceField):
    """A record's assignment group: an active team, picked by name."""

    def __init__(self, **kwargs):
        from itsm.accounts.models import Team

        from .widgets import Picker

        kwargs.setdefault("required", False)
        kwargs.setdefault("empty_label", _("Unassigned"))
        kwargs.setdefault("widget", Picker("teams"))
        super().__init__(queryset=Team.objects.filter(active=True), **kwargs)


class AssigneeField(forms.ModelChoiceField):
    """A record's assignee, by username: someone in a team, offered from the members of the
    assignment group chosen beside it (``depends_on``)."""

    def __init__(self, depends_on="assignment_group", **kwargs):
        from itsm.accounts.models import User

        from .widgets import Picker

        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", Picker("agents", depends_on=depends_on))
        if depends_on:
            kwargs.setdefault("help_text", _("A member of the assignment group."))
        super().__init__(
            queryset=User.objects.filter(is_active=True, teams__isnull=False)
            .distinct()
            .prefetch_related("teams"),
            to_field_name="username",
            **kwargs,
        )


class EditInPlace:
    """Mixin for a form bound to an existing record (incident, problem, CI…)."""

    def track_changes(self, record) -> None:
        """Carry the values shown (hidden initials) so only changes are applied; show a
        choice by what the field posts (a username, a number: ``to_field_name``); and keep
        an unchanged choice valid even if it left the list since (a deactivated user, a
        retired team): only changes are checked."""
        for field in self.fields.values():
            field.show_hidden_initial = True
        for name, field in self.fields.items():
            if not isinstance(field, forms.ModelChoiceField) or isinstance(
                field, forms.ModelMultipleChoiceField
            ):
                continue
            current = getattr(record, f"{name}_id", None)
            if field.to_field_name and hasattr(record, f"{name}_id"):
                related = getattr(record, name) if current is not None else None
                self.initial[name] = getattr(related, field.to_field_name, None)
            if current is not None:
                choices = field.queryset
                field.queryset = choices.model.objects.filter(
                    Q(pk__in=choices.values("pk")) | Q(pk=current)
                ).prefetch_related(*choices._prefetch_related_lookups)

    def raw_value(self, name):
        """A field's value as the browser would post it."""
        value = self[name].value()
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
        if hasattr(value, "pk"):
            return str(value.pk)
        return "" if value is None else str(value)

    def changed_values(self) -> dict:
        """The cleaned values the agent changed."""
        return {name: self.cleaned_data[name] for name in self.changed_data}

    @classmethod
    def after_conflict(cls, submitted, current):
        """The current values with the agent's own changes laid over them, ready to save
        again (a model form of the record)."""
        data = overlay(submitted, cls(instance=current), current.version)
        return cls(data, instance=type(current).objects.get(pk=current.pk))


def overlay(submitted: EditInPlace, fresh: EditInPlace, version: int) -> QueryDict:
    """Form data of the current values (``fresh``) with the agent's own changes from
    ``submitted`` laid over them, at the record's current version: what a conflict page
    offers to save again."""
    data = QueryDict(mutable=True)
    for name in fresh.fields:
        mine = submitted.raw_value(name) if name in submitted.changed_data else None
        theirs = fresh.raw_value(name)
        for key, value in ((name, theirs if mine is None else mine), (f"initial-{name}", theirs)):
            data.setlist(key, value if isinstance(value, list) else [value])
    data["version"] = str(version)
    return data
