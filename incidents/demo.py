"""Demo data of incident management, loaded by ``manage.py load_demo``.

Categories, services and CIs are looked up by name and only created when missing. The
incidents are made through ``incidents.services`` (open, update, comment) exactly as people
would make them, so their journals, priorities and notifications are real; they are
skipped when any demo incident already exists.
"""

from dataclasses import dataclass

from catalogue.models import Service
from cmdb.models import CIClass, ConfigurationItem

from . import services
from .models import Category, Channel, Incident, OnHoldReason, ResolutionCode
from .workflows import IncidentState as S

CATEGORIES = {
    "Hardware": ("Laptop", "Printer"),
    "Software": ("E-mail client", "Office", "ERP client"),
    "Network": ("VPN", "Wi-Fi"),
    "Access": ("Password reset", "Permissions"),
}

# name: (description, owner team)
SERVICES = {
    "E-mail": ("Corporate e-mail and calendars.", "Applications"),
    "VPN": ("Remote access to the company network.", "Network"),
    "ERP": ("Orders, invoicing and stock.", "Applications"),
    "Wi-Fi": ("Wireless network in every office.", "Network"),
    "Laptops": ("Company laptops: supply, repair and replacement.", "Service Desk"),
}

# name: owner team
CONFIGURATION_ITEMS = {
    "mail-01": "Applications",
    "mail-02": "Applications",
    "erp-app-01": "Applications",
    "erp-db-01": "Applications",
    "vpn-gw-01": "Network",
    "wlc-berlin-01": "Network",
    "ap-london-01": "Network",
    "prn-berlin-2f": "Service Desk",
}

HOLD = OnHoldReason
CODE = ResolutionCode


@dataclass
class IncidentSpec:
    """One demo incident: how it was reported and how far it got."""

    title: str
    caller: str
    category: str  # "Category/Subcategory"
    state: str
    description: str = ""
    service: str | None = None
    cis: tuple[str, ...] = ()
    impact: int = 3
    urgency: int = 3
    team: str | None = "Service Desk"
    to: str | None = None  # assignee (a member of team)
    via: str = Channel.AGENT
    #: (username or "caller"/"worker", body, internal) written once work has started
    comments: tuple[tuple[str, str, bool], ...] = ()
    hold: str = ""
    resolution: tuple[str, str] | None = None
    reopen: tuple[str, str] | None = None  # (caller's comment, second resolution notes)
    closed_by: str = "caller"
    start: bool = True  # False: the incident never left "new"
    reassign: tuple[str, str] | None = None  # (team, assignee) after work started
    major: bool = False
    parent: str | None = None  # title of the parent (major) incident


MAJOR = "E-mail down for all users in Berlin"

