"""Demo data of change enablement, loaded by ``manage.py load_demo`` after the CMDB,
incidents and problems.

A model of each kind with its approval policy, a risk questionnaire and ordered risk
rules, standard change templates (two active, one proposed), a weekly network maintenance
window and a year-end freeze, changes in every state (made through the services as people
would: assessed, authorised level by level, implemented, reviewed), two of them conflicting
on the core switches, one planned inside the freeze, and a CAB meeting with its agenda.
Skipped when the demo's change models already exist."""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from catalogue.models import Service
from cmdb.models import ConfigurationItem

from . import approvals, cab, risk, services
from .models import (
    ApprovalLevel,
    ApprovalPolicy,
    Change,
    ChangeKind,
    ChangeModel,
    ChangeTemplate,
    Question,
    Questionnaire,
    RiskRule,
    ScheduleWindow,
    TemplateTask,
)
from .workflows import ChangeState as S

BERLIN = ZoneInfo("Europe/Berlin")
NORMAL_PLANS = ["implementation_plan", "backout_plan", "test_plan"]

RISK_RULES = [
    ("Inside a blackout window", [{"fact": "in_blackout", "op": "true"}], "high"),
    ("Less than a day's notice", [{"fact": "lead_time_hours", "op": "lt", "value": 24}], "high"),
    (
        "A business-critical service is reached",
        [{"fact": "business_critical_service", "op": "true"}],
        "moderate",
    ),
    (
        "Outside the CIs' maintenance window",
        [{"fact": "outside_maintenance_window", "op": "true"}],
        "moderate",
    ),
    (
        "This team's changes often fail",
        [{"fact": "team_success_rate", "op": "lt", "value": 80}],
        "moderate",
    ),
]

QUESTIONS = [
    ("Has this change been tested in a non-production environment?",
     [("yes", "Yes, fully", 0), ("partly", "Partly", 4), ("no", "No", 8)]),
    ("Can the change be backed out within the planned window?",
     [("yes", "Yes", 0), ("slow", "Only with a long outage", 6), ("no", "No", 10)]),
    ("How many users notice the change while it is implemented?",
     [("none", "None", 0), ("some", "Some (one site or team)", 3), ("all", "Everyone", 7)]),
    ("Has this kind of change been done here before?",
     [("often", "Often", 0), ("once", "Once or twice", 2), ("never", "Never", 5)]),
]  # fmt: skip


@dataclass
class ChangeSpec:
    title: str
    state: str
    model: str
    team: str
    to: str
    description: str = ""
    cis: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    #: days from today and the local hour (Berlin) the planned window starts, its hours
    start: tuple[int, int] | None = None
    hours: int = 2
    template: str = ""
    #: the approval levels decided (None: all)
    approve_levels: int | None = None
    closure: str = ""
    notes: str = ""
    outage: bool = False
    answers: dict = field(default_factory=dict)
    tasks: tuple[tuple[int, str, str], ...] = ()
    caused: tuple[str, ...] = ()


PLANS = {
    "implementation_plan": "1. Announce the start in #it-ops.\n2. Apply the change as "
    "rehearsed in test.\n3. Verify the service from a user's seat.",
    "backout_plan": "Restore the configuration backup taken at the start; verify.",
    "test_plan": "Run the smoke tests of the services reached; check the monitoring.",
}

