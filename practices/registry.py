"""The ITIL 4 practice registry: all 34 management practices with their purpose, and which
of them this platform supports and with what live figures.

Which are supported comes from the practice apps' ``PracticeConfig`` declarations (their
``practice``, ``practice_url`` and ``kpis``) in the kernel's registry; this module imports
none of them."""

from collections.abc import Callable
from dataclasses import dataclass

from itsm.core.practices import registry as practice_apps


@dataclass
class Practice:
    key: str
    name: str
    group: str
    purpose: str

    @property
    def url_name(self) -> str | None:
        """The page where the practice's work is done, if an app supports it."""
        return practice_apps.practice_url(self.key)

    @property
    def kpis(self) -> list[Callable]:
        return practice_apps.kpis(self.key)

    @property
    def supported(self) -> bool:
        return self.url_name is not None


GENERAL = "General management practices"
SERVICE = "Service management practices"
TECHNICAL = "Technical management practices"

_PRACTICES = [
    (
        GENERAL,
        "architecture",
        "Architecture management",
        "Provide an understanding of all the elements that make up the organization and how they interrelate, so it can achieve its current and future objectives.",
    ),
    (
        GENERAL,
        "continual_improvement",
        "Continual improvement",
        "Align the organization's practices and services with changing business needs through the ongoing improvement of products, services and practices.",
    ),
    (
        GENERAL,
        "information_security",
        "Information security management",
        "Protect the information needed by the organization to conduct its business: confidentiality, integrity and availability.",
    ),
    (
        GENERAL,
        "knowledge",
        "Knowledge management",
        "Maintain and improve the effective, efficient and convenient use of information and knowledge across the organization.",
    ),
    (
        GENERAL,
        "measurement_reporting",
        "Measurement and reporting",
        "Support good decision-making and continual improvement by decreasing the levels of uncertainty.",
    ),
    (
        GENERAL,
        "organizational_change",
        "Organizational change management",
        "Ensure that changes in an organization are smoothly and successfully implemented by managing the human aspects of the changes.",
    ),
    (
        GENERAL,
        "portfolio",
        "Portfolio management",
        "Ensure the organization has the right mix of programmes, projects, products and services to execute its strategy within its funding and resource constraints.",
    ),
    (
        GENERAL,
        "project",
        "Project management",
        "Ensure that all projects in the organization are successfully delivered.",
    ),
    (
        GENERAL,
        "relationship",
        "Relationship management",
        "Establish and nurture the links between the organization and its stakeholders at strategic and tactical levels.",
    ),
    (
        GENERAL,
        "risk",
        "Risk management",
        "Ensure that the organization understands and effectively handles risks.",
    ),
    (
        GENERAL,
        "service_financial",
        "Service financial management",
        "Support the organization's strategies and plans for service management by ensuring its financial resources and investments are used effectively.",
    ),
    (
        GENERAL,
        "strategy",
        "Strategy management",
        "Formulate the goals of the organization and adopt the courses of action and allocation of resources necessary for achieving them.",
    ),
    (
        GENERAL,
        "supplier",
        "Supplier management",
        "Ensure that the organization's suppliers and their performance are managed appropriately to support the seamless provision of quality products and services.",
    ),
    (
        GENERAL,
        "workforce_talent",
        "Workforce and talent management",
        "Ensure the organization has the right people with the appropriate skills and knowledge in the correct roles.",
    ),
    (
        SERVICE,
        "availability",
        "Availability management",
        "Ensure that services deliver agreed levels of availability to meet the needs of customers and users.",
    ),
    (
        SERVICE,
        "business_analysis",
        "Business analysis",
        "Analyse a business or some element of it, define its needs and recommend solutions that create value for stakeholders.",
    ),
    (
        SERVICE,
        "capacity_performance",
        "Capacity and performance management",
        "Ensure that services achieve agreed and expected performance, satisfying current and future demand cost-effectively.",
    ),
    (
        SERVICE,
        "change_enablement",
        "Change enablement",
        "Maximize the number of successful IT changes by ensuring that risks are assessed, authorizing changes to proceed, and managing the change schedule.",
    ),
    (
        SERVICE,
        "incident",
        "Incident management",
        "Minimize the negative impact of incidents by restoring normal service operation as quickly as possible.",
    ),
    (
        SERVICE,
        "it_asset",
        "IT asset management",
        "Plan and manage the full lifecycle of all IT assets, to maximize value, control costs, manage risks and meet regulatory and contractual requirements.",
    ),
    (
        SERVICE,
        "monitoring_event",
        "Monitoring and event management",
        "Systematically observe services and service components, and record and report selected changes of state identified as events.",
    ),
    (
        SERVICE,
        "problem",
        "Problem management",
        "Reduce the likelihood and impact of incidents by identifying actual and potential causes of incidents, and managing workarounds and known errors.",
    ),
    (
        SERVICE,
        "release",
        "Release management",
        "Make new and changed services and features available for use.",
    ),
    (
        SERVICE,
        "service_catalogue",
        "Service catalogue management",
        "Provide a single source of consistent information on all services and service offerings, available to the relevant audience.",
    ),
    (
        SERVICE,
        "service_configuration",
        "Service configuration management",
        "Ensure that accurate and reliable information about the configuration of services, and the CIs that support them, is available when and where it is needed.",
    ),
    (
        SERVICE,
        "service_continuity",
        "Service continuity management",
        "Ensure that the availability and performance of a service are maintained at a sufficient level in the event of a disaster.",
    ),
    (
        SERVICE,
        "service_design",
        "Service design",
        "Design products and services that are fit for purpose, fit for use, and can be delivered by the organization and its ecosystem.",
    ),
    (
        SERVICE,
        "service_desk",
        "Service desk",
        "Capture demand for incident resolution and service requests; the entry point and single point of contact for all users.",
    ),
    (
        SERVICE,
        "service_level",
        "Service level management",
        "Set clear business-based targets for service performance, so that delivery can be assessed, monitored and managed against them.",
    ),
    (
        SERVICE,
        "service_request",
        "Service request management",
        "Support the agreed quality of a service by handling all pre-defined, user-initiated service requests effectively and in a user-friendly way.",
    ),
    (
        SERVICE,
        "service_validation_testing",
        "Service validation and testing",
        "Ensure that new or changed products and services meet defined requirements.",
    ),
    (
        TECHNICAL,
        "deployment",
        "Deployment management",
        "Move new or changed hardware, software, documentation, processes or any other component to live environments.",
    ),
    (
        TECHNICAL,
        "infrastructure_platform",
        "Infrastructure and platform management",
        "Oversee the infrastructure and platforms used by the organization.",
    ),
    (
        TECHNICAL,
        "software_development",
        "Software development and management",
        "Ensure that applications meet stakeholder needs in functionality, reliability, maintainability, compliance and auditability.",
    ),
]

PRACTICES: dict[str, Practice] = {
    key: Practice(key=key, name=name, group=group, purpose=purpose)
    for group, key, name, purpose in _PRACTICES
}
GROUPS = [GENERAL, SERVICE, TECHNICAL]


def by_group() -> list[tuple[str, list[Practice]]]:
    return [(group, [p for p in PRACTICES.values() if p.group == group]) for group in GROUPS]