INCIDENTS = [
    # New ----------------------------------------------------------------------------------
    IncidentSpec("Docking station does not detect the second monitor", "alice", "Hardware/Laptop",
         S.NEW, "Since Friday's update only the laptop screen works when docked.",
         service="Laptops", via=Channel.PORTAL, team=None, start=False,
         comments=(("caller", "It worked fine until the update last Friday.", False),)),
    IncidentSpec("Access to the Finance shared drive", "bob", "Access/Permissions", S.NEW,
         "I moved to Finance and need the team drive.", via=Channel.PORTAL, team=None,
         start=False),
    IncidentSpec("Printer on the 2nd floor prints blank pages", "carol", "Hardware/Printer", S.NEW,
         cis=("prn-berlin-2f",), urgency=2, via=Channel.EMAIL, start=False),
    IncidentSpec("Excel crashes when opening large workbooks", "dave", "Software/Office", S.NEW,
         "Any workbook over 50 MB closes Excel without a message.", urgency=2,
         via=Channel.PORTAL, team="Applications", start=False),
    IncidentSpec("Wi-Fi drops in meeting room Everest", "alice", "Network/Wi-Fi", S.NEW,
         service="Wi-Fi", cis=("wlc-berlin-01",), impact=2, urgency=2, team="Network",
         start=False),
    IncidentSpec("Cannot log in to the ERP after a password change", "bob", "Access/Password reset",
         S.NEW, service="ERP", urgency=1, to="agent", via=Channel.API, start=False),
    # In progress, with the major incident and its two children -------------------------------
    IncidentSpec(MAJOR, "alice", "Software/E-mail client", S.IN_PROGRESS,
         "Outlook and webmail fail for everyone at Berlin HQ since 08:40.", service="E-mail",
         cis=("mail-01",), impact=1, urgency=1, team="Applications", to="priya", major=True,
         comments=(
             ("priya", "mail-01's database did not mount after last night's patching; "
              "failing over to mail-02.", True),
             ("manager", "We know about the e-mail outage and are restoring service. "
              "Next update at 11:00.", False),
         )),
    IncidentSpec("Outlook shows 'Disconnected' since this morning", "bob", "Software/E-mail client",
         S.IN_PROGRESS, service="E-mail", urgency=2, to="agent", parent=MAJOR,
         comments=(("agent", "This is part of the e-mail outage we are working on; "
                    "we will update you here.", False),)),
    IncidentSpec("Shared mailbox 'Sales' is not updating", "carol", "Software/E-mail client", S.NEW,
         service="E-mail", urgency=2, team="Applications", parent=MAJOR, start=False),
    IncidentSpec("VPN connection drops every 10 minutes", "carol", "Network/VPN", S.IN_PROGRESS,
         service="VPN", cis=("vpn-gw-01",), impact=2, urgency=2, to="agent",
         reassign=("Network", "nils"),
         comments=(
             ("agent", "Reproduced with the caller; the gateway log shows idle timeouts. "
              "Passing to Network.", True),
             ("nils", "Looking at the gateway's session settings now.", False),
         )),
    IncidentSpec("ERP order screen takes a minute to load", "dave", "Software/ERP client",
         S.IN_PROGRESS, service="ERP", cis=("erp-app-01", "erp-db-01"), impact=2, urgency=1,
         team="Applications", to="paul",
         comments=(("paul", "erp-db-01 at 95% CPU: a long-running report query.", True),)),
    IncidentSpec("Laptop battery is swelling", "bob", "Hardware/Laptop", S.IN_PROGRESS,
         service="Laptops", impact=2, urgency=1, to="sam",
         comments=(("sam", "Please stop using the laptop; a replacement is being prepared.",
                    False),)),
    IncidentSpec("New starter cannot log in to Windows", "alice", "Access/Password reset",
         S.IN_PROGRESS, urgency=2, to="agent"),
    IncidentSpec("London printer jams on every job", "bob", "Hardware/Printer", S.IN_PROGRESS,
         urgency=2, to="sam", via=Channel.PORTAL),
    IncidentSpec("Guest Wi-Fi portal does not load", "carol", "Network/Wi-Fi", S.IN_PROGRESS,
         service="Wi-Fi", impact=2, urgency=2, team="Network", to="nora", via=Channel.PORTAL),
    # On hold, two for each reason ------------------------------------------------------------
    IncidentSpec("Teams calls have no sound", "dave", "Software/Office", S.ON_HOLD, urgency=2,
         to="agent",
         via=Channel.PORTAL, hold=HOLD.AWAITING_CALLER,
         comments=(("worker", "Which headset do you use, and does it work in other apps?",
                    False),)),
    IncidentSpec("Cannot open encrypted e-mail", "alice", "Software/E-mail client", S.ON_HOLD,
         service="E-mail", urgency=2, team="Applications", to="paul",
         hold=HOLD.AWAITING_CALLER,
         comments=(("worker", "Please send a screenshot of the error message.", False),)),
    IncidentSpec("VPN client needs the new gateway certificate", "bob", "Network/VPN", S.ON_HOLD,
         service="VPN", cis=("vpn-gw-01",), impact=2, team="Network", to="nils",
         hold=HOLD.AWAITING_CHANGE,
         comments=(("worker", "The certificate rollout is planned for the next change "
                    "window.", True),)),
    IncidentSpec("ERP invoice PDF shows the wrong VAT rate", "carol", "Software/ERP client",
         S.ON_HOLD, service="ERP", cis=("erp-app-01",), impact=2, urgency=2,
         team="Applications", to="priya", hold=HOLD.AWAITING_CHANGE,
         comments=(("worker", "Needs a configuration change in the ERP; raised with "
                    "change management.", True),)),
    IncidentSpec("Laptop keyboard: several keys do not work", "dave", "Hardware/Laptop", S.ON_HOLD,
         service="Laptops", to="sam", hold=HOLD.AWAITING_SUPPLIER,
         comments=(("worker", "The manufacturer replaces the keyboard under warranty; the "
                    "part is ordered.", False),)),
    IncidentSpec("Access point in the London office is offline", "bob", "Network/Wi-Fi", S.ON_HOLD,
         service="Wi-Fi", cis=("ap-london-01",), impact=2, urgency=2, team="Network",
         to="nora", hold=HOLD.AWAITING_SUPPLIER,
         comments=(("worker", "Hardware fault; RMA opened with the vendor.", True),)),
    # Resolved --------------------------------------------------------------------------------
    IncidentSpec("Forgot my password", "alice", "Access/Password reset", S.RESOLVED, urgency=1,
         to="agent",
         via=Channel.PORTAL,
         comments=(("worker", "I have reset your password; the temporary one is on its way "
                    "by text message.", False),),
         resolution=(CODE.SOLVED_PERMANENTLY, "Password reset; the caller logged in.")),
    IncidentSpec("Outlook search returns no results", "bob", "Software/E-mail client", S.RESOLVED,
         service="E-mail", urgency=2, team="Applications", to="paul",
         resolution=(CODE.SOLVED_WORKAROUND, "Rebuilt the search index; the permanent fix "
                     "comes with the next Office update.")),
    IncidentSpec("Printer shows as offline on my laptop", "carol", "Hardware/Printer", S.RESOLVED,
         cis=("prn-berlin-2f",), to="agent", via=Channel.PORTAL,
         resolution=(CODE.SOLVED_PERMANENTLY, "Removed and re-added the printer."),
         reopen=("It is offline again after a restart.",
                 "Installed the current printer driver; it survives restarts now.")),
    IncidentSpec("VPN login fails with 'certificate expired'", "dave", "Network/VPN", S.RESOLVED,
         service="VPN", impact=2, urgency=1, team="Network", to="nils",
         resolution=(CODE.SOLVED_PERMANENTLY, "Renewed the client certificate.")),
    IncidentSpec("Wi-Fi is slow on the 3rd floor", "alice", "Network/Wi-Fi", S.RESOLVED,
         service="Wi-Fi", impact=2, team="Network", to="nora",
         resolution=(CODE.NO_FAULT_FOUND, "Measured 180 Mbit/s at every desk; no fault.")),
    IncidentSpec("Cannot find the 'Save as PDF' option", "bob", "Software/Office", S.RESOLVED,
         to="sam", via=Channel.PORTAL,
         resolution=(CODE.USER_ERROR, "Showed the caller File > Export > PDF.")),
    # Closed ----------------------------------------------------------------------------------
    IncidentSpec("Laptop does not power on", "carol", "Hardware/Laptop", S.CLOSED,
         service="Laptops", urgency=1, to="sam",
         resolution=(CODE.SOLVED_PERMANENTLY, "Replaced the faulty power adapter.")),
    IncidentSpec("E-mails to a customer's domain bounce", "dave", "Software/E-mail client",
         S.CLOSED, service="E-mail", cis=("mail-01",), impact=2, urgency=1,
         team="Applications", to="priya", closed_by="worker",
         resolution=(CODE.SOLVED_PERMANENTLY, "Fixed the outbound connector's TLS setting.")),
    IncidentSpec("Need access to the HR folder", "alice", "Access/Permissions", S.CLOSED,
         urgency=2, to="agent", via=Channel.PORTAL,
         resolution=(CODE.SOLVED_PERMANENTLY, "Added the caller to the HR readers group.")),
    IncidentSpec("ERP report export times out", "bob", "Software/ERP client", S.CLOSED,
         service="ERP", cis=("erp-app-01",), urgency=2, team="Applications", to="paul",
         closed_by="worker",
         resolution=(CODE.SOLVED_WORKAROUND, "Raised the export timeout; the query needs "
                     "an index (problem to follow).")),
    IncidentSpec("External monitor flickers", "dave", "Hardware/Laptop", S.CLOSED, to="sam",
         resolution=(CODE.NOT_REPRODUCIBLE, "No flicker with a new cable or the old one.")),
    IncidentSpec("VPN is down", "carol", "Network/VPN", S.CLOSED, service="VPN", impact=2,
         urgency=1, team="Network", to="nils", closed_by="worker",
         resolution=(CODE.DUPLICATE, "Same cause as the expired client certificate.")),
    # Cancelled ---------------------------------------------------------------------------------
    IncidentSpec("Test ticket, please ignore", "bob", "Software/Office", S.CANCELLED,
         via=Channel.PORTAL, team=None, start=False),
    IncidentSpec("Keyboard missing from my desk", "dave", "Hardware/Laptop", S.CANCELLED,
         start=False,
         comments=(("agent", "The caller found the keyboard in the storage room.", True),)),
    IncidentSpec("I need a bigger monitor", "alice", "Hardware/Laptop", S.CANCELLED, to="agent",
         via=Channel.PORTAL,
         comments=(("worker", "This is a request, not a fault: please order a monitor in the "
                    "request catalogue.", False),)),
]  # fmt: skip