CHANGES = [
    ChangeSpec("Upgrade the VPN gateway firmware to 7.4.3", S.NEW, "Normal change", "Network",
               "nils", "Fixes the idle-timeout regression behind the VPN known error.",
               cis=("vpn-gw-01",), services=("VPN",), start=(6, 2)),
    ChangeSpec("Add a second ERP application server", S.ASSESS, "Normal change", "Applications",
               "paul", "Doubles the order screen's capacity before the year-end close.",
               cis=("erp-app-01", "esx-ber-02"), services=("ERP",), start=(12, 20), hours=4),
    ChangeSpec("Move the Exchange mailboxes to mail-02", S.AUTHORISE, "Normal change",
               "Applications", "priya", "Frees mail-01 for its OS upgrade.",
               cis=("mail-01", "mail-02"), services=("E-mail",), start=(9, 21), hours=5,
               approve_levels=1, outage=True,
               answers={0: "yes", 1: "slow", 2: "all", 3: "once"}),
    ChangeSpec("Replace the supervisor module of sw-core-ber-1", S.AUTHORISE, "Normal change",
               "Network", "nora", "The module logs ECC errors; the vendor sent a spare.",
               cis=("sw-core-ber-1",), start=(6, 3), hours=2, approve_levels=0,
               answers={0: "partly", 1: "yes", 2: "some", 3: "once"}),
    ChangeSpec("Reboot sw-core-ber-2 for the IOS XE 17.9 upgrade", S.SCHEDULED,
               "Normal change", "Network", "nils", "Second core switch, after the first.",
               cis=("sw-core-ber-2",), start=(6, 2), hours=2,
               answers={0: "yes", 1: "yes", 2: "some", 3: "often"}),
    ChangeSpec("Patch esx-ber-01 to ESXi 8.0 U3", S.SCHEDULED, "Normal change", "Applications",
               "paul", "Security patch; VMs move to esx-ber-02 during the reboot.",
               cis=("esx-ber-01",), start=(15, 22), hours=3,
               answers={0: "yes", 1: "yes", 2: "none", 3: "often"}),
    ChangeSpec("Restart the Exchange transport service on mail-01", S.IMPLEMENT,
               "Standard change", "Applications", "paul", cis=("mail-01",), start=(0, 0),
               template="Restart a Windows service"),
    ChangeSpec("Emergency: block the exploited VPN portal path", S.REVIEW, "Emergency change",
               "Network", "nora", "A public exploit targets the SSL-VPN portal; block the "
               "path on the gateway until the firmware is upgraded.",
               cis=("vpn-gw-01",), services=("VPN",), start=(-1, 18), hours=1),
    ChangeSpec("Replace the failed access point ap-london-01", S.CLOSED, "Standard change",
               "Network", "nils", cis=("ap-london-01",), start=(-3, 9),
               template="Replace a failed access point", closure="successful",
               notes="Swapped and adopted; users back on the Wi-Fi."),
    ChangeSpec("Upgrade the Wi-Fi controller to 8.10.190", S.CLOSED, "Normal change",
               "Network", "nora", "Needed for the new access points.",
               cis=("wlc-berlin-01",), services=("Wi-Fi",), start=(-5, 2),
               closure="backed_out",
               notes="Access points did not rejoin after the upgrade; rolled back at 03:10.",
               answers={0: "partly", 1: "yes", 2: "some", 3: "never"},
               caused=("Office Wi-Fi down on the second floor",)),
    ChangeSpec("Decommission the old print server", S.CANCELLED, "Normal change",
               "Service Desk", "sam", "Superseded by the cloud print rollout.",
               notes="Cloud print rollout postponed to next year."),
    ChangeSpec("Renew the ERP database certificates", S.ASSESS, "Normal change",
               "Applications", "priya", "The certificates expire on 31 December.",
               cis=("erp-db-01",), services=("ERP",), start=(16, 21)),
    ChangeSpec("Record the SAP kernel patch deployed by the pipeline", S.CLOSED,
               "Registration", "Applications", "paul", cis=("SAP S/4HANA",),
               start=(-2, 23), closure="successful", notes="Deployed by the release pipeline."),
]  # fmt: skip


def _at(days: int, hour: int):
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


def _models(context) -> dict[str, ChangeModel]:
    questionnaire = Questionnaire.objects.create(
        name="Change risk assessment",
        description="Answered by the change owner before authorisation.",
        moderate_from=10,
        high_from=20,
    )
    for order, (text, choices) in enumerate(QUESTIONS, start=1):
        Question.objects.create(
            questionnaire=questionnaire,
            order=order,
            text=text,
            choices=[{"value": v, "label": label, "weight": w} for v, label, w in choices],
        )
    normal_policy = ApprovalPolicy.objects.create(
        name="Normal change authorisation",
        description="The team's manager; the CAB from moderate risk.",
    )
    ApprovalLevel.objects.create(
        policy=normal_policy, order=1, kind=ApprovalLevel.Kind.TEAM_MANAGER
    )
    ApprovalLevel.objects.create(
        policy=normal_policy,
        order=2,
        kind=ApprovalLevel.Kind.CAB,
        team=context.team("Change Advisory Board"),
        min_risk="moderate",
    )
    emergency_policy = ApprovalPolicy.objects.create(
        name="Emergency change authority",
        description="Any one member of the emergency change authority, within an hour.",
    )
    ApprovalLevel.objects.create(
        policy=emergency_policy,
        order=1,
        kind=ApprovalLevel.Kind.EMERGENCY_AUTHORITY,
        team=context.team("Emergency Change Authority"),
        deadline_minutes=60,
    )
    models = {
        "Standard change": ChangeModel.objects.create(
            name="Standard change",
            kind=ChangeKind.STANDARD,
            description="Pre-authorised, low-risk, from a template.",
        ),
        "Normal change": ChangeModel.objects.create(
            name="Normal change",
            kind=ChangeKind.NORMAL,
            description="Assessed and authorised; the CAB advises from moderate risk.",
            required_fields={
                "authorise": NORMAL_PLANS,
                "scheduled": ["planned_start", "planned_end"],
            },
            approval_policy=normal_policy,
            questionnaire=questionnaire,
            lead_time_hours=72,
        ),
        "Emergency change": ChangeModel.objects.create(
            name="Emergency change",
            kind=ChangeKind.EMERGENCY,
            description="Restores or protects a service now; plans may follow.",
            required_fields={"review": ["implementation_plan", "backout_plan"]},
            approval_policy=emergency_policy,
        ),
        "Registration": ChangeModel.objects.create(
            name="Registration",
            kind=ChangeKind.REGISTRATION,
            description="Recorded after the fact, e.g. by a deployment pipeline.",
        ),
    }
    for order, (name, conditions, level) in enumerate(RISK_RULES, start=1):
        rule = RiskRule.objects.create(
            name=name, order=order * 10, conditions=conditions, risk=level
        )
        rule.change_models.set([models["Normal change"], models["Emergency change"]])
    return models


