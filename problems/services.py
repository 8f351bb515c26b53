"""Problem management operations: logging and changing problems (workflow, risk,
workaround), their causes, linking incidents, using and rating workarounds, resolving a
problem together with its open incidents, and finding incident trends.

API views and screens call these functions; each write runs in one transaction.
The change that fixes a problem is linked with the kernel's record links once change
enablement exists (nothing here depends on it).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _

from incidents import services as incident_services
from incidents.models import Incident, ResolutionCode
from incidents.workflows import IncidentState
from itsm.core import services as core
from itsm.core import writes
from itsm.core.i18n import Said, said
from itsm.core.models import JournalEntry

from .models import (
    Cause,
    Dimension,
    Effectiveness,
    KnownErrorDeflection,
    Problem,
    Risk,
    WorkaroundUse,
    priority_for,
)
from .workflows import ProblemState

#: Fields ``open_problem`` and ``update_problem`` accept (besides ``state``).
EDITABLE_FIELDS = (
    "title",
    "description",
    "category",
    "impact",
    "probability",
    "assignment_group",
    "assigned_to",
    "services",
    "configuration_items",
    "incidents",
    "workaround",
    "workaround_public",
    "resolution_notes",
)
M2M_FIELDS = ("services", "configuration_items", "incidents")


def _one_of(values) -> str:
    return gettext("One of: %(values)s.") % {"values": ", ".join(values)}


def _closed(record) -> str:
    return gettext("%(number)s is closed.") % {"number": record.number}


def _validate(problem: Problem, changed: set[str] | None = None) -> None:
    """Check the problem's fields; ``changed`` limits the checks to what an update touched
    (None: everything, for a new problem)."""

    def touched(*names) -> bool:
        return changed is None or any(name in changed for name in names)

    errors = {}
    if touched("title") and not (problem.title or "").strip():
        errors["title"] = gettext("Give the problem a short title.")
    if touched("impact") and problem.impact not in Risk.values:
        errors["impact"] = _one_of(Risk.values)
    if touched("probability") and problem.probability not in Risk.values:
        errors["probability"] = _one_of(Risk.values)
    writes.check_assignment(problem, changed, errors)
    if touched("workaround", "workaround_public") and problem.workaround_public:
        if not (problem.workaround or "").strip():
            errors["workaround_public"] = gettext("Write the workaround before publishing it.")
    writes.refuse(errors)


def _journal_many(records, kind, actor, body, internal: bool = True) -> None:
    """The same journal line on several records of one type, in one query. A ``said``
    body is stored as ``core.write_journal`` stores it: in English, read in each reader's
    language."""
    records = list(records)
    if not records:
        return
    data = {}
    if isinstance(body, Said):
        data, body = {"said": body.as_data()}, body.in_english()
    ct = ContentType.objects.get_for_model(records[0])
    JournalEntry.objects.bulk_create(
        JournalEntry(
            content_type=ct,
            object_id=r.pk,
            kind=kind,
            actor=actor,
            body=body,
            data=data,
            internal=internal,
        )
        for r in records
    )


def _journal_incident_links(problem: Problem, actor, added=(), removed=()) -> None:
    _journal_many(
        added,
        JournalEntry.Kind.LINK,
        actor,
        said(gettext_noop("linked to problem %(number)s"), number=problem.number),
    )
    _journal_many(
        removed,
        JournalEntry.Kind.LINK,
        actor,
        said(gettext_noop("removed link to problem %(number)s"), number=problem.number),
    )


def _derive(problem: Problem, actor, change: writes.Write) -> None:
    before = change.before
    if before is None or (problem.impact, problem.probability) != (
        before.impact,
        before.probability,
    ):
        if problem.impact in Risk.values and problem.probability in Risk.values:
            problem.priority = priority_for(problem.impact, problem.probability)
    if change.options.get("resolve_incidents") and not change.moved(to=ProblemState.RESOLVED):
        raise ValidationError(
            {"resolve_incidents": gettext("Incidents are resolved only together with the problem.")}
        )


def _saved(problem: Problem, actor, change: writes.Write) -> None:
    """Each incident linked or unlinked says so on its own timeline."""
    if "incidents" not in change.m2m_before:
        return
    before = change.m2m_before["incidents"]
    after = set(problem.incidents.values_list("pk", flat=True))
    if before != after:
        _journal_incident_links(
            problem,
            actor,
            added=Incident.objects.filter(pk__in=after - before).order_by("pk"),
            removed=Incident.objects.filter(pk__in=before - after).order_by("pk"),
        )


def _after(problem: Problem, actor, change: writes.Write) -> None:
    resolving = change.moved(to=ProblemState.RESOLVED)
    problem.resolved_incidents = (
        _resolve_incidents(problem, actor)
        if change.options.get("resolve_incidents") and resolving
        else []
    )


SPEC = writes.WriteSpec(
    model=Problem,
    create=writes.Access(staff=EDITABLE_FIELDS),
    update=writes.Access(staff=(*EDITABLE_FIELDS, "state")),
    m2m=M2M_FIELDS,
    quiet=("known_error_at", "resolved_at", "closed_at"),
    refused=_("This field cannot be changed."),
    initial=lambda actor, data, options: {"opened_by": actor, "state": ProblemState.NEW},
    derive=_derive,
    validate=_validate,
    created_data=lambda problem: {
        "priority": problem.priority,
        "incidents": problem.incidents.count(),
    },
    saved=_saved,
    after=_after,
)


def _require_staff(actor) -> None:
    if not writes.is_staff(actor):
        raise PermissionDenied


def open_problem(actor, data: dict) -> Problem:
    """Log a new problem (staff only). ``data`` holds model values (instances for
    relations, lists of instances for ``services``, ``configuration_items``, ``incidents``)."""
    _require_staff(actor)
    return writes.open(SPEC, actor, data)


def update_problem(
    problem: Problem,
    actor,
    data: dict,
    expected_version: int | None = None,
    resolve_incidents: bool = False,
) -> Problem:
    """Change fields and/or the state in one step, checked by the workflow.

    With ``resolve_incidents`` (only when this update resolves the problem) the problem's
    open incidents are resolved with its resolution notes, in the same transaction: if one
    of them cannot be resolved, nothing at all changes and the error names it. The numbers
    of the incidents resolved are left in ``problem.resolved_incidents``."""
    problem = writes.change(
        SPEC, problem, actor, data, expected_version, resolve_incidents=resolve_incidents
    )
    if not hasattr(problem, "resolved_incidents"):
        problem.resolved_incidents = []
    return problem


def _resolve_incidents(problem: Problem, actor) -> list[str]:
    """Resolve the problem's open incidents with its resolution notes (inside the caller's
    transaction); raises, naming each incident that refused, if any cannot be resolved."""
    notes = gettext("Resolved by problem %(number)s: %(notes)s") % {
        "number": problem.number,
        "notes": problem.resolution_notes,
    }
    resolved: list[str] = []
    refused: list[str] = []
    pks = list(
        problem.incidents.filter(state__in=IncidentState.OPEN)
        .order_by("number")
        .values_list("pk", flat=True)
    )
    for pk in pks:
        # Re-read under lock: resolving a parent incident resolves its children too.
        incident = Incident.objects.select_for_update().get(pk=pk)
        if incident.state not in IncidentState.OPEN:
            continue
        try:
            with transaction.atomic():
                incident_services.update_incident(
                    incident,
                    actor,
                    {
                        "state": IncidentState.RESOLVED,
                        "resolution_code": ResolutionCode.SOLVED_PERMANENTLY,
                        "resolution_notes": notes,
                    },
                )
        except ValidationError as error:
            reasons = "; ".join(" ".join(messages) for messages in error.message_dict.values())
            refused.append(f"{incident.number}: {reasons}")
            continue
        core.write_journal(
            incident,
            JournalEntry.Kind.WORK_NOTE,
            actor,
            body=said(
                gettext_noop("Resolved together with problem %(number)s."), number=problem.number
            ),
            internal=True,
        )
        resolved.append(incident.number)
    if refused:
        raise ValidationError({"resolve_incidents": refused})
    if resolved:
        core.write_journal(
            problem,
            JournalEntry.Kind.WORK_NOTE,
            actor,
            body=said(
                # said() keeps one message: the count picks it (English and German
                # both have one form for 1 and one for the rest)
                gettext_noop("Resolved %(count)s linked incident: %(numbers)s")
                if len(resolved) == 1
                else gettext_noop("Resolved %(count)s linked incidents: %(numbers)s"),
                count=len(resolved),
                numbers=", ".join(resolved),
            ),
            internal=True,
        )
    return resolved


# Linking incidents ---------------------------------------------------------------------


def link_incidents(problem: Problem, actor, incidents) -> list[Incident]:
    """Add incidents to the problem (keeping those linked); returns those newly linked."""
    _require_staff(actor)
    if problem.workflow.is_final(problem.state):
        raise ValidationError({"incidents": _closed(problem)})
    current = list(problem.incidents.all())
    added = [i for i in incidents if i.pk not in {c.pk for c in current}]
    if added:
        writes.change(SPEC, problem, actor, {"incidents": current + added})
    return added


def unlink_incident(problem: Problem, actor, incident: Incident) -> None:
    _require_staff(actor)
    current = list(problem.incidents.all())
    if incident.pk not in {c.pk for c in current}:
        raise ValidationError(
            {
                "incident": gettext("%(number)s is not linked to this problem.")
                % {"number": incident.number}
            }
        )
    writes.change(SPEC, problem, actor, {"incidents": [c for c in current if c.pk != incident.pk]})


# Causes ----------------------------------------------------------------------------------


def _clean_cause(cause: Cause) -> None:
    errors = {}
    if cause.dimension not in Dimension.values:
        errors["dimension"] = _one_of(Dimension.values)
    if not (cause.description or "").strip():
        errors["description"] = gettext("Describe the cause.")
    if errors:
        raise ValidationError(errors)


def _cause_said(cause: Cause) -> Said:
    """The cause as ``Cause.__str__`` words it, read in each reader's language."""
    message = (
        gettext_noop("Root cause (%(dimension)s): %(description)s")
        if cause.is_root_cause
        else gettext_noop("Contributing cause (%(dimension)s): %(description)s")
    )
    return said(message, dimension=_dimension(cause), description=cause.description[:60])


