"""The risk engine: ordered risk rules, the model's questionnaire and the probability x
impact matrix; the highest result wins, with every contribution kept as a reason.

Everything the engine knows about a change is a named *fact* (``FACTS``): the notice it
gives, the CMDB blast radius of its CIs (business services and CIs an outage reaches, one
recursive walk from all of them at once), its conflicts, and the change success score of
its team and its model. Risk rules test facts (``{"fact": "lead_time_hours", "op": "lt",
"value": 48}``), the matrix reads them, and the change page lists them, so what decided a
risk is always shown with the values it was decided on.

``calculate(change)`` recomputes and stores the result (a queryset update of the risk
fields only, journalled when the risk changes); ``services`` calls it whenever what it
depends on changes, and ``answer`` when the questionnaire is answered. A manual override
(``Change.risk_override`` with its reason) wins over the computed risk in
``Change.effective_risk``. ``success_score`` is the change success score other code reads
(the practice map, the DevOps gate)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from itsm.core import services as core
from itsm.core import writes
from itsm.core.i18n import Said, said
from itsm.core.models import JournalEntry

from .models import (
    RISK_RANK,
    ChangeKind,
    ClosureCode,
    Conflict,
    ImpactLevel,
    Question,
    RiskAnswer,
    RiskLevel,
    RiskRule,
)
from .workflows import ChangeState

#: How far back the change success score looks.
SCORE_DAYS = 90
#: A business service CI is business-critical when one of these attributes holds one of
#: these values (the CMDB's business service class has ``service_level``: gold, silver,
#: bronze; administrators may add a ``criticality`` attribute).
CRITICAL_ATTRIBUTES = {"service_level": {"gold"}, "criticality": {"critical", "high"}}
#: Business services named in the reasons (the count is always whole).
SERVICES_SHOWN = 20

#: A risk as a word in a sentence ("high"), translated when read.
RISK_WORDS = {"low": _("low"), "moderate": _("moderate"), "high": _("high")}


def risk_word(value):
    """``value`` (a risk level) as a word in a sentence, translated when read."""
    return RISK_WORDS.get(value, value)


#: An impact or a probability as a word ("medium"), translated when read.
LEVEL_WORDS = {"low": _("low"), "medium": _("medium"), "high": _("high")}


def level_word(value):
    return LEVEL_WORDS.get(value, value)


#: A text naming the days the score looks back, translated when read.
_days = lazy(lambda message: gettext(message) % {"days": SCORE_DAYS}, str)


# Facts ---------------------------------------------------------------------------------


@dataclass
class Inputs:
    """What the facts are computed from, read once per calculation in a fixed number of
    queries."""

    change: object
    now: object
    ci_ids: list[int] = field(default_factory=list)
    service_names: list[str] = field(default_factory=list)
    cis_reached: int = 0
    services: list[str] = field(default_factory=list)
    critical: list[str] = field(default_factory=list)
    conflicts: dict[str, int] = field(default_factory=dict)
    team: dict | None = None
    model: dict | None = None


def _lead_time(i: Inputs):
    if not i.change.planned_start:
        return None
    return round((i.change.planned_start - i.now).total_seconds() / 3600, 1)


def _below_lead_time(i: Inputs) -> bool:
    lead = _lead_time(i)
    return lead is not None and lead < i.change.model.lead_time_hours


def _rate(score):
    return None if score is None else score["rate"]


@dataclass(frozen=True)
class Fact:
    """One named fact of a change that rules test: ``type`` is ``number`` (may be
    unknown: no value), ``bool`` or ``choice`` (one of ``choices``)."""

    name: str
    label: str
    type: str
    compute: Callable[[Inputs], object] = field(compare=False, repr=False)
    choices: tuple[str, ...] = ()
    help: str = ""


FACTS: dict[str, Fact] = {
    f.name: f
    for f in (
        Fact(
            "lead_time_hours",
            _("Lead time (hours)"),
            "number",
            _lead_time,
            help=_("Hours from now to the planned start (unknown without a planned window)."),
        ),
        Fact(
            "below_model_lead_time",
            _("Less notice than the model asks"),
            "bool",
            _below_lead_time,
            help=_("The planned start is nearer than the change model's lead time."),
        ),
        Fact(
            "business_critical_service",
            _("A business-critical service affected"),
            "bool",
            lambda i: bool(i.critical),
            help=_(
                "A business service affected or reached in the CMDB is business-critical "
                "(service level gold, or criticality critical or high)."
            ),
        ),
        Fact(
            "services_affected",
            _("Services named on the change"),
            "number",
            lambda i: len(i.service_names),
        ),
        Fact(
            "services_reached",
            _("Business services reached"),
            "number",
            lambda i: len(i.services),
            help=_(
                "Business services the change's CIs are or whose outage reaches (through "
                "the CMDB's relationships), with the services named on the change."
            ),
        ),
        Fact(
            "cis_reached",
            _("CIs reached"),
            "number",
            lambda i: i.cis_reached,
            help=_("CIs an outage of the change's CIs reaches (the CIs themselves excluded)."),
        ),
        Fact("ci_count", _("CIs changed"), "number", lambda i: len(i.ci_ids)),
        Fact(
            "outside_maintenance_window",
            _("Outside a maintenance window"),
            "bool",
            lambda i: i.conflicts.get(Conflict.Kind.OUTSIDE_MAINTENANCE, 0) > 0,
        ),
        Fact(
            "in_blackout",
            _("Inside a blackout"),
            "bool",
            lambda i: i.conflicts.get(Conflict.Kind.BLACKOUT, 0) > 0,
        ),
        Fact(
            "conflict_count",
            _("Conflicts"),
            "number",
            lambda i: sum(i.conflicts.values()),
        ),
        Fact(
            "outage_expected",
            _("Outage expected"),
            "bool",
            lambda i: bool(i.change.outage_expected),
        ),
        Fact(
            "model_kind",
            _("Kind of change model"),
            "choice",
            lambda i: i.change.model.kind,
            choices=tuple(ChangeKind.values),
        ),
        Fact(
            "team_success_rate",
            _("Team's change success rate (%)"),
            "number",
            lambda i: _rate(i.team),
            help=_days(
                gettext_noop(
                    "Closed changes of the assignment group in the last %(days)s days that "
                    "neither failed nor were backed out (unknown without any)."
                )
            ),
        ),
        Fact(
            "model_success_rate",
            _("Model's change success rate (%)"),
            "number",
            lambda i: _rate(i.model),
            help=_days(
                gettext_noop("The same for changes of this change model, last %(days)s days.")
            ),
        ),
        Fact(
            "failed_changes_90d",
            _("Team's failed or backed-out changes (90 days)"),
            "number",
            lambda i: (i.team["failed"] + i.team["backed_out"]) if i.team else 0,
        ),
        Fact(
            "incidents_caused_90d",
            _("Incidents caused by the team's changes (90 days)"),
            "number",
            lambda i: i.team["incidents_caused"] if i.team else 0,
        ),
        Fact(
            "has_backout_plan",
            _("Has a backout plan"),
            "bool",
            lambda i: bool((i.change.backout_plan or "").strip()),
        ),
    )
}

#: The operators a condition may use, and the fact types each applies to.
OPERATORS = {
    "eq": (_("equals"), ("number", "bool", "choice")),
    "ne": (_("does not equal"), ("number", "bool", "choice")),
    "lt": (_("is less than"), ("number",)),
    "lte": (_("is at most"), ("number",)),
    "gt": (_("is more than"), ("number",)),
    "gte": (_("is at least"), ("number",)),
    "in": (_("is one of"), ("number", "choice")),
    "true": (_("is true"), ("bool",)),
    "false": (_("is false"), ("bool",)),
}
VALUELESS = {"true", "false"}


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value_problem(fact: Fact, value) -> str | None:
    if fact.type == "number" and not _is_number(value):
        return gettext("the value must be a number")
    if fact.type == "bool" and not isinstance(value, bool):
        return gettext("the value must be true or false")
    if fact.type == "choice" and value not in fact.choices:
        return gettext("the value must be one of %(choices)s") % {
            "choices": ", ".join(fact.choices)
        }
    return None


def describe(condition) -> str:
    """``lead_time_hours lt 48``: a condition as the errors and the page name it."""
    if not isinstance(condition, dict):
        return repr(condition)
    parts = [str(condition.get("fact", "?")), str(condition.get("op", "?"))]
    if "value" in condition:
        parts.append(repr(condition["value"]))
    return " ".join(parts)


def condition_problems(conditions) -> list[str]:
    """What is wrong with a rule's conditions, each naming its condition (empty: fine)."""
    if not isinstance(conditions, list):
        return [
            gettext('A list of conditions: [{"fact": "lead_time_hours", "op": "lt", "value": 48}].')
        ]
    problems = []
    for position, condition in enumerate(conditions, start=1):
        where = {
            "where": gettext("Condition %(position)s (%(condition)s)")
            % {"position": position, "condition": describe(condition)}
        }
        if not isinstance(condition, dict):
            problems.append(gettext('%(where)s: an object {"fact", "op", "value"}.') % where)
            continue
        unknown_keys = set(condition) - {"fact", "op", "value"}
        if unknown_keys:
            problems.append(
                gettext("%(where)s: unknown keys %(keys)s.")
                % {**where, "keys": ", ".join(sorted(unknown_keys))}
            )
            continue
        fact = FACTS.get(condition.get("fact"))
        if fact is None:
            problems.append(
                gettext("%(where)s: %(fact)s is not a fact; facts are %(facts)s.")
                % {**where, "fact": repr(condition.get("fact")), "facts": ", ".join(FACTS)}
            )
            continue
        op = condition.get("op")
        if op not in OPERATORS:
            problems.append(
                gettext("%(where)s: %(op)s is not an operator; operators are %(operators)s.")
                % {**where, "op": repr(op), "operators": ", ".join(OPERATORS)}
            )
            continue
        if fact.type not in OPERATORS[op][1]:
            allowed = [name for name, (_label, types) in OPERATORS.items() if fact.type in types]
            problems.append(
                gettext("%(where)s: %(fact)s takes %(operators)s.")
                % {**where, "fact": fact.name, "operators": ", ".join(allowed)}
            )
            continue
        if op in VALUELESS:
            if "value" in condition:
                problems.append(gettext("%(where)s: %(op)s takes no value.") % {**where, "op": op})
            continue
        if "value" not in condition:
            problems.append(gettext("%(where)s: give a value.") % where)
            continue
        value = condition["value"]
        if op == "in":
            if not isinstance(value, list) or not value:
                problems.append(gettext("%(where)s: the value must be a non-empty list.") % where)
                continue
            found = next(filter(None, (_value_problem(fact, v) for v in value)), None)
        else:
            found = _value_problem(fact, value)
        if found:
            problems.append(gettext("%(where)s: %(problem)s.") % {**where, "problem": found})
    return problems