def _emergency_sla() -> None:
    """The emergency change authority decides within an hour, around the clock."""
    from django.contrib.contenttypes.models import ContentType

    from practices.service_level.demo import calendar_24x7
    from practices.service_level.models import Agreement, Target

    agreement = Agreement.objects.create(
        name="Emergency changes: authorised within an hour",
        record_type=ContentType.objects.get_for_model(Change),
        conditions={"kind": [ChangeKind.EMERGENCY]},
    )
    Target.objects.create(
        agreement=agreement,
        name="Authorise in 1 hour",
        metric="response",
        duration=timedelta(hours=1),
        calendar=calendar_24x7(),
    )


def _templates(context, model: ChangeModel) -> dict[str, ChangeTemplate]:
    chris = context.user("chris")
    specs = [
        ("Restart a Windows service", "Applications", 30,
         "Restart the named service; check the event log.", "Start it again.",
         (), True),
        ("Replace a failed access point", "Network", 60,
         "Swap the access point; adopt it in the controller.", "Put the old one back.",
         ((1, "Swap the access point"), (2, "Check the Wi-Fi from the floor")), True),
        ("Add a VLAN to a trunk port", "Network", 30,
         "Add the VLAN on both ends; verify with show interfaces trunk.",
         "Remove the VLAN again.", (), False),
    ]  # fmt: skip
    made = {}
    for name, team, minutes, plan, backout, tasks, active in specs:
        template = ChangeTemplate.objects.create(
            name=name,
            model=model,
            assignment_group=context.team(team),
            implementation_plan=plan,
            backout_plan=backout,
            duration_minutes=minutes,
            proposed_by=context.user("nora"),
            status=ChangeTemplate.Status.ACTIVE if active else ChangeTemplate.Status.PROPOSED,
            reviewed_by=chris if active else None,
            reviewed_at=timezone.now() if active else None,
        )
        for stage, title in tasks:
            TemplateTask.objects.create(
                template=template, stage=stage, title=title, team=context.team(team)
            )
        made[name] = template
    return made


def _windows(context, cis) -> None:
    network = [cis[n] for n in ("sw-core-ber-1", "sw-core-ber-2", "vpn-gw-01", "wlc-berlin-01")]
    sunday = _at((6 - timezone.localdate().weekday()) % 7, 1)
    weekly = ScheduleWindow.objects.create(
        name="Sunday network maintenance",
        kind=ScheduleWindow.Kind.MAINTENANCE,
        description="Changes to the core network happen here.",
        starts_at=sunday,
        ends_at=sunday + timedelta(hours=5),
        rrule="FREQ=WEEKLY;BYDAY=SU",
        time_zone="Europe/Berlin",
        created_by=context.user("chris"),
    )
    weekly.configuration_items.set([ci for ci in network if ci])
    year = timezone.localdate().year
    ScheduleWindow.objects.create(
        name="Year-end freeze",
        kind=ScheduleWindow.Kind.BLACKOUT,
        description="No changes during the year-end close.",
        starts_at=datetime(year, 12, 20, tzinfo=BERLIN),
        ends_at=datetime(year + 1, 1, 5, tzinfo=BERLIN),
        time_zone="Europe/Berlin",
        created_by=context.user("chris"),
    )


