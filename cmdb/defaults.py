"""The CI classes and relationship types every installation starts with. Administrators
add their own classes and attributes in the admin screens; these are only a start."""

# key, name, parent, flags, identification rules, attributes (key, label, type, extra)
CLASSES = [
    ("ci", "Configuration item", None, {}, [], []),
    (
        "business_service",
        "Business service",
        "ci",
        {"is_service": True},
        [["name"]],
        [("service_level", "Service level", "choice", {"choices": ["gold", "silver", "bronze"]})],
    ),
    (
        "application",
        "Application",
        "ci",
        {},
        [["name"]],
        [
            ("vendor", "Vendor", "text", {}),
            ("version", "Version", "text", {}),
            ("url", "URL", "url", {}),
        ],
    ),
    (
        "database",
        "Database",
        "ci",
        {},
        [["name", "instance"]],
        [
            ("engine", "Engine", "choice", {"choices": ["postgresql", "mysql", "oracle", "mssql"]}),
            ("instance", "Instance", "text", {}),
            ("version", "Version", "text", {}),
        ],
    ),
    (
        "hardware",
        "Hardware",
        "ci",
        {"is_hardware": True},
        [["serial_number"]],
        [
            ("serial_number", "Serial number", "text", {"unique": True}),
            ("manufacturer", "Manufacturer", "text", {}),
            ("model", "Model", "text", {}),
        ],
    ),
    (
        "server",
        "Server",
        "hardware",
        {"is_hardware": True},
        [["hostname", "domain"]],
        [
            ("hostname", "Host name", "text", {"required": True}),
            ("domain", "Domain", "text", {}),
            ("ip_address", "IP address", "ip_address", {}),
            ("operating_system", "Operating system", "text", {}),
            ("cpu_count", "CPUs", "integer", {}),
            ("memory_gb", "Memory (GB)", "decimal", {}),
        ],
    ),
    (
        "network_device",
        "Network device",
        "hardware",
        {"is_hardware": True},
        [["hostname", "domain"]],
        [
            ("hostname", "Host name", "text", {"required": True}),
            ("domain", "Domain", "text", {}),
            ("ip_address", "Management IP address", "ip_address", {}),
            ("ports", "Ports", "integer", {}),
        ],
    ),
    (
        "storage",
        "Storage",
        "hardware",
        {"is_hardware": True},
        [],
        [("capacity_tb", "Capacity (TB)", "decimal", {})],
    ),
    (
        "virtual_machine",
        "Virtual machine",
        "ci",
        {"is_hardware": True},
        [["cloud_id"], ["hostname", "domain"]],
        [
            ("hostname", "Host name", "text", {"required": True}),
            ("domain", "Domain", "text", {}),
            ("cloud_id", "Cloud instance id", "text", {}),
            ("ip_address", "IP address", "ip_address", {}),
            ("operating_system", "Operating system", "text", {}),
        ],
    ),
    (
        "software",
        "Software",
        "ci",
        {"is_software": True},
        [["publisher", "product", "version"]],
        [
            ("publisher", "Publisher", "text", {"required": True}),
            ("product", "Product", "text", {"required": True}),
            ("version", "Version", "text", {}),
        ],
    ),
    (
        "document",
        "Document",
        "ci",
        {},
        [["url"]],
        [("url", "Location (URL)", "url", {}), ("document_owner", "Owner", "text", {})],
    ),
]

# key, name, reverse name, how an outage spreads
RELATIONSHIP_TYPES = [
    ("depends_on", "depends on", "used by", "to_source"),
    ("runs_on", "runs on", "hosts", "to_source"),
    ("installed_on", "installed on", "has installed", "to_source"),
    # The source reaches the network through the target: a switch's outage cuts off what
    # connects to it, not the other way round. A redundant pair connects both ways.
    ("connects_to", "connects to", "connects to", "to_source"),
    ("contains", "contains", "part of", "to_target"),
]


def install(apps) -> None:
    """Create what is missing (by key); never changes what an administrator edited."""
    CIClass = apps.get_model("cmdb", "CIClass")
    AttributeDefinition = apps.get_model("cmdb", "AttributeDefinition")
    RelationshipType = apps.get_model("cmdb", "RelationshipType")
    made = {}
    for key, name, parent, flags, rules, attributes in CLASSES:
        ci_class, created = CIClass.objects.get_or_create(
            key=key,
            defaults={
                "name": name,
                "parent": made.get(parent),
                "identification_rules": rules,
                **flags,
            },
        )
        made[key] = ci_class
        if not created:
            continue
        for order, (attr, label, type_, extra) in enumerate(attributes):
            AttributeDefinition.objects.create(
                ci_class=ci_class, key=attr, label=label, type=type_, order=order, **extra
            )
    for key, name, reverse, spreads in RELATIONSHIP_TYPES:
        RelationshipType.objects.get_or_create(
            key=key, defaults={"name": name, "reverse_name": reverse, "outage_spreads": spreads}
        )
