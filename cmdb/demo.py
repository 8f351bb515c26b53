"""Demo CMDB: four business services and what they run on, down to the hosts, storage
and network, with a cycle between the core switches (as real networks have)."""

from cmdb import services
from cmdb.models import CIClass, ConfigurationItem, DataSource, RelationshipType

# name: (class, owner team, support team, location, attributes)
ITEMS = {
    "E-mail": ("business_service", "Applications", "Service Desk", None, {"service_level": "gold"}),
    "ERP": ("business_service", "Applications", "Applications", None, {"service_level": "gold"}),
    "Remote access (VPN)": ("business_service", "Network", "Network", None, {"service_level": "silver"}),
    "Office Wi-Fi": ("business_service", "Network", "Network", None, {"service_level": "silver"}),
    "Exchange": ("application", "Applications", "Applications", None, {"vendor": "Microsoft", "version": "2019 CU14"}),
    "SAP S/4HANA": ("application", "Applications", "Applications", None, {"vendor": "SAP", "version": "2023"}),
    "erp-db-01": ("database", "Applications", "Applications", "Berlin HQ", {"engine": "postgresql", "instance": "erp", "version": "16"}),
    "mail-01": ("virtual_machine", "Applications", "Applications", "Berlin HQ", {"hostname": "mail-01", "domain": "corp.example", "ip_address": "10.10.1.21", "operating_system": "Windows Server 2022"}),
    "mail-02": ("virtual_machine", "Applications", "Applications", "Berlin HQ", {"hostname": "mail-02", "domain": "corp.example", "ip_address": "10.10.1.22", "operating_system": "Windows Server 2022"}),
    "erp-app-01": ("virtual_machine", "Applications", "Applications", "Berlin HQ", {"hostname": "erp-app-01", "domain": "corp.example", "ip_address": "10.10.2.11", "operating_system": "SUSE Linux 15"}),
    "esx-ber-01": ("server", "Applications", "Applications", "Berlin HQ", {"hostname": "esx-ber-01", "domain": "corp.example", "serial_number": "CZ2231XK01", "manufacturer": "HPE", "model": "ProLiant DL380 Gen11", "cpu_count": 64, "memory_gb": 1024}),
    "esx-ber-02": ("server", "Applications", "Applications", "Berlin HQ", {"hostname": "esx-ber-02", "domain": "corp.example", "serial_number": "CZ2231XK02", "manufacturer": "HPE", "model": "ProLiant DL380 Gen11", "cpu_count": 64, "memory_gb": 1024}),
    "san-ber-01": ("storage", "Applications", "Applications", "Berlin HQ", {"serial_number": "NTAP-77812", "manufacturer": "NetApp", "model": "AFF A400", "capacity_tb": 240}),
    "sw-core-ber-1": ("network_device", "Network", "Network", "Berlin HQ", {"hostname": "sw-core-ber-1", "domain": "corp.example", "serial_number": "FOC2219A1", "manufacturer": "Cisco", "ports": 48}),
    "sw-core-ber-2": ("network_device", "Network", "Network", "Berlin HQ", {"hostname": "sw-core-ber-2", "domain": "corp.example", "serial_number": "FOC2219A2", "manufacturer": "Cisco", "ports": 48}),
    "vpn-gw-01": ("network_device", "Network", "Network", "Berlin HQ", {"hostname": "vpn-gw-01", "domain": "corp.example", "serial_number": "FGT60F0001", "manufacturer": "Fortinet"}),
    "wlc-berlin-01": ("network_device", "Network", "Network", "Berlin HQ", {"hostname": "wlc-berlin-01", "domain": "corp.example", "serial_number": "FCW2301W01", "manufacturer": "Cisco"}),
    "ap-london-01": ("network_device", "Network", "Network", "London Office", {"hostname": "ap-london-01", "domain": "corp.example", "serial_number": "FCW2301A07", "manufacturer": "Cisco"}),
    "prn-berlin-2f": ("hardware", "Service Desk", "Service Desk", "Berlin HQ", {"serial_number": "HP-M479-2F", "manufacturer": "HP", "model": "Color LaserJet M479"}),
    "Exchange runbook": ("document", "Applications", "Applications", None, {"url": "https://wiki.example.com/runbooks/exchange"}),
}  # fmt: skip

RELATIONSHIPS = [
    ("E-mail", "depends_on", "Exchange"),
    ("ERP", "depends_on", "SAP S/4HANA"),
    ("Remote access (VPN)", "depends_on", "vpn-gw-01"),
    ("Office Wi-Fi", "depends_on", "wlc-berlin-01"),
    ("Exchange", "runs_on", "mail-01"),
    ("Exchange", "runs_on", "mail-02"),
    ("SAP S/4HANA", "runs_on", "erp-app-01"),
    ("SAP S/4HANA", "depends_on", "erp-db-01"),
    ("erp-db-01", "runs_on", "esx-ber-02"),
    ("mail-01", "runs_on", "esx-ber-01"),
    ("mail-02", "runs_on", "esx-ber-02"),
    ("erp-app-01", "runs_on", "esx-ber-01"),
    ("esx-ber-01", "depends_on", "san-ber-01"),
    ("esx-ber-02", "depends_on", "san-ber-01"),
    ("esx-ber-01", "connects_to", "sw-core-ber-1"),
    ("esx-ber-02", "connects_to", "sw-core-ber-2"),
    ("sw-core-ber-1", "connects_to", "sw-core-ber-2"),
    ("sw-core-ber-2", "connects_to", "sw-core-ber-1"),
    ("vpn-gw-01", "connects_to", "sw-core-ber-1"),
    ("wlc-berlin-01", "connects_to", "sw-core-ber-2"),
    ("Exchange runbook", "depends_on", "Exchange"),
]


def load(context) -> None:
    DataSource.objects.get_or_create(
        key="discovery",
        defaults={
            "name": "Network discovery",
            "trusted_fields": [
                "status",
                "hostname",
                "domain",
                "ip_address",
                "operating_system",
                "cpu_count",
                "memory_gb",
                "serial_number",
                "manufacturer",
                "model",
            ],
        },
    )
    DataSource.objects.get_or_create(key="csv", defaults={"name": "CSV upload"})
    existing = {ci.name: ci for ci in ConfigurationItem.objects.filter(name__in=ITEMS)}
    admin = context.user("admin")
    made = 0
    for name, (class_key, owner, support, location, attributes) in ITEMS.items():
        if name in existing:
            continue
        existing[name] = services.create_ci(
            admin,
            ci_class=CIClass.objects.get(key=class_key),
            name=name,
            attributes=attributes,
            owner_team=context.team(owner),
            support_team=context.team(support),
            location=context.locations.get(location),
        )
        made += 1
    types = {t.key: t for t in RelationshipType.objects.all()}
    related = 0
    for source, key, target in RELATIONSHIPS:
        a, b = existing[source], existing[target]
        if a.outgoing_relationships.filter(type=types[key], target=b).exists():
            continue
        services.relate(admin, a, types[key], b)
        related += 1
    context.shared.setdefault("configuration_items", {}).update(existing)
    context.log(f"CMDB: {made} CIs and {related} relationships created.")
