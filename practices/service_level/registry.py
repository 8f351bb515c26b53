"""How a record type takes part in service level management.

A practice declares, for its record model, a ``Profile``: the attributes agreements match
on, when the response and resolution targets are met, when the clock stops for good, what
pauses it by default, and how an escalation raises the priority or reassigns. Incidents
declare theirs in ``incidents/sla.py`` and name it in their ``PracticeConfig``
(``sla_profiles``); requests, problems and changes do the same."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Profile:
    #: record -> {name: value} the agreements' conditions match against (ids for relations).
    #: The names are what administrators pick in an agreement's conditions; the values on
    #: offer come from the record's field of that name (``conditions.attributes``).
    attributes: Callable[[object], dict]
    #: record -> when the response target was met (None while not)
    responded_at: Callable[[object], datetime | None]
    #: record -> when the resolution target was met (None while not)
    resolved_at: Callable[[object], datetime | None]
    #: record -> True when the record was cancelled (its timers are cancelled)
    cancelled: Callable[[object], bool]
    #: conditions that pause the clock when an agreement names none
    default_pause_when: list[dict] = field(default_factory=list)
    #: (record, actor) -> None: raise the priority one step (an escalation action)
    raise_priority: Callable | None = None
    #: (record, team, actor) -> None: reassign to a team (an escalation action)
    reassign: Callable | None = None


_profiles: dict[type, Profile] | None = None


def _all() -> dict[type, Profile]:
    global _profiles
    if _profiles is None:
        from itsm.core.practices import registry

        _profiles = registry.sla_profiles()
    return _profiles


def profile_for(model: type) -> Profile | None:
    return _all().get(model)


def models() -> list[type]:
    return list(_all())