def _dimension(cause: Cause):
    """The dimension's label (its lazy translation), or the stored value if unknown."""
    try:
        return Dimension(cause.dimension).label
    except ValueError:
        return cause.dimension


def _incident_state_word(state: str) -> str:
    """An incident's state as a word in a sentence ("resolved"): its label, lower case."""
    try:
        return str(IncidentState(state).label).lower()
    except ValueError:
        return state


def _touch(problem: Problem, actor, body) -> None:
    """A cause changed: the problem's version moves on (an ETag read before is stale)."""
    writes.touch(problem, actor, body=body)


@transaction.atomic
def add_cause(problem: Problem, actor, data: dict) -> Cause:
    _require_staff(actor)
    problem = core.lock(problem)
    if problem.workflow.is_final(problem.state):
        raise ValidationError({"description": _closed(problem)})
    cause = Cause(
        problem=problem,
        dimension=data.get("dimension", ""),
        description=(data.get("description") or "").strip(),
        is_root_cause=bool(data.get("is_root_cause", False)),
        created_by=actor,
    )
    _clean_cause(cause)
    cause.save()
    message = (
        gettext_noop("Added a root cause (%(dimension)s): %(description)s")
        if cause.is_root_cause
        else gettext_noop("Added a contributing cause (%(dimension)s): %(description)s")
    )
    _touch(
        problem,
        actor,
        said(message, dimension=_dimension(cause), description=cause.description),
    )
    return cause


