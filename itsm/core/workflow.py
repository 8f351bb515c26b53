"""One declarative workflow mechanism for every record type.

A workflow names its states, the transitions between them, who may take each, which
fields must be filled, extra guards, and effects (field updates made as the state is
entered). ``Workflow.apply`` checks all of it and raises a ``ValidationError`` that names the
field at fault, or the allowed next states; it never changes a record it refuses.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

Guard = Callable[[object, object], str | None]
Effect = Callable[[object, object], None]
Permission = Callable[[object, object], bool]


class TaskState(models.TextChoices):
    """The states of a task: a piece of work one team does for a record (a request's
    fulfilment task, a change's task). Each task type's workflow moves between these."""

    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


def anyone(record, user) -> bool:
    return True


def staff_only(record, user) -> bool:
    return user is None or user.is_agent


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    label: str
    requires: tuple[str, ...] = ()
    allowed: Permission = staff_only
    guards: tuple[Guard, ...] = ()
    effects: tuple[Effect, ...] = ()
    #: Messages the transition sends (``itsm.core.writes.Notice``), in its transaction.
    notices: tuple = ()
    #: ``(record, actor)`` functions run once the transition is committed (a webhook, a
    #: task); never for a transaction that rolls back.
    after_commit: tuple[Effect, ...] = ()
    #: The button style in the workspace: "primary", "danger" or "" (plain).
    style: str = ""


@dataclass
class Workflow:
    states: list[tuple[str, str]]
    initial: str
    transitions: list[Transition] = field(default_factory=list)
    #: the states in which the record still needs work (its queues' "open"); by default
    #: every state a transition leaves
    open_states: frozenset[str] | None = None

    @property
    def open(self) -> frozenset[str]:
        if self.open_states is not None:
            return frozenset(self.open_states)
        return frozenset(s for s in self.state_names if not self.is_final(s))

    def __post_init__(self):
        names = {value for value, _ in self.states}
        assert self.initial in names, self.initial
        assert self.open_states is None or set(self.open_states) <= names, self.open_states
        for transition in self.transitions:
            assert transition.target in names, transition.target
            assert transition.sources <= names, transition.sources

    @property
    def state_names(self) -> list[str]:
        return [value for value, _ in self.states]

    def label(self, state: str) -> str:
        return dict(self.states).get(state, state)

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def available(self, record, user) -> list[Transition]:
        """Transitions this user may take from the record's current state."""
        return [t for t in self.transitions_from(record.state) if t.allowed(record, user)]

    def is_final(self, state: str) -> bool:
        return not self.transitions_from(state)

    def find(self, record, target: str, user) -> Transition:
        if target not in self.state_names:
            raise ValidationError(
                {
                    "state": gettext("'%(target)s' is not a state. States: %(states)s.")
                    % {"target": target, "states": ", ".join(self.state_names)}
                }
            )
        allowed = self.available(record, user)
        for transition in allowed:
            if transition.target == target:
                return transition
        names = sorted(t.target for t in allowed)
        choices = ", ".join(names) if names else gettext("none")
        raise ValidationError(
            {
                "state": gettext(
                    "Cannot move from %(state)s to %(target)s. Allowed next states: %(choices)s."
                )
                % {"state": record.state, "target": target, "choices": choices}
            }
        )

    def check(self, record, transition: Transition, user) -> None:
        errors: dict[str, list[str]] = {}
        for name in transition.requires:
            value = getattr(record, name, None)
            if value in (None, "") or (isinstance(value, str) and not value.strip()):
                errors.setdefault(name, []).append(
                    gettext("Required to move to %(target)s.") % {"target": transition.target}
                )
        for guard in transition.guards:
            message = guard(record, user)
            if message:
                errors.setdefault("state", []).append(message)
        if errors:
            raise ValidationError(errors)

    def apply(self, record, target: str, user) -> Transition:
        """Check and take the transition to ``target``; the caller saves the record."""
        transition = self.find(record, target, user)
        self.check(record, transition, user)
        record.state = transition.target
        for effect in transition.effects:
            effect(record, user)
        return transition

    def targets(self, transitions: Iterable[Transition]) -> list[str]:
        return [t.target for t in transitions]