def holds(condition: dict, facts: dict) -> bool:
    """Whether a (valid) condition holds for these fact values. A condition on an unknown
    value (no planned window, no history) does not hold, whatever its operator."""
    value = facts.get(condition["fact"])
    op = condition["op"]
    if value is None:
        return False
    if op == "true":
        return value is True
    if op == "false":
        return value is False
    target = condition.get("value")
    if op == "eq":
        return value == target
    if op == "ne":
        return value != target
    if op == "in":
        return value in target
    if op == "lt":
        return value < target
    if op == "lte":
        return value <= target
    if op == "gt":
        return value > target
    if op == "gte":
        return value >= target
    return False


# The change success score --------------------------------------------------------------


def success_score(team=None, model=None, days: int = SCORE_DAYS) -> dict:
    """The change success score of a team and/or a change model (both given: changes of
    that team and that model) over the last ``days``: ``closed`` changes, those ``failed``
    and ``backed_out`` among them, ``incidents_caused`` (incidents raised in the period
    and linked as caused by one of these changes), and ``rate``: the percentage of closed
    changes that neither failed nor were backed out (None without any). One query."""
    from .models import Change

    since = timezone.now() - timedelta(days=days)
    changes = Change.objects.all()
    if team is not None:
        changes = changes.filter(assignment_group=team)
    if model is not None:
        changes = changes.filter(model=model)
    closed = Q(state=ChangeState.CLOSED, closed_at__gte=since)
    counts = changes.aggregate(
        closed=Count("pk", filter=closed, distinct=True),
        failed=Count("pk", filter=closed & Q(closure_code=ClosureCode.FAILED), distinct=True),
        backed_out=Count(
            "pk", filter=closed & Q(closure_code=ClosureCode.BACKED_OUT), distinct=True
        ),
        incidents_caused=Count(
            "caused_incidents",
            filter=Q(caused_incidents__created_at__gte=since),
            distinct=True,
        ),
    )
    unsuccessful = counts["failed"] + counts["backed_out"]
    counts["rate"] = (
        round(100 * (counts["closed"] - unsuccessful) / counts["closed"], 1)
        if counts["closed"]
        else None
    )
    counts["days"] = days
    return counts