@transaction.atomic
def update_cause(cause: Cause, actor, data: dict) -> Cause:
    _require_staff(actor)
    problem = core.lock(cause.problem)
    if problem.workflow.is_final(problem.state):
        raise ValidationError({"description": _closed(problem)})
    unknown = sorted(set(data) - {"dimension", "description", "is_root_cause"})
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, gettext("This field cannot be changed.")))
    for name, value in data.items():
        setattr(cause, name, value.strip() if isinstance(value, str) else value)
    _clean_cause(cause)
    cause.save(update_fields=["dimension", "description", "is_root_cause"])
    _touch(
        problem, actor, said(gettext_noop("Changed a cause: %(cause)s"), cause=_cause_said(cause))
    )
    return cause


@transaction.atomic
def remove_cause(cause: Cause, actor) -> None:
    _require_staff(actor)
    problem = core.lock(cause.problem)
    if problem.workflow.is_final(problem.state):
        raise ValidationError({"description": _closed(problem)})
    text = _cause_said(cause)
    cause.delete()
    _touch(problem, actor, said(gettext_noop("Removed a cause: %(cause)s"), cause=text))


# Workarounds ------------------------------------------------------------------------------


@transaction.atomic
def use_workaround(problem: Problem, incident: Incident, actor) -> tuple[WorkaroundUse, bool]:
    """Apply the problem's workaround to an open incident: records the use, links the
    incident to the problem if it is not yet, and notes it on both. Using it again on the
    same incident changes nothing (returns the first use, False)."""
    _require_staff(actor)
    problem = core.lock(problem)
    existing = WorkaroundUse.objects.filter(problem=problem, incident=incident).first()
    if existing is not None:
        return existing, False
    if not (problem.workaround or "").strip():
        raise ValidationError(
            {
                "workaround": gettext("%(number)s has no workaround yet.")
                % {"number": problem.number}
            }
        )
    if problem.state == ProblemState.CLOSED:
        raise ValidationError({"problem": _closed(problem)})
    if incident.state not in IncidentState.OPEN:
        raise ValidationError(
            {
                "incident": gettext("%(number)s is %(state)s; use workarounds on open ones.")
                % {"number": incident.number, "state": _incident_state_word(incident.state)}
            }
        )
    use = WorkaroundUse.objects.create(problem=problem, incident=incident, used_by=actor)
    if not problem.incidents.filter(pk=incident.pk).exists():
        problem.incidents.add(incident)
        _journal_incident_links(problem, actor, added=[incident])
        core.write_journal(
            problem,
            JournalEntry.Kind.LINK,
            actor,
            body=said(gettext_noop("linked %(number)s"), number=incident.number),
            internal=True,
        )
    core.write_journal(
        incident,
        JournalEntry.Kind.WORK_NOTE,
        actor,
        body=said(
            gettext_noop("Applied the workaround of %(number)s (%(title)s):\n\n%(workaround)s"),
            number=problem.number,
            title=problem.title,
            workaround=problem.workaround,
        ),
        internal=True,
    )
    core.write_journal(
        problem,
        JournalEntry.Kind.WORK_NOTE,
        actor,
        body=said(gettext_noop("Workaround used on %(number)s."), number=incident.number),
        internal=True,
    )
    return use, True


