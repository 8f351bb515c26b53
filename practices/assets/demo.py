"""Demo asset register, loaded by ``manage.py load_demo``: suppliers, fifteen assets in every
lifecycle state (moved there through the services, so each has its history), two contracts
(one renewing within 30 days) and licences for two software products, one over- and one
under-licensed. What already exists is left alone, so a second run changes nothing."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from cmdb.models import CIClass, ConfigurationItem, Relationship, RelationshipType, Status

from . import services
from .models import Asset, Contract, Licence, Supplier
from .workflows import AssetState as S

SUPPLIERS = {
    "Dell Technologies": ("Dana Miller", "dana.miller@dell.example.com", "+49 69 9792 0"),
    "Lenovo": ("Lee Wong", "lee.wong@lenovo.example.com", "+44 20 7123 4567"),
    "Softline": ("Sofia Lind", "licensing@softline.example.com", "+49 89 1234 5678"),
}

# tag, model, supplier, path of states after "ordered", assigned user, location, age in days
ASSETS = [
    ("AT-1001", "Dell Latitude 7440", "Dell Technologies", [S.RECEIVED, S.IN_STOCK, S.DEPLOYED], "alice", "Berlin HQ", 400),
    ("AT-1002", "Dell Latitude 7440", "Dell Technologies", [S.RECEIVED, S.IN_STOCK, S.DEPLOYED], "bob", "London Office", 380),
    ("AT-1003", "Lenovo ThinkPad T14", "Lenovo", [S.RECEIVED, S.DEPLOYED], "carol", "New York Office", 300),
    ("AT-1004", "Lenovo ThinkPad T14", "Lenovo", [S.RECEIVED, S.DEPLOYED], "dave", "Berlin HQ", 290),
    ("AT-1005", "Dell U2723QE monitor", "Dell Technologies", [S.RECEIVED, S.DEPLOYED], "alice", "Berlin HQ", 250),
    ("AT-1006", "Lenovo ThinkPad X1 Carbon", "Lenovo", [S.RECEIVED, S.DEPLOYED, S.IN_REPAIR], "bob", "London Office", 500),
    ("AT-1007", "Dell Latitude 5540", "Dell Technologies", [S.RECEIVED, S.IN_STOCK], None, "Berlin HQ", 60),
    ("AT-1008", "Dell Latitude 5540", "Dell Technologies", [S.RECEIVED, S.IN_STOCK], None, "London Office", 60),
    ("AT-1009", "Lenovo ThinkPad T14", "Lenovo", [S.RECEIVED], None, "Berlin HQ", 10),
    ("AT-1010", "Lenovo ThinkPad T14", "Lenovo", [], None, None, 3),
    ("AT-1011", "Dell PowerEdge R760", "Dell Technologies", [S.RECEIVED, S.DEPLOYED], None, "Berlin HQ", 700),
    ("AT-1012", "Dell PowerEdge R750", "Dell Technologies", [S.RECEIVED, S.DEPLOYED], None, "London Office", 900),
    ("AT-1013", "Lenovo ThinkPad T480", "Lenovo", [S.RECEIVED, S.DEPLOYED, S.RETIRED], None, "Berlin HQ", 1900),
    ("AT-1014", "Dell Latitude 7490", "Dell Technologies", [S.RECEIVED, S.DEPLOYED, S.RETIRED, S.DISPOSED], None, "London Office", 2100),
    ("AT-1015", "Dell U2419H monitor", "Dell Technologies", [S.RECEIVED, S.DEPLOYED], "carol", "New York Office", 1100),
]  # fmt: skip

# name, hostname, retired
SERVERS = [
    ("app-01", "app-01.example.com", False),
    ("app-02", "app-02.example.com", False),
    ("app-03", "app-03.example.com", False),
    ("app-04", "app-04.example.com", False),
    ("app-05", "app-05.example.com", True),
]

# name, attributes, installed on, licences (reference, quantity)
SOFTWARE = [
    (
        "Microsoft 365 Apps",
        {"publisher": "Microsoft", "product": "Microsoft 365 Apps", "version": "2409"},
        ["app-01", "app-02", "app-03"],
        [("M365-EA-2024", 10)],
    ),
    (
        "Adobe Acrobat Pro",
        {"publisher": "Adobe", "product": "Acrobat Pro", "version": "2024"},
        ["app-01", "app-02", "app-03", "app-04", "app-05"],
        [("ADOBE-VIP-7781", 2)],
    ),
]


def _suppliers(actor) -> dict[str, Supplier]:
    found = {}
    for name, (contact, email, phone) in SUPPLIERS.items():
        supplier = Supplier.objects.filter(name=name).first()
        if supplier is None:
            supplier = services.create_supplier(
                actor, {"name": name, "contact": contact, "email": email, "phone": phone}
            )
        found[name] = supplier
    return found


def _assets(context, actor, suppliers) -> int:
    today = timezone.localdate()
    made = 0
    for tag, model, supplier, path, username, location, age in ASSETS:
        if Asset.objects.filter(asset_tag=tag).exists():
            continue
        bought = today - timedelta(days=age)
        asset = services.create_asset(
            actor,
            {
                "asset_tag": tag,
                "model": model,
                "serial_number": f"SN{tag[3:]}{age:04d}",
                "vendor": suppliers[supplier],
                "purchase_date": bought,
                "purchase_cost": Decimal("1450.00")
                if "PowerEdge" not in model
                else Decimal("8900"),
                "warranty_end": bought + timedelta(days=3 * 365),
            },
        )
        for state in path:
            changes = {}
            if state == S.DEPLOYED:
                if username:
                    changes["assigned_to"] = context.user(username)
                if location:
                    changes["location"] = context.locations[location]
            asset = services.move(asset, actor, state, changes)
        if location and asset.location_id is None and asset.state != S.DISPOSED:
            asset = services.update_asset(asset, actor, {"location": context.locations[location]})
        made += 1
    return made


def _cmdb(actor):
    server_class = CIClass.objects.get(key="server")
    software_class = CIClass.objects.get(key="software")
    installed_on = RelationshipType.objects.get(key="installed_on")
    servers = {}
    for name, hostname, retired in SERVERS:
        servers[name], _ = ConfigurationItem.objects.get_or_create(
            name=name,
            defaults={
                "ci_class": server_class,
                "status": Status.RETIRED if retired else Status.LIVE,
                "attributes": {"hostname": hostname, "operating_system": "Windows Server 2022"},
            },
        )
    software = {}
    for name, attributes, hosts, _ in SOFTWARE:
        software[name], _ = ConfigurationItem.objects.get_or_create(
            name=name, defaults={"ci_class": software_class, "attributes": attributes}
        )
        for host in hosts:
            Relationship.objects.get_or_create(
                source=software[name],
                type=installed_on,
                target=servers[host],
                defaults={"created_by": actor},
            )
    return servers, software


def _contracts(context, actor, suppliers, servers, software) -> None:
    today = timezone.localdate()
    owner = context.user("manager")
    plans = [
        (
            "DELL-SUP-2024-017",
            {
                "kind": Contract.Kind.SUPPORT,
                "supplier": suppliers["Dell Technologies"],
                "start_date": today - timedelta(days=345),
                "end_date": today + timedelta(days=385),
                "renewal_date": today + timedelta(days=20),
                "notice_period_days": 30,
                "cost_per_year": Decimal("12400.00"),
                "owner": owner,
                "notes": "ProSupport Plus for laptops and servers; renews yearly unless cancelled.",
            },
            [a for a in ASSETS if a[2] == "Dell Technologies"],
            ["app-01", "app-02"],
        ),
        (
            "LEN-LEASE-0042",
            {
                "kind": Contract.Kind.LEASE,
                "supplier": suppliers["Lenovo"],
                "start_date": today - timedelta(days=300),
                "end_date": today + timedelta(days=795),
                "notice_period_days": 90,
                "cost_per_year": Decimal("9600.00"),
                "owner": owner,
                "notes": "36-month lease of ThinkPads.",
            },
            [a for a in ASSETS if a[2] == "Lenovo"],
            [],
        ),
        (
            "SOFTLINE-EA-2024",
            {
                "kind": Contract.Kind.LICENCE,
                "supplier": suppliers["Softline"],
                "start_date": today - timedelta(days=200),
                "end_date": today + timedelta(days=165),
                "notice_period_days": 60,
                "cost_per_year": Decimal("21000.00"),
                "owner": owner,
            },
            [],
            [],
        ),
    ]
    for reference, fields, assets, cis in plans:
        if Contract.objects.filter(reference=reference).exists():
            continue
        services.create_contract(
            actor,
            {
                "reference": reference,
                **fields,
                "assets": list(Asset.objects.filter(asset_tag__in=[a[0] for a in assets])),
                "configuration_items": [servers[name] for name in cis],
            },
        )
    licence_contract = Contract.objects.get(reference="SOFTLINE-EA-2024")
    for name, _, _, licences in SOFTWARE:
        for reference, quantity in licences:
            if Licence.objects.filter(software=software[name], reference=reference).exists():
                continue
            services.create_licence(
                actor,
                {
                    "software": software[name],
                    "reference": reference,
                    "quantity": quantity,
                    "contract": licence_contract,
                    "valid_from": licence_contract.start_date,
                    "valid_until": licence_contract.end_date,
                    "cost": Decimal("35.00") * quantity,
                },
            )


def load(context) -> None:
    actor = context.user("agent")
    suppliers = _suppliers(actor)
    made = _assets(context, actor, suppliers)
    servers, software = _cmdb(actor)
    _contracts(context, actor, suppliers, servers, software)
    context.log(f"Demo assets: {made} new, {Asset.objects.count()} in the register.")