# Inputs: the blast radius, the conflicts, the scores -------------------------------------


def _critical(attributes: dict) -> bool:
    return any(
        str(attributes.get(key, "")).lower() in values
        for key, values in CRITICAL_ATTRIBUTES.items()
    )


def _blast_radius(inputs: Inputs) -> None:
    """The business services and CIs an outage of the change's CIs reaches: one recursive
    walk from all of them, and one read of the business services concerned (those
    reached, the changed CIs that are services, and the CMDB's services of the names the
    change's catalogue services carry)."""
    from cmdb.impact import IMPACT, walk_from
    from cmdb.models import ConfigurationItem

    service_ids: set[int] = set()
    reached = walk_from(inputs.ci_ids, IMPACT, services=service_ids) if inputs.ci_ids else []
    inputs.cis_reached = len(reached)
    order = {r.ci_id: n for n, r in enumerate(reached)}
    ids = [*inputs.ci_ids, *service_ids]
    if connection.vendor == "postgresql":
        # One array parameter: a thousand services reached are not a thousand
        # placeholders for Django to compile and PostgreSQL to parse.
        wanted = Q(pk__in=RawSQL("SELECT unnest(%s::bigint[])", (ids,)))
    else:
        wanted = Q(pk__in=ids)
    if inputs.service_names:
        wanted |= Q(name__in=inputs.service_names)
    rows = (
        ConfigurationItem.objects.filter(wanted, ci_class__is_service=True)
        .values_list("pk", "name", "attributes")
        .order_by()
    )
    rows = sorted(rows, key=lambda row: (order.get(row[0], -1), row[1]))
    names: dict[str, bool] = {}
    for _pk, name, attributes in rows:
        names[name] = names.get(name, False) or _critical(attributes or {})
    for name in inputs.service_names:
        names.setdefault(name, False)
    inputs.services = list(names)
    inputs.critical = [name for name, critical in names.items() if critical]