def may_rate(use: WorkaroundUse, user) -> bool:
    """The agent who used it rates it; managers and administrators may too."""
    if user is None or not user.is_agent:
        return False
    return use.used_by_id == user.pk or user.has_perm("problems.rate_any_workaround")


@transaction.atomic
def rate_workaround(use: WorkaroundUse, actor, effectiveness, note: str = "") -> WorkaroundUse:
    """How well the workaround worked on that incident (1 did not help … 5 fully)."""
    _require_staff(actor)
    if not may_rate(use, actor):
        raise PermissionDenied
    try:
        value = int(effectiveness)
    except (TypeError, ValueError):
        value = None
    if value not in Effectiveness.values:
        raise ValidationError({"effectiveness": _("Rate it from 1 (did not help) to 5 (fully).")})
    use = (
        WorkaroundUse.objects.select_for_update()
        .select_related("problem", "incident")
        .get(pk=use.pk)
    )
    use.effectiveness = value
    use.rating_note = (note or "").strip()
    use.rated_by = actor
    use.rated_at = timezone.now()
    use.save(update_fields=["effectiveness", "rating_note", "rated_by", "rated_at"])
    body = (
        said(
            gettext_noop("Workaround rated %(value)s/5 on %(number)s: %(note)s"),
            value=value,
            number=use.incident.number,
            note=use.rating_note,
        )
        if use.rating_note
        else said(
            gettext_noop("Workaround rated %(value)s/5 on %(number)s."),
            value=value,
            number=use.incident.number,
        )
    )
    core.write_journal(use.problem, JournalEntry.Kind.WORK_NOTE, actor, body=body, internal=True)
    return use


