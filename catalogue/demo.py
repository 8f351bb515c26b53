"""Demo request catalogue, loaded by ``manage.py load_demo``: a few items with forms,
approvals and fulfilment plans, an SLA for requests, and requests made and decided through
the services (some waiting for the manager, one in fulfilment). Skipped when the catalogue
already has items."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType

from practices.service_level.demo import HOUR, agreement, office_calendar

from . import services
from .models import (
    ApprovalLevel,
    CatalogueCategory,
    CatalogueItem,
    ServiceRequest,
    TaskTemplate,
    Variable,
)


def _item(category, name, short, variables, levels=(), tasks=(), **fields) -> CatalogueItem:
    item = CatalogueItem.objects.create(
        category=category, name=name, short_description=short, **fields
    )
    for order, (vname, label, kind, extra) in enumerate(variables, start=1):
        Variable.objects.create(item=item, name=vname, label=label, type=kind, order=order, **extra)
    for order, (kind, team) in enumerate(levels, start=1):
        ApprovalLevel.objects.create(item=item, order=order, kind=kind, team=team)
    for stage, title, team in tasks:
        TaskTemplate.objects.create(item=item, stage=stage, title=title, team=team)
    return item


#: The asset tags the platform's asset register issues (AT-1001…, see "My devices"), as the
#: laptop form asks for the one it replaces.
OLD_TAG_PATTERN = r"AT-\d{4,5}"
OLD_TAG_HELP = "AT- and 4 or 5 digits, as on the sticker and in My devices (e.g. AT-1001)"
#: The pattern demo catalogues made before (it refused AT-1001).
OLD_TAG_PATTERN_BEFORE = r"AT-\d{5}"


def load(context) -> None:
    manager = context.user("manager")
    for username in ("alice", "bob", "carol", "dave"):
        user = context.users.get(username)
        if user is not None and user.manager_id is None:
            user.manager = manager
            user.save(update_fields=["manager"])
    if CatalogueItem.objects.exists():
        Variable.objects.filter(
            item__name="New laptop", name="old_tag", regex=OLD_TAG_PATTERN_BEFORE
        ).update(regex=OLD_TAG_PATTERN, help_text=OLD_TAG_HELP)
        context.log("Demo catalogue already exists.")
        return
    desk, network, apps = (context.team(n) for n in ("Service Desk", "Network", "Applications"))
    hardware = CatalogueCategory.objects.create(name="Hardware", order=10)
    software = CatalogueCategory.objects.create(name="Software", order=20)
    access = CatalogueCategory.objects.create(name="Access", order=30)
    laptop = _item(
        hardware,
        "New laptop",
        "A laptop for work, set up and ready.",
        [
            (
                "model",
                "Model",
                "choice",
                {
                    "required": True,
                    "choices": [
                        {"value": "thinkpad", "label": "ThinkPad T14"},
                        {"value": "mac", "label": "MacBook Air"},
                        {"value": "dell", "label": "Dell Latitude"},
                    ],
                },
            ),
            ("replace", "Does it replace a laptop?", "boolean", {}),
            (
                "old_tag",
                "Asset tag of the old laptop",
                "text",
                {
                    "required": True,
                    "regex": OLD_TAG_PATTERN,
                    "help_text": OLD_TAG_HELP,
                    "show_when": {"variable": "replace", "equals": True},
                },
            ),
            ("needed_by", "Needed by", "date", {}),
            (
                "accessories",
                "Accessories",
                "multichoice",
                {
                    "choices": [
                        {"value": "dock", "label": "Docking station"},
                        {"value": "mouse", "label": "Mouse"},
                        {"value": "bag", "label": "Bag"},
                    ]
                },
            ),
        ],
        levels=[("manager", None)],
        tasks=[
            (1, "Order the laptop", desk),
            (1, "Prepare the VPN profile", network),
            (2, "Hand the laptop over", desk),
        ],
        expected_delivery=timedelta(days=5),
        cost=Decimal("1400.00"),
        order=10,
    )
    licence = _item(
        software,
        "Software licence",
        "Office, Visio or Acrobat for your account.",
        [
            (
                "product",
                "Product",
                "choice",
                {
                    "required": True,
                    "choices": [
                        {"value": "office", "label": "Microsoft Office"},
                        {"value": "visio", "label": "Microsoft Visio"},
                        {"value": "acrobat", "label": "Adobe Acrobat Pro"},
                    ],
                },
            ),
            (
                "reason",
                "What do you need it for?",
                "multiline",
                {"required": True, "min_length": 10},
            ),
        ],
        levels=[("team_any", apps)],
        tasks=[(1, "Assign the licence", apps)],
        expected_delivery=timedelta(days=1),
        cost=Decimal("120.00"),
    )
    folder = _item(
        access,
        "Access to a shared folder",
        "Read or write access to a folder on the file server.",
        [
            (
                "folder",
                "Folder",
                "text",
                {"required": True, "help_text": r"e.g. \\files\finance\reports"},
            ),
            (
                "level",
                "Access",
                "choice",
                {
                    "required": True,
                    "choices": [
                        {"value": "read", "label": "Read"},
                        {"value": "write", "label": "Read and write"},
                    ],
                },
            ),
            ("colleague", "Same access as (optional)", "user", {}),
        ],
        levels=[("manager", None), ("team_any", desk)],
        tasks=[(1, "Grant access", desk)],
        expected_delivery=timedelta(hours=8),
    )
    _item(
        access,
        "Guest Wi-Fi voucher",
        "A day's Wi-Fi for a visitor, at once.",
        [
            ("guest_name", "Guest's name", "text", {"required": True}),
            ("visit_date", "Day of the visit", "date", {"required": True}),
        ],
    )
    _request_sla()
    _requests(context, manager, laptop, licence, folder)


def _request_sla() -> None:
    """An SLA for service requests (office hours; the clock stands still while a request
    waits for approval), so that request and task pages show real timers."""
    agreement(
        "Service requests",
        {
            "record_type": ContentType.objects.get_for_model(ServiceRequest),
            "order": 100,
            "description": "Fulfil an approved request within five working days.",
        },
        [("Fulfil in 5 days", "resolution", 50 * HOUR, office_calendar())],
        [{"percent": 75, "notify_assignee": True}, {"percent": 100, "notify_team_manager": True}],
    )


def _requests(context, manager, laptop, licence, folder) -> None:
    """Requests made and decided through the services, so that a fresh demo has work in
    every place: the manager's approvals, the Service Desk's and the Network team's
    fulfilment queues, and a second-level approval for the Service Desk."""
    order = services.submit_request
    order(context.user("alice"), laptop, {"model": "mac", "replace": False})
    order(context.user("bob"), laptop, {"model": "thinkpad", "replace": True, "old_tag": "AT-1002"})
    order(
        context.user("dave"),
        licence,
        {"product": "visio", "reason": "Network diagrams for the Berlin office move."},
    )
    # Decided by the manager: fulfilment under way (tasks for the Service Desk and Network),
    # and a folder access now waiting for the Service Desk's own approval.
    approved = [
        order(
            context.user("carol"),
            laptop,
            {"model": "dell", "replace": True, "old_tag": "AT-1003", "accessories": ["dock"]},
        ),
        order(
            context.user("dave"),
            folder,
            {"folder": r"\\files\finance\reports", "level": "read"},
        ),
    ]
    for request in approved:
        approval = services.pending_approvals(manager).get(request=request)
        services.decide(approval, manager, True, "Approved: needed for the job.")
    context.log(
        "Request catalogue: 3 categories, 4 items, 5 requests (3 awaiting the manager, one "
        "of them at its second level; 1 the Applications team; 1 in fulfilment)."
    )
