"""The ITIL 4 practice registry: all 34 management practices with their purpose, and which
of them this platform supports and with what live figures.

Which are supported comes from the practice apps' ``PracticeConfig`` declarations (their
``practice``, ``practice_url`` and ``kpis``) in the kernel's registry; this module imports
none of them."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from itsm.core.practices import registry as practice_apps


@dataclass
class Practice:
    key: str
    #: the name and purpose as translations, read in the active language (``name``…)
    name_text: Promise
    group: Promise
    purpose_text: Promise

    @property
    def name(self) -> str:
        return str(self.name_text)

    @property
    def purpose(self) -> str:
        return str(self.purpose_text)

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


GENERAL = _("General management practices")
SERVICE = _("Service management practices")
TECHNICAL = _("Technical management practices")

_PRACTICES = [
    (
        GENERAL,
        "architecture",
        _("Architecture management"),
        _(
            "Provide an understanding of all the elements that make up the organization and how they interrelate, so it can achieve its current and future objectives."
        ),
    ),
    (
        GENERAL,
        "continual_improvement",
        _("Continual improvement"),
        _(
            "Align the organization's practices and services with changing business needs through the ongoing improvement of products, services and practices."
        ),
    ),
    (
        GENERAL,
        "information_security",
        _("Information security management"),
        _(
            "Protect the information needed by the organization to conduct its business: confidentiality, integrity and availability."
        ),
    ),
    (
        GENERAL,
        "knowledge",
        _("Knowledge management"),
        _(
            "Maintain and improve the effective, efficient and convenient use of information and knowledge across the organization."
        ),
    ),
    (
        GENERAL,
        "measurement_reporting",
        _("Measurement and reporting"),
        _(
            "Support good decision-making and continual improvement by decreasing the levels of uncertainty."
        ),
    ),
    (
        GENERAL,
        "organizational_change",
        _("Organizational change management"),
        _(
            "Ensure that changes in an organization are smoothly and successfully implemented by managing the human aspects of the changes."
        ),
    ),
    (
        GENERAL,
        "portfolio",
        _("Portfolio management"),
        _(
            "Ensure the organization has the right mix of programmes, projects, products and services to execute its strategy within its funding and resource constraints."
        ),
    ),
    (
        GENERAL,
        "project",
        _("Project management"),
        _("Ensure that all projects in the organization are successfully delivered."),
    ),
    (
        GENERAL,
        "relationship",
        _("Relationship management"),
        _(
            "Establish and nurture the links between the organization and its stakeholders at strategic and tactical levels."
        ),
    ),
    (
        GENERAL,
        "risk",
        _("Risk management"),
        _("Ensure that the organization understands and effectively handles risks."),
    ),
    (
        GENERAL,
        "service_financial",
        _("Service financial management"),
        _(
            "Support the organization's strategies and plans for service management by ensuring its financial resources and investments are used effectively."
        ),
    ),
    (
        GENERAL,
        "strategy",
        _("Strategy management"),
        _(
            "Formulate the goals of the organization and adopt the courses of action and allocation of resources necessary for achieving them."
        ),
    ),
    (
        GENERAL,
        "supplier",
        _("Supplier management"),
        _(
            "Ensure that the organization's suppliers and their performance are managed appropriately to support the seamless provision of quality products and services."
        ),
    ),
    (
        GENERAL,
        "workforce_talent",
        _("Workforce and talent management"),
        _(
            "Ensure the organization has the right people with the appropriate skills and knowledge in the correct roles."
        ),
    ),
    (
        SERVICE,
        "availability",
        _("Availability management"),
        _(
            "Ensure that services deliver agreed levels of availability to meet the needs of customers and users."
        ),
    ),
    (
        SERVICE,
        "business_analysis",
        _("Business analysis"),
        _(
            "Analyse a business or some element of it, define its needs and recommend solutions that create value for stakeholders."
        ),
    ),
    (
        SERVICE,
        "capacity_performance",
        _("Capacity and performance management"),
        _(
            "Ensure that services achieve agreed and expected performance, satisfying current and future demand cost-effectively."
        ),
    ),
    (
        SERVICE,
        "change_enablement",
        _("Change enablement"),
        _(
            "Maximize the number of successful IT changes by ensuring that risks are assessed, authorizing changes to proceed, and managing the change schedule."
        ),
    ),
    (
        SERVICE,
        "incident",
        _("Incident management"),
        _(
            "Minimize the negative impact of incidents by restoring normal service operation as quickly as possible."
        ),
    ),
    (
        SERVICE,
        "it_asset",
        _("IT asset management"),
        _(
            "Plan and manage the full lifecycle of all IT assets, to maximize value, control costs, manage risks and meet regulatory and contractual requirements."
        ),
    ),
    (
        SERVICE,
        "monitoring_event",
        _("Monitoring and event management"),
        _(
            "Systematically observe services and service components, and record and report selected changes of state identified as events."
        ),
    ),
    (
        SERVICE,
        "problem",
        _("Problem management"),
        _(
            "Reduce the likelihood and impact of incidents by identifying actual and potential causes of incidents, and managing workarounds and known errors."
        ),
    ),
    (
        SERVICE,
        "release",
        _("Release management"),
        _("Make new and changed services and features available for use."),
    ),
    (
        SERVICE,
        "service_catalogue",
        _("Service catalogue management"),
        _(
            "Provide a single source of consistent information on all services and service offerings, available to the relevant audience."
        ),
    ),
    (
        SERVICE,
        "service_configuration",
        _("Service configuration management"),
        _(
            "Ensure that accurate and reliable information about the configuration of services, and the CIs that support them, is available when and where it is needed."
        ),
    ),
    (
        SERVICE,
        "service_continuity",
        _("Service continuity management"),
        _(
            "Ensure that the availability and performance of a service are maintained at a sufficient level in the event of a disaster."
        ),
    ),
    (
        SERVICE,
        "service_design",
        _("Service design"),
        _(
            "Design products and services that are fit for purpose, fit for use, and can be delivered by the organization and its ecosystem."
        ),
    ),
    (
        SERVICE,
        "service_desk",
        _("Service desk"),
        _(
            "Capture demand for incident resolution and service requests; the entry point and single point of contact for all users."
        ),
    ),
    (
        SERVICE,
        "service_level",
        _("Service level management"),
        _(
            "Set clear business-based targets for service performance, so that delivery can be assessed, monitored and managed against them."
        ),
    ),
    (
        SERVICE,
        "service_request",
        _("Service request management"),
        _(
            "Support the agreed quality of a service by handling all pre-defined, user-initiated service requests effectively and in a user-friendly way."
        ),
    ),
    (
        SERVICE,
        "service_validation_testing",
        _("Service validation and testing"),
        _("Ensure that new or changed products and services meet defined requirements."),
    ),
    (
        TECHNICAL,
        "deployment",
        _("Deployment management"),
        _(
            "Move new or changed hardware, software, documentation, processes or any other component to live environments."
        ),
    ),
    (
        TECHNICAL,
        "infrastructure_platform",
        _("Infrastructure and platform management"),
        _("Oversee the infrastructure and platforms used by the organization."),
    ),
    (
        TECHNICAL,
        "software_development",
        _("Software development and management"),
        _(
            "Ensure that applications meet stakeholder needs in functionality, reliability, maintainability, compliance and auditability."
        ),
    ),
]

PRACTICES: dict[str, Practice] = {
    key: Practice(key=key, name_text=name, group=group, purpose_text=purpose)
    for group, key, name, purpose in _PRACTICES
}
GROUPS = [GENERAL, SERVICE, TECHNICAL]


def by_group() -> list[tuple[str, list[Practice]]]:
    return [(group, [p for p in PRACTICES.values() if p.group == group]) for group in GROUPS]
