"""The impact x urgency priority matrix as one grid form for administrators."""

from django import forms
from django.db import transaction
from django.utils.translation import gettext

from .models import Level, Priority, PriorityRule


def _name(impact: int, urgency: int) -> str:
    return f"cell_{impact}_{urgency}"


class PriorityMatrixForm(forms.Form):
    """One select per cell. A cell may not be less urgent than a cell of lesser impact or
    urgency beside it (higher impact or urgency never lowers the priority)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .services import priority_for

        rules = {(r.impact, r.urgency): r.priority for r in PriorityRule.objects.all()}
        for impact in Level:
            for urgency in Level:
                current = rules.get((impact.value, urgency.value))
                self.fields[_name(impact, urgency)] = forms.TypedChoiceField(
                    coerce=int,
                    choices=Priority.choices,
                    initial=current or priority_for(impact, urgency),
                    label=gettext("Impact %(impact)s, urgency %(urgency)s")
                    % {"impact": impact.label, "urgency": urgency.label},
                )

    def rows(self):
        """(impact, [bound field per urgency]) for the grid."""
        return [(impact, [self[_name(impact, urgency)] for urgency in Level]) for impact in Level]

    def clean(self):
        data = super().clean()
        for impact in Level:
            for urgency in Level:
                name = _name(impact, urgency)
                priority = data.get(name)
                if priority is None:
                    continue
                for less_impact, less_urgency in ((impact + 1, urgency), (impact, urgency + 1)):
                    other = data.get(_name(less_impact, less_urgency))
                    if other is not None and priority > other:
                        self.add_error(
                            name,
                            gettext(
                                "Less urgent than impact %(impact)s, urgency %(urgency)s "
                                "(%(priority)s): a higher impact or urgency never lowers the "
                                "priority."
                            )
                            % {
                                "impact": Level(less_impact).label,
                                "urgency": Level(less_urgency).label,
                                "priority": Priority(other).label,
                            },
                        )
                        break
        return data

    @transaction.atomic
    def save(self) -> list[str]:
        """Stores the grid; returns the cells that changed, as sentences."""
        changed = []
        current = {(r.impact, r.urgency): r for r in PriorityRule.objects.select_for_update()}
        for impact in Level:
            for urgency in Level:
                priority = self.cleaned_data[_name(impact, urgency)]
                rule = current.get((impact.value, urgency.value))
                if rule is None:
                    PriorityRule.objects.create(impact=impact, urgency=urgency, priority=priority)
                elif rule.priority != priority:
                    rule.priority = priority
                    rule.save(update_fields=["priority"])
                else:
                    continue
                changed.append(
                    gettext("impact %(impact)s with urgency %(urgency)s")
                    % {"impact": impact.label, "urgency": urgency.label}
                )
        return changed