TITLES = frozenset(spec.title for spec in INCIDENTS)
#: Opened by the caller (portal, e-mail); the others by a service desk agent.
SELF_SERVICE = frozenset({Channel.PORTAL, Channel.EMAIL})


def load(context) -> None:
    categories = load_categories()
    service_objs = {
        name: Service.objects.get_or_create(
            name=name,
            defaults={"description": description, "owner_team": context.team(team)},
        )[0]
        for name, (description, team) in SERVICES.items()
    }
    # The CMDB's demo (loaded first) holds these with their classes and relationships.
    application = CIClass.objects.get(key="application")
    ci_objs = {
        name: ConfigurationItem.objects.get_or_create(
            name=name, defaults={"owner_team": context.team(team), "ci_class": application}
        )[0]
        for name, team in CONFIGURATION_ITEMS.items()
    }
    context.shared.setdefault("services", {}).update(service_objs)
    context.shared.setdefault("configuration_items", {}).update(ci_objs)
    if Incident.objects.filter(title__in=TITLES).exists():
        context.log("Demo incidents already exist.")
        return
    made = {}
    for spec in INCIDENTS:
        made[spec.title] = play(spec, context, categories, service_objs, ci_objs, made)
    context.log(f"Created {len(made)} demo incidents.")


def load_categories() -> dict[str, Category]:
    found = {}
    for name, subcategories in CATEGORIES.items():
        top = Category.objects.filter(parent=None, name__iexact=name).first()
        if top is None:
            top = Category.objects.create(name=name)
        found[name] = top
        for sub in subcategories:
            found[f"{name}/{sub}"] = Category.objects.get_or_create(parent=top, name=sub)[0]
    return found