@transaction.atomic
def workaround_solved_it(
    problem: Problem, user, query: str = ""
) -> tuple[KnownErrorDeflection, bool]:
    """Someone on the portal says a known error's published workaround solved their issue
    (an incident not reported). Counted once per person, known error and day: a second
    click, a reload or a replayed form returns the first (False)."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied
    # What the portal shows, locked: one at a time counts.
    readable = Problem.objects.public_known_errors().select_for_update().filter(pk=problem.pk)
    if not readable.values_list("pk", flat=True):
        raise PermissionDenied
    return KnownErrorDeflection.record_once(user, query, problem=problem)


# Comments and files ------------------------------------------------------------------------


@transaction.atomic
def comment(problem: Problem, actor, body: str, internal: bool = False) -> JournalEntry:
    """Problems are staff work: a comment is for the team (internal or not, no caller)."""
    _require_staff(actor)
    entry = core.add_comment(problem, actor, body, internal)
    Problem.objects.filter(pk=problem.pk).update(updated_at=entry.created_at)
    return entry


@transaction.atomic
def attach(problem: Problem, actor, uploaded_file, internal: bool = False):
    _require_staff(actor)
    return core.add_attachment(problem, actor, uploaded_file, internal)


# Problem identification: incident trends ----------------------------------------------------

TREND_DIMENSIONS = {
    "configuration_item": _("CI"),
    "service": _("Service"),
    "category": _("Category"),
}
DEFAULT_THRESHOLD = 3
DEFAULT_DAYS = 7
MAX_DAYS = 365
#: Incidents listed per group on the trends page and in the API.
TREND_LISTED = 20
TREND_GROUPS = 50


@dataclass
class TrendGroup:
    dimension: str
    key: int
    label: str
    count: int
    incidents: list[tuple[str, str]] = field(default_factory=list)

    @property
    def dimension_label(self) -> str:
        return TREND_DIMENSIONS[self.dimension]


def trend_window(threshold=None, days=None) -> tuple[int, int]:
    """Checked parameters (defaults: 3 incidents in 7 days)."""
    errors = {}
    try:
        threshold = DEFAULT_THRESHOLD if threshold in (None, "") else int(threshold)
        if not 1 <= threshold <= 10_000:
            raise ValueError
    except (TypeError, ValueError):
        errors["threshold"] = gettext("A whole number of incidents from 1 to 10000.")
    try:
        days = DEFAULT_DAYS if days in (None, "") else int(days)
        if not 1 <= days <= MAX_DAYS:
            raise ValueError
    except (TypeError, ValueError):
        errors["days"] = gettext("A whole number of days from 1 to %(max)s.") % {"max": MAX_DAYS}
    if errors:
        raise ValidationError(errors)
    return threshold, days


def _trend_base(days: int, now=None, user=None):
    """Incidents of the window that no problem covers yet (cancelled ones do not count);
    of those ``user`` may see, when given (under data separation, another team's or
    customer's incidents are neither listed nor counted)."""
    since = (now or timezone.now()) - timedelta(days=days)
    linked = Problem.incidents.through.objects.filter(incident_id=OuterRef("pk"))
    incidents = Incident.objects.all() if user is None else Incident.objects.visible_to(user)
    return (
        incidents.filter(created_at__gte=since)
        .exclude(state=IncidentState.CANCELLED)
        .filter(~Exists(linked))
    )


def _ci_through():
    return Incident.configuration_items.through


def incident_trends(threshold=None, days=None, now=None, user=None) -> list[TrendGroup]:
    """Groups of at least ``threshold`` recent incidents on the same CI, service or
    category, not yet linked to a problem, biggest first (of the incidents ``user`` may
    see, when given). Two grouped queries per dimension, whatever the number of incidents."""
    threshold, days = trend_window(threshold, days)
    base = _trend_base(days, now, user)
    through = _ci_through()
    groups: list[TrendGroup] = []
    # (dimension, grouped counts, member rows for the keys found)
    ci_rows = (
        through.objects.filter(incident__in=base)
        .values("configurationitem_id", "configurationitem__name")
        .annotate(n=Count("incident_id"))
        .filter(n__gte=threshold)
        .order_by("-n", "configurationitem__name")[:TREND_GROUPS]
    )
    found = {
        "configuration_item": [
            (r["configurationitem_id"], r["configurationitem__name"], r["n"]) for r in ci_rows
        ],
    }
    for dimension, column, name in (
        ("service", "service_id", "service__name"),
        ("category", "category_id", "category__name"),
    ):
        rows = (
            base.filter(**{f"{column}__isnull": False})
            .values(column, name)
            .annotate(n=Count("pk"))
            .filter(n__gte=threshold)
            .order_by("-n", name)[:TREND_GROUPS]
        )
        found[dimension] = [(r[column], r[name], r["n"]) for r in rows]
    members: dict[tuple[str, int], list] = {}
    if found["configuration_item"]:
        keys = [k for k, _, _ in found["configuration_item"]]
        for key, number, title in (
            through.objects.filter(incident__in=base, configurationitem_id__in=keys)
            .order_by("-incident__created_at")
            .values_list("configurationitem_id", "incident__number", "incident__title")
        ):
            members.setdefault(("configuration_item", key), []).append((number, title))
    for dimension, column in (("service", "service_id"), ("category", "category_id")):
        if found[dimension]:
            keys = [k for k, _, _ in found[dimension]]
            for key, number, title in (
                base.filter(**{f"{column}__in": keys})
                .order_by("-created_at")
                .values_list(column, "number", "title")
            ):
                members.setdefault((dimension, key), []).append((number, title))
    for dimension in TREND_DIMENSIONS:
        for key, label, count in found[dimension]:
            listed = members.get((dimension, key), [])[:TREND_LISTED]
            groups.append(TrendGroup(dimension, key, label, count, listed))
    groups.sort(key=lambda g: (-g.count, g.dimension, g.label))
    return groups


def _trend_incidents(dimension: str, key: int, days: int, user=None) -> list[Incident]:
    base = _trend_base(days, user=user)
    if dimension == "configuration_item":
        base = base.filter(configuration_items=key)
    elif dimension == "service":
        base = base.filter(service_id=key)
    elif dimension == "category":
        base = base.filter(category_id=key)
    else:
        raise ValidationError({"dimension": _one_of(TREND_DIMENSIONS)})
    return list(base.order_by("created_at", "pk"))


@transaction.atomic
def raise_from_trend(actor, dimension: str, key, days=None) -> Problem:
    """Log a problem for a trend group: titled after the group, linked to its incidents
    (those of the window not yet linked to a problem) and to its CI, service or category."""
    from catalogue.models import Service
    from cmdb.models import ConfigurationItem
    from incidents.models import Category

    _require_staff(actor)
    _start, days = trend_window(None, days)
    try:
        key = int(key)
    except (TypeError, ValueError):
        raise ValidationError({"key": _("The id of the CI, service or category.")}) from None
    model = {
        "configuration_item": ConfigurationItem,
        "service": Service,
        "category": Category,
    }.get(dimension)
    if model is None:
        raise ValidationError({"dimension": _one_of(TREND_DIMENSIONS)})
    target = model.objects.filter(pk=key).first()
    if target is None:
        raise ValidationError(
            {
                "key": gettext("There is no %(dimension)s %(key)s.")
                % {"dimension": TREND_DIMENSIONS[dimension], "key": key}
            }
        )
    incidents = _trend_incidents(dimension, key, days, actor)
    if not incidents:
        raise ValidationError(
            {"key": gettext("No incidents of this group are left unlinked in the window.")}
        )
    label = str(target)
    lines = "\n".join(f"- {i.number} {i.title}" for i in incidents)
    words = {
        "count": len(incidents),
        "dimension": TREND_DIMENSIONS[dimension],
        "label": label,
        "days": days,
    }
    data = {
        "title": (gettext("Recurring incidents on %(dimension)s %(label)s") % words)[:200],
        "description": ngettext(
            "%(count)s incident on %(dimension)s %(label)s in %(days)s days:",
            "%(count)s incidents on %(dimension)s %(label)s in %(days)s days:",
            len(incidents),
        )
        % words
        + f"\n{lines}",
        "probability": Risk.HIGH,  # it keeps happening
        "incidents": incidents,
    }
    if dimension == "configuration_item":
        data["configuration_items"] = [target]
    elif dimension == "service":
        data["services"] = [target]
    else:
        data["category"] = target
    return open_problem(actor, data)


# Matching known errors for an incident ------------------------------------------------------


def incident_problems(incident: Incident, user, limit: int = 5) -> tuple[list, list[dict]]:
    """What the agent's incident page shows of problem management, in two or three queries
    whatever the data: the problems linked to the incident, and known errors whose
    workaround may help: linked ones first, then those on the same CI, service or category,
    then full-text matches of the incident's title. Each known error is
    {"problem", "linked", "why", "use", "may_rate"} (``use``: its use on this incident)."""
    from django.db.models import Q

    from itsm.core.search import search

    if not user.is_agent:
        return [], []
    through = Problem.incidents.through.objects.filter(incident_id=incident.pk)
    incident_cis = Incident.configuration_items.through.objects.filter(
        incident_id=incident.pk
    ).values("configurationitem_id")
    same = Q(
        pk__in=Problem.configuration_items.through.objects.filter(
            configurationitem_id__in=incident_cis
        ).values("problem_id")
    )
    if incident.service_id:
        same |= Q(
            pk__in=Problem.services.through.objects.filter(service_id=incident.service_id).values(
                "problem_id"
            )
        )
    if incident.category_id:
        same |= Q(category_id=incident.category_id)
    usable = Q(state=ProblemState.KNOWN_ERROR) & ~Q(workaround="")
    rows = list(
        Problem.objects.visible_to(user)
        .filter(Q(pk__in=through.values("problem_id")) | (usable & same))
        .annotate(is_linked=Exists(through.filter(problem_id=OuterRef("pk"))))
        .order_by("-is_linked", "-known_error_at", "-pk")[: limit * 4]
    )
    linked = [p for p in rows if p.is_linked]
    results = [
        {
            "problem": p,
            "linked": p.is_linked,
            "why": gettext("linked") if p.is_linked else gettext("same CI, service or category"),
        }
        for p in rows
        if p.state == ProblemState.KNOWN_ERROR and p.workaround.strip()
    ][:limit]
    seen = {r["problem"].pk for r in results}
    if len(results) < limit and incident.title:
        for hit in search(user, incident.title, kinds=["known_errors"], limit=3):
            if hit.obj.pk not in seen and (hit.obj.workaround or "").strip():
                results.append(
                    {"problem": hit.obj, "linked": False, "why": gettext("similar title")}
                )
                seen.add(hit.obj.pk)
    results = results[:limit]
    uses = {}
    if results:
        uses = {
            u.problem_id: u
            for u in WorkaroundUse.objects.filter(
                incident=incident, problem_id__in=[r["problem"].pk for r in results]
            ).select_related("used_by")
        }
    for row in results:
        row["use"] = uses.get(row["problem"].pk)
        row["may_rate"] = row["use"] is not None and may_rate(row["use"], user)
    return linked, results
