"""Demo data of problem management, loaded by ``manage.py load_demo`` after incidents.

Six problems in different states, made through ``problems.services`` as people would:
two known errors (one with a workaround published in the portal), causes in several of
the four dimensions, linked to the demo incidents by title. Skipped when any demo
problem already exists.
"""

from dataclasses import dataclass

from catalogue.models import Service
from cmdb.models import ConfigurationItem
from incidents.models import Incident

from . import services
from .models import Dimension as D
from .models import Problem, Risk
from .workflows import ProblemState as S


@dataclass
class ProblemSpec:
    title: str
    state: str
    description: str
    team: str
    to: str
    impact: str = Risk.MEDIUM
    probability: str = Risk.MEDIUM
    incidents: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    cis: tuple[str, ...] = ()
    #: (dimension, description, root cause?)
    causes: tuple[tuple[str, str, bool], ...] = ()
    workaround: str = ""
    public: bool = False
    resolution: str = ""


PROBLEMS = [
    ProblemSpec("VPN sessions drop after 10 minutes idle", S.KNOWN_ERROR,
         "Remote users lose the VPN after about ten minutes without traffic since the "
         "gateway firmware update.", "Network", "nils", Risk.HIGH, Risk.HIGH,
         incidents=("VPN connection drops every 10 minutes",),
         services=("VPN",), cis=("vpn-gw-01",),
         causes=(
             (D.INFORMATION_AND_TECHNOLOGY, "The firmware update reset the gateway's idle "
              "session timeout to 600 seconds.", True),
             (D.VALUE_STREAMS_AND_PROCESSES, "Firmware updates are applied without "
              "reviewing the configuration defaults they change.", False),
         ),
         workaround="Symptoms: the VPN disconnects after about 10 minutes without use.\n\n"
         "Until it is fixed: open the VPN client, Settings > Connection, and turn on "
         "'Keep connection alive'. Reconnect once; the VPN then stays up.",
         public=True),
    ProblemSpec("ERP order screen slow while reports run", S.KNOWN_ERROR,
         "The order screen and report exports slow down or time out while the stock "
         "report runs on erp-db-01.", "Applications", "paul", Risk.MEDIUM, Risk.HIGH,
         incidents=("ERP order screen takes a minute to load", "ERP report export times out"),
         services=("ERP",), cis=("erp-db-01", "erp-app-01"),
         causes=(
             (D.INFORMATION_AND_TECHNOLOGY, "The stock report query scans the order lines "
              "table: an index on (warehouse, date) is missing.", True),
             (D.PARTNERS_AND_SUPPLIERS, "The ERP vendor's report ships without the index "
              "its documentation assumes.", False),
         ),
         workaround="Cancel the running stock report in ERP > Administration > Jobs "
         "(needs ERP admin rights); schedule it after 18:00 until the index is added."),
    ProblemSpec("Mail database does not mount after patching", S.ROOT_CAUSE_ANALYSIS,
         "After last night's patching mail-01's database stayed dismounted; e-mail failed "
         "for Berlin.", "Applications", "priya", Risk.HIGH, Risk.MEDIUM,
         incidents=("E-mail down for all users in Berlin",
                    "Outlook shows 'Disconnected' since this morning",
                    "Shared mailbox 'Sales' is not updating"),
         services=("E-mail",), cis=("mail-01",),
         causes=(
             (D.ORGANIZATIONS_AND_PEOPLE, "The patching runbook has no post-patch check "
              "that the databases are mounted.", False),
         )),
    ProblemSpec("Wi-Fi drops in Berlin meeting rooms", S.ASSESSED,
         "Clients in the meeting rooms lose the Wi-Fi several times an hour.",
         "Network", "nora", Risk.MEDIUM, Risk.MEDIUM,
         incidents=("Wi-Fi drops in meeting room Everest",),
         services=("Wi-Fi",), cis=("wlc-berlin-01",)),
    ProblemSpec("Printer driver lost after restarts", S.RESOLVED,
         "Laptops show the 2nd floor printer offline after a restart.", "Service Desk",
         "agent", Risk.LOW, Risk.MEDIUM,
         incidents=("Printer shows as offline on my laptop",), cis=("prn-berlin-2f",),
         causes=((D.INFORMATION_AND_TECHNOLOGY, "An outdated printer driver in the laptop "
                  "image.", True),),
         resolution="Updated the driver in the laptop image; deployed to all laptops."),
    ProblemSpec("VPN client certificates expire unnoticed", S.CLOSED,
         "Client certificates expired for a group of users at once.", "Network", "nils",
         Risk.HIGH, Risk.LOW,
         incidents=("VPN login fails with 'certificate expired'", "VPN is down"),
         services=("VPN",),
         causes=(
             (D.VALUE_STREAMS_AND_PROCESSES, "No reminder before client certificates "
              "expire.", True),
         ),
         resolution="Certificates now renew automatically 30 days before they expire."),
]  # fmt: skip

TITLES = frozenset(spec.title for spec in PROBLEMS)


def load(context) -> None:
    if Problem.objects.filter(title__in=TITLES).exists():
        context.log("Demo problems already exist.")
        return
    incidents = {i.title: i for i in Incident.objects.filter(title__in=_incident_titles())}
    services_by_name = {s.name: s for s in Service.objects.all()}
    cis = {ci.name: ci for ci in ConfigurationItem.objects.filter(name__in=_ci_names())}
    for spec in PROBLEMS:
        play(spec, context, incidents, services_by_name, cis)
    context.log(f"Created {len(PROBLEMS)} demo problems.")


def _incident_titles():
    return {title for spec in PROBLEMS for title in spec.incidents}


def _ci_names():
    return {name for spec in PROBLEMS for name in spec.cis}


def play(spec: ProblemSpec, context, incidents, services_by_name, cis) -> Problem:
    worker = context.user(spec.to)
    problem = services.open_problem(
        context.user("agent"),
        {
            "title": spec.title,
            "description": spec.description,
            "impact": spec.impact,
            "probability": spec.probability,
            "incidents": [incidents[t] for t in spec.incidents if t in incidents],
            "services": [services_by_name[s] for s in spec.services if s in services_by_name],
            "configuration_items": [cis[n] for n in spec.cis if n in cis],
        },
    )

    def update(**changes):
        nonlocal problem
        problem = services.update_problem(problem, worker, changes)

    update(assignment_group=context.team(spec.team), assigned_to=worker, state=S.ASSESSED)
    if spec.state == S.ASSESSED:
        return problem
    update(state=S.ROOT_CAUSE_ANALYSIS)
    for dimension, description, root in spec.causes:
        services.add_cause(
            problem,
            worker,
            {"dimension": dimension, "description": description, "is_root_cause": root},
        )
    if spec.workaround:
        update(workaround=spec.workaround, workaround_public=spec.public)
    if spec.state == S.ROOT_CAUSE_ANALYSIS:
        return problem
    update(state=S.KNOWN_ERROR)
    if spec.state == S.KNOWN_ERROR:
        return problem
    update(state=S.RESOLVED, resolution_notes=spec.resolution)
    if spec.state == S.CLOSED:
        update(state=S.CLOSED)
    assert problem.state == spec.state, (spec.title, problem.state)
    return problem