def gather(change, now=None) -> Inputs:
    """Read what the facts need: about ten queries whatever the CMDB's size."""
    inputs = Inputs(change=change, now=now or timezone.now())
    inputs.ci_ids = list(change.configuration_items.values_list("pk", flat=True).order_by("pk"))
    inputs.service_names = list(change.services.values_list("name", flat=True).order_by("name"))
    _blast_radius(inputs)
    inputs.conflicts = dict(
        Conflict.objects.filter(change=change)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    if change.assignment_group_id:
        inputs.team = success_score(team=change.assignment_group_id)
    inputs.model = success_score(model=change.model_id)
    return inputs


def facts_of(inputs: Inputs) -> dict:
    return {name: fact.compute(inputs) for name, fact in FACTS.items()}


# The three sources ----------------------------------------------------------------------


def _rule_result(change, facts: dict) -> tuple[str | None, list[dict]]:
    """The first active rule (of every model, or of the change's) whose conditions all
    hold; one query."""
    rules = (
        RiskRule.objects.filter(active=True)
        .filter(Q(change_models=None) | Q(change_models=change.model_id))
        .distinct()
        .order_by("order", "pk")
    )
    for rule in rules:
        conditions = rule.conditions if isinstance(rule.conditions, list) else []
        if condition_problems(conditions):
            continue  # written around the checks: never applies, never breaks the rest
        if all(holds(c, facts) for c in conditions):
            value = [{**c, "actual": facts.get(c["fact"])} for c in conditions]
            return rule.risk, [
                {
                    "source": "rule",
                    "name": rule.name,
                    "value": value,
                    "result": rule.risk,
                    "rule": rule.pk,
                    "order": rule.order,
                }
            ]
    return None, []


def _questionnaire_result(change) -> tuple[str | None, int, list[dict]]:
    """The weighted answers of the change's model's questionnaire; one query."""
    questionnaire_id = change.model.questionnaire_id
    if not questionnaire_id:
        return None, 0, []
    answers = list(
        RiskAnswer.objects.filter(change=change, question__questionnaire_id=questionnaire_id)
        .select_related("question__questionnaire")
        .order_by("question__order", "question__pk")
    )
    if not answers:
        return None, 0, []
    reasons, score = [], 0
    for answer in answers:
        weight = answer.question.weight_of(answer.value)
        weight = answer.weight if weight is None else weight
        score += weight
        reasons.append(
            {
                "source": "questionnaire",
                "name": answer.question.text,
                "value": _label(answer.question, answer.value),
                "result": weight,
                "question": answer.question_id,
            }
        )
    questionnaire = answers[0].question.questionnaire
    result = questionnaire.risk_for(score)
    reasons.append(
        {
            "source": "questionnaire",
            "name": questionnaire.name,
            "value": score,
            "result": result,
            "summary": True,
            "moderate_from": questionnaire.moderate_from,
            "high_from": questionnaire.high_from,
        }
    )
    return result, score, reasons


def _label(question: Question, value: str) -> str:
    for choice in question.choices:
        if choice.get("value") == value:
            return str(choice.get("label") or value)
    return value


#: probability x impact → risk
MATRIX = {
    (ImpactLevel.LOW, ImpactLevel.LOW): RiskLevel.LOW,
    (ImpactLevel.LOW, ImpactLevel.MEDIUM): RiskLevel.LOW,
    (ImpactLevel.LOW, ImpactLevel.HIGH): RiskLevel.MODERATE,
    (ImpactLevel.MEDIUM, ImpactLevel.LOW): RiskLevel.LOW,
    (ImpactLevel.MEDIUM, ImpactLevel.MEDIUM): RiskLevel.MODERATE,
    (ImpactLevel.MEDIUM, ImpactLevel.HIGH): RiskLevel.HIGH,
    (ImpactLevel.HIGH, ImpactLevel.LOW): RiskLevel.MODERATE,
    (ImpactLevel.HIGH, ImpactLevel.MEDIUM): RiskLevel.HIGH,
    (ImpactLevel.HIGH, ImpactLevel.HIGH): RiskLevel.HIGH,
}
LEVELS = (ImpactLevel.LOW, ImpactLevel.MEDIUM, ImpactLevel.HIGH)
#: Blast radius thresholds: CIs reached (with the changed ones) for a medium and a high
#: impact, business services reached for a high one.
CIS_MEDIUM, CIS_HIGH, SERVICES_HIGH = 10, 50, 3
#: Probability points: from this many, medium; from this many, high.
PROBABLE_MEDIUM, PROBABLE_HIGH = 2, 4


def impact_of(facts: dict) -> tuple[str, list[Said]]:
    """How much an outage would hurt, and why: the blast radius and the outage (each
    reason a sentence read in the reader's language)."""
    services, cis = facts["services_reached"], facts["cis_reached"] + facts["ci_count"]
    why_high, why_medium = [], []
    if facts["business_critical_service"]:
        why_high.append(said(gettext_noop("a business-critical service is affected")))
    if services >= SERVICES_HIGH:
        why_high.append(said(gettext_noop("%(count)s business services reached"), count=services))
    if cis >= CIS_HIGH:
        why_high.append(said(gettext_noop("%(count)s CIs in the blast radius"), count=cis))
    if facts["outage_expected"] and services:
        why_high.append(said(gettext_noop("an outage of a business service is expected")))
    if why_high:
        return ImpactLevel.HIGH, why_high
    if services:
        why_medium.append(
            said(
                gettext_noop("%(count)s business services reached")
                if services > 1
                else gettext_noop("%(count)s business service reached"),
                count=services,
            )
        )
    if facts["outage_expected"]:
        why_medium.append(said(gettext_noop("an outage is expected")))
    if cis >= CIS_MEDIUM:
        why_medium.append(said(gettext_noop("%(count)s CIs in the blast radius"), count=cis))
    if why_medium:
        return ImpactLevel.MEDIUM, why_medium
    return ImpactLevel.LOW, [
        said(
            gettext_noop("no business service reached; %(count)s CI(s) in the blast radius"),
            count=cis,
        )
    ]


def probability_of(facts: dict) -> tuple[str, int, list[Said]]:
    """How likely the change is to go wrong, and why: the success scores of its team and
    model, incidents its team's changes caused, its conflicts, its notice, its kind (each
    reason a sentence read in the reader's language)."""
    points, why = 0, []

    def add(n: int, message: str, **values):
        nonlocal points
        points += n
        why.append(said("+%(points)s %(reason)s", points=n, reason=said(message, **values)))

    for name, rated in (
        ("team_success_rate", gettext_noop("the team's change success rate is %(rate)s%%")),
        ("model_success_rate", gettext_noop("the model's change success rate is %(rate)s%%")),
    ):
        rate = facts[name]
        if rate is not None and rate < 75:
            add(2, rated, rate=rate)
        elif rate is not None and rate < 90:
            add(1, rated, rate=rate)
    caused = facts["incidents_caused_90d"]
    if caused:
        add(
            2 if caused >= 3 else 1,
            gettext_noop("the team's changes caused %(count)s incident(s)"),
            count=caused,
        )
    if facts["in_blackout"]:
        add(2, gettext_noop("inside a blackout"))
    if facts["outside_maintenance_window"]:
        add(1, gettext_noop("outside the maintenance window"))
    others = (
        facts["conflict_count"]
        - int(facts["in_blackout"])
        - int(facts["outside_maintenance_window"])
    )
    if others > 0:
        add(1, gettext_noop("%(count)s conflict(s)"), count=facts["conflict_count"])
    if facts["below_model_lead_time"]:
        add(1, gettext_noop("only %(hours)s hours' notice"), hours=facts["lead_time_hours"])
    if facts["model_kind"] == ChangeKind.EMERGENCY:
        add(1, gettext_noop("an emergency change"))
    if points >= PROBABLE_HIGH:
        level = ImpactLevel.HIGH
    elif points >= PROBABLE_MEDIUM:
        level = ImpactLevel.MEDIUM
    else:
        level = ImpactLevel.LOW
    return level, points, why or [said(gettext_noop("a clean record, no conflict, enough notice"))]


def _english(reasons: list[Said]) -> list[str]:
    return [reason.in_english() for reason in reasons]


def _worded(entry: dict) -> list[str]:
    """A matrix entry's reasons in the reader's language (entries stored before the
    sentences were kept: as stored)."""
    stored = entry.get("said")
    if isinstance(stored, list):
        sentences = [Said.from_data(item) for item in stored]
        if all(sentences):
            return [sentence.render() for sentence in sentences]
    return entry.get("value", [])


# Calculating ------------------------------------------------------------------------------


@dataclass
class Result:
    risk: str
    impact: str
    probability: str
    score: int
    reasons: list[dict]


def evaluate(change, now=None) -> Result:
    """The risk of a change as it stands, with its reasons (nothing stored)."""
    inputs = gather(change, now)
    facts = facts_of(inputs)
    reasons: list[dict] = []
    for name in FACTS:
        entry = {"source": "fact", "name": name, "value": facts[name], "result": None}
        if name == "services_reached":
            entry["detail"] = inputs.services[:SERVICES_SHOWN]
        elif name == "business_critical_service":
            entry["detail"] = inputs.critical[:SERVICES_SHOWN]
        elif name == "team_success_rate" and inputs.team:
            entry["detail"] = inputs.team
        elif name == "model_success_rate" and inputs.model:
            entry["detail"] = inputs.model
        reasons.append(entry)

    rule_risk, rule_reasons = _rule_result(change, facts)
    answer_risk, score, answer_reasons = _questionnaire_result(change)
    impact, impact_why = impact_of(facts)
    probability, points, probability_why = probability_of(facts)
    matrix_risk = MATRIX[(probability, impact)]
    matrix_reasons = [
        {
            "source": "matrix",
            "name": "impact",
            "value": _english(impact_why),
            "said": [reason.as_data() for reason in impact_why],
            "result": impact,
        },
        {
            "source": "matrix",
            "name": "probability",
            "value": _english(probability_why),
            "said": [reason.as_data() for reason in probability_why],
            "result": probability,
            "points": points,
        },
        {
            "source": "matrix",
            "name": "matrix",
            "value": f"{probability} probability, {impact} impact",
            "result": matrix_risk,
            "summary": True,
        },
    ]
    results = [r for r in (rule_risk, answer_risk, matrix_risk) if r]
    risk = max(results, key=lambda r: RISK_RANK[r])
    for entry in [*rule_reasons, *answer_reasons, *matrix_reasons]:
        if entry["source"] == "rule" or entry.get("summary"):
            entry["decisive"] = entry["result"] == risk
    reasons += rule_reasons + answer_reasons + matrix_reasons
    return Result(str(risk), str(impact), str(probability), score, reasons)


def calculate(change, actor=None, now=None) -> None:
    """Recompute ``risk``, ``impact``, ``probability``, ``risk_score`` and ``risk_reasons``
    on the (saved) change and save those fields (no version bump: they are derived); a
    change of risk is journalled."""
    from .models import Change

    result = evaluate(change, now)
    before, first = change.risk, change.risk_calculated_at is None
    values = {
        "risk": result.risk,
        "impact": result.impact,
        "probability": result.probability,
        "risk_score": result.score,
        "risk_reasons": result.reasons,
        "risk_calculated_at": timezone.now(),
    }
    Change.objects.filter(pk=change.pk).update(**values)
    for name, value in values.items():
        setattr(change, name, value)
    if first or before != result.risk:
        body = (
            said(gettext_noop("Risk calculated: %(risk)s."), risk=risk_word(result.risk))
            if first
            else said(
                gettext_noop("Risk recalculated: %(before)s → %(risk)s."),
                before=risk_word(before),
                risk=risk_word(result.risk),
            )
        )
        core.write_journal(
            change,
            JournalEntry.Kind.FIELDS,
            actor,
            body=body,
            data={"risk": [None if first else before, result.risk]},
            internal=True,
        )


# The questionnaire -------------------------------------------------------------------------


def questions_of(change) -> list[Question]:
    """The questions of the change's model's questionnaire (one query; none without one)."""
    if not change.model.questionnaire_id:
        return []
    return list(
        Question.objects.filter(questionnaire_id=change.model.questionnaire_id).order_by(
            "order", "pk"
        )
    )


@transaction.atomic
def answer(change, actor, answers: list[dict]) -> None:
    """Answer the change's questionnaire: ``answers`` is ``[{"question": id, "value": v}]``,
    each a choice of a question of the change's own model's questionnaire. They replace
    the earlier answers (a question left out is unanswered); journalled; the risk is
    recomputed. Bad answers are refused, each naming its question, and nothing is saved."""
    if actor is not None and not writes.is_staff(actor):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    change = core.lock(change)
    if not change.is_open:
        raise ValidationError(
            {
                "answers": gettext("%(number)s is %(state)s; its risk stays.")
                % {"number": change.number, "state": change.state}
            }
        )
    model = change.model
    questions = {q.pk: q for q in questions_of(change)}
    if not questions:
        raise ValidationError(
            {"answers": gettext("%(model)s has no risk questionnaire.") % {"model": change.model}}
        )
    if not isinstance(answers, list):
        raise ValidationError({"answers": _('A list: [{"question": 1, "value": "yes"}].')})
    errors: list[str] = []
    chosen: dict[int, tuple[Question, str, int]] = {}
    for position, item in enumerate(answers, start=1):
        if not isinstance(item, dict):
            errors.append(
                gettext('Answer %(position)s: an object {"question": 1, "value": "yes"}.')
                % {"position": position}
            )
            continue
        try:
            question = questions.get(int(item.get("question")))
        except (TypeError, ValueError):
            question = None
        if question is None:
            errors.append(
                gettext("Question %(question)s is not a question of %(model)s's questionnaire.")
                % {"question": repr(item.get("question")), "model": change.model}
            )
            continue
        value = item.get("value")
        weight = question.weight_of(value) if isinstance(value, str) else None
        if weight is None:
            offered = ", ".join(str(c.get("value")) for c in question.choices)
            errors.append(
                gettext(
                    "Question %(question)s (“%(text)s”): %(value)s is not one of its "
                    "answers (%(offered)s)."
                )
                % {
                    "question": question.pk,
                    "text": question.text,
                    "value": repr(value),
                    "offered": offered,
                }
            )
            continue
        if question.pk in chosen:
            errors.append(
                gettext("Question %(question)s (“%(text)s”) is answered twice.")
                % {"question": question.pk, "text": question.text}
            )
            continue
        chosen[question.pk] = (question, value, weight)
    if errors:
        raise ValidationError({"answers": errors})
    RiskAnswer.objects.filter(change=change).delete()
    now = timezone.now()
    RiskAnswer.objects.bulk_create(
        RiskAnswer(
            change=change,
            question=question,
            value=value,
            weight=weight,
            answered_by=actor,
            answered_at=now,
        )
        for question, value, weight in chosen.values()
    )
    ordered = sorted(chosen.values(), key=lambda c: (c[0].order, c[0].pk))
    lines = "; ".join(f"{q.text} {_label(q, v)} ({w:+d})" for q, v, w in ordered) or said(
        gettext_noop("none")
    )
    score = sum(w for _, _, w in chosen.values())
    change = writes.touch(
        change,
        actor,
        body=said(
            gettext_noop(
                "Risk questionnaire answered (%(answered)s of %(questions)s, score %(score)s): "
                "%(answers)s"
            ),
            answered=len(chosen),
            questions=len(questions),
            score=score,
            answers=lines,
        ),
        data={"answers": {str(q.pk): v for q, v, _ in chosen.values()}},
    )
    change.model = model  # the same row, read once
    calculate(change, actor)
    return change


# What the page and the API show -------------------------------------------------------------


def explain(change) -> dict:
    """The stored explanation of a change's risk, read for people: the facts with their
    labels, the rule that matched, the answers, the matrix cell, the blast radius and the
    success scores. Two queries (the questions, the answers) beyond the change."""
    reasons = change.risk_reasons or []
    facts = []
    by_name = {}
    for entry in reasons:
        if entry.get("source") != "fact":
            continue
        fact = FACTS.get(entry["name"])
        item = {
            "name": entry["name"],
            "label": fact.label if fact else entry["name"],
            "type": fact.type if fact else "",
            "value": entry.get("value"),
            "detail": entry.get("detail"),
        }
        facts.append(item)
        by_name[entry["name"]] = item
    rule = next((e for e in reasons if e.get("source") == "rule"), None)
    answers = [e for e in reasons if e.get("source") == "questionnaire" and not e.get("summary")]
    questionnaire = next(
        (e for e in reasons if e.get("source") == "questionnaire" and e.get("summary")), None
    )
    matrix = {e["name"]: e for e in reasons if e.get("source") == "matrix"}

    def fact_value(name, default=None):
        return by_name[name]["value"] if name in by_name else default

    def score(name):
        detail = by_name.get(name, {}).get("detail")
        return detail if isinstance(detail, dict) else None

    asked = questions_of(change)
    given = dict(change.risk_answers.values_list("question_id", "value")) if asked else {}
    questions = [
        {
            "id": q.pk,
            "text": q.text,
            "help_text": q.help_text,
            "choices": q.choices,
            "answer": given.get(q.pk),
        }
        for q in asked
    ]
    probability = matrix.get("probability", {}).get("result", change.probability)
    impact = matrix.get("impact", {}).get("result", change.impact)
    return {
        "risk": change.risk,
        "effective_risk": change.effective_risk,
        "override": change.risk_override or None,
        "override_reason": change.risk_override_reason,
        "impact": change.impact,
        "probability": change.probability,
        "risk_score": change.risk_score,
        "calculated_at": change.risk_calculated_at,
        "rule": rule,
        "answers": answers,
        "questionnaire": questionnaire,
        "questions": questions,
        "matrix": {
            "probability": probability,
            "impact": impact,
            "result": matrix.get("matrix", {}).get("result"),
            "decisive": matrix.get("matrix", {}).get("decisive", False),
            "probability_reasons": _worded(matrix.get("probability", {})),
            "probability_points": matrix.get("probability", {}).get("points"),
            "impact_reasons": _worded(matrix.get("impact", {})),
        },
        "blast_radius": {
            "services": by_name.get("services_reached", {}).get("detail") or [],
            "services_reached": fact_value("services_reached", 0),
            "critical_services": by_name.get("business_critical_service", {}).get("detail") or [],
            "cis_reached": fact_value("cis_reached", 0),
            "ci_count": fact_value("ci_count", 0),
        },
        "success": {"team": score("team_success_rate"), "model": score("model_success_rate")},
        "facts": facts,
    }


def worded(explained: dict) -> dict:
    """``explain``'s answer for a page: the risks, impacts and probabilities it names as
    words in the reader's language (the API keeps the values)."""
    matrix = explained["matrix"]
    shown = {
        **explained,
        "matrix": {
            **matrix,
            "probability": level_word(matrix["probability"]),
            "impact": level_word(matrix["impact"]),
            "result": risk_word(matrix["result"]) if matrix["result"] else None,
        },
    }
    for key in ("rule", "questionnaire"):
        if explained[key]:
            shown[key] = {**explained[key], "result": risk_word(explained[key]["result"])}
    return shown


def panel(change) -> dict:
    """What the change page's risk block shows (``templates/changes/_risk.html``)."""
    explained = explain(change)
    grid = [
        {
            "probability": level_word(p),
            "cells": [
                {
                    "impact": level_word(i),
                    "risk": risk_word(MATRIX[(p, i)]),
                    "current": (p, i)
                    == (explained["matrix"]["probability"], explained["matrix"]["impact"]),
                }
                for i in LEVELS
            ],
        }
        for p in reversed(LEVELS)
    ]
    return {
        **worded(explained),
        "reasons": change.risk_reasons,
        "grid": grid,
        "levels": [level_word(level) for level in LEVELS],
        "risk_levels": RiskLevel.choices,
        "answered": sum(1 for q in explained["questions"] if q["answer"] is not None),
    }