def _approve(change: Change, levels: int | None) -> Change:
    """Decide the change's authorisation as its approvers would, up to ``levels`` levels."""
    decided = 0
    while levels is None or decided < levels:
        change.refresh_from_db()
        pending = list(change.approvals.filter(decision="pending").select_related("approver"))
        if change.state != S.AUTHORISE or not pending:
            break
        level = pending[0].level
        if pending[0].kind == ApprovalLevel.Kind.CAB:  # decided at last week's meeting
            approvals.decide_level(change, level, pending[0].approver, True, "CAB: go ahead.")
        for approval in [a for a in pending if a.level == level]:
            approval.refresh_from_db()
            if approval.decision == "pending":
                approvals.decide(approval, approval.approver, True, "Plans and risk reviewed.")
        decided += 1
    change.refresh_from_db()
    return change


def play(spec: ChangeSpec, context, models, templates_by_name, cis, services_by_name, incidents):
    owner = context.user(spec.to)
    data = {
        "title": spec.title,
        "description": spec.description,
        "assignment_group": context.team(spec.team),
        "assigned_to": owner,
        "configuration_items": [cis[n] for n in spec.cis if n in cis],
        "services": [services_by_name[s] for s in spec.services if s in services_by_name],
        "outage_expected": spec.outage,
    }
    if spec.start is not None:
        start = _at(*spec.start) if spec.start != (0, 0) else timezone.now()
        data["planned_start"] = start
        data["planned_end"] = start + timedelta(hours=spec.hours)
    template = templates_by_name.get(spec.template)
    if template is None:
        data["model"] = models[spec.model]
        data.update(PLANS if spec.model != "Registration" else {})
    change = services.open_change(owner, data, template=template)
    if spec.answers and change.model.questionnaire_id:
        questions = list(change.model.questionnaire.questions.order_by("order"))
        risk.answer(
            change,
            owner,
            [{"question": questions[i].pk, "value": v} for i, v in spec.answers.items()],
        )

    def move(state, **fields):
        nonlocal change
        change = services.update_change(change, owner, {"state": state, **fields})

    if spec.state == S.CANCELLED:
        move(S.CANCELLED, closure_notes=spec.notes)
        return change
    for state in change.model.path[1:]:
        if change.state == spec.state:
            break
        if state == S.REVIEW:
            for task in change.tasks.filter(state__in=("open", "in_progress")):
                services.update_task(task, owner, {"state": "closed", "close_notes": "Done."})
        if state == S.CLOSED:
            move(S.CLOSED, closure_code=spec.closure, closure_notes=spec.notes)
            break
        if change.state == S.AUTHORISE and state == S.SCHEDULED:
            change = _approve(change, spec.approve_levels)
            if change.state == S.AUTHORISE:
                break  # still waiting for a level (the CAB's, in the demo)
            continue
        move(state)
        if state == S.AUTHORISE and spec.state == S.AUTHORISE:
            change = _approve(change, spec.approve_levels)
            break
    if spec.caused:
        found = [incidents[t] for t in spec.caused if t in incidents]
        if found:
            change = services.update_change(change, owner, {"caused_incidents": found})
    return change


def load(context) -> None:
    if ChangeModel.objects.filter(name="Normal change").exists():
        context.log("Demo change models already exist.")
        return
    from incidents.models import Incident

    cis = {ci.name: ci for ci in ConfigurationItem.objects.all()}
    services_by_name = {s.name: s for s in Service.objects.all()}
    incidents = {
        i.title: i
        for i in Incident.objects.filter(title__in={t for s in CHANGES for t in s.caused})
    }
    models = _models(context)
    _emergency_sla()
    templates_by_name = _templates(context, models["Standard change"])
    _windows(context, cis)
    made = [
        play(spec, context, models, templates_by_name, cis, services_by_name, incidents)
        for spec in CHANGES
    ]
    meeting = cab.create_meeting(
        context.user("chris"),
        {
            "title": "Weekly CAB",
            "starts_at": _at(3, 14),
            "ends_at": _at(3, 15),
            "location": "Berlin HQ, room 4.12 and video",
            "agenda_from": timezone.localdate(),
            "agenda_to": timezone.localdate() + timedelta(days=30),
            "members": list(context.team("Change Advisory Board").members.all()),
        },
    )
    cab.build_agenda(meeting, context.user("chris"))
    context.log(f"Created {len(made)} demo changes and a CAB meeting.")