def play(spec: IncidentSpec, context, categories, service_objs, ci_objs, made) -> Incident:
    """Open the incident and take it through the steps people would take."""
    caller = context.user(spec.caller)
    desk = context.user("agent")
    worker = context.user(spec.to) if spec.to else desk
    top = spec.category.split("/")[0]
    base = {
        "title": spec.title,
        "description": spec.description or spec.title + ".",
        "category": categories[top],
        "subcategory": categories[spec.category],
        "service": service_objs[spec.service] if spec.service else None,
        "configuration_items": [ci_objs[name] for name in spec.cis],
    }
    triage = {
        "impact": spec.impact,
        "urgency": spec.urgency,
        "assignment_group": context.team(spec.team) if spec.team else None,
        "assigned_to": context.user(spec.to) if spec.to else None,
    }
    if spec.via in SELF_SERVICE:
        incident = services.open_incident(caller, base, channel=spec.via)
        if spec.team:
            incident = services.update_incident(incident, desk, triage)
    else:
        data = {**base, **triage, "caller": caller, "major": spec.major}
        if spec.parent:
            data["parent"] = made[spec.parent]
        incident = services.open_incident(desk, data, channel=spec.via)

    def update(actor, **changes):
        nonlocal incident
        incident = services.update_incident(incident, actor, changes)

    def who(name):
        return {"caller": caller, "worker": worker}.get(name) or context.user(name)

    if spec.start:
        update(worker, state=S.IN_PROGRESS)
    if spec.reassign:
        team, assignee = spec.reassign
        update(desk, assignment_group=context.team(team), assigned_to=context.user(assignee))
        worker = context.user(assignee)
    for author, body, internal in spec.comments:
        services.comment(incident, who(author), body, internal=internal)

    if spec.state == S.ON_HOLD:
        update(worker, state=S.ON_HOLD, on_hold_reason=spec.hold)
    elif spec.state in (S.RESOLVED, S.CLOSED):
        code, notes = spec.resolution
        update(worker, state=S.RESOLVED, resolution_code=code, resolution_notes=notes)
        if spec.reopen:
            complaint, second_notes = spec.reopen
            services.comment(incident, caller, complaint)
            update(caller, state=S.IN_PROGRESS)
            update(worker, state=S.RESOLVED, resolution_code=code, resolution_notes=second_notes)
        if spec.state == S.CLOSED:
            update(who(spec.closed_by), state=S.CLOSED)
    elif spec.state == S.CANCELLED:
        # A caller may withdraw what nobody has picked up; otherwise the desk cancels.
        withdraw = spec.via in SELF_SERVICE and not spec.team
        update(caller if withdraw else worker, state=S.CANCELLED)
    assert incident.state == spec.state, (spec.title, incident.state)
    return incident
