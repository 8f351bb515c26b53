from django.utils.translation import gettext_lazy as _

from itsm.core.practices import (
    HomePanel,
    PortalPanel,
    PortalSource,
    PracticeConfig,
    WorkQueue,
    WorkspaceSection,
)


class CatalogueConfig(PracticeConfig):
    name = "catalogue"
    verbose_name = _("Service catalogue")

    practice = "service_request"
    search_sources = "catalogue.search.sources"
    practice_url = "fulfilment:queue"
    more_practices = {"service_catalogue": "catalogue:catalogue"}
    section = WorkspaceSection(
        _("Fulfilment tasks"),
        "fulfilment:queue",
        order=20,
        practice=_("Service request management"),
        links=((_("Service requests"), "fulfilment:request-list", "view=open"),),
        counted_links=((_("Approvals"), "fulfilment:approvals", "fulfilment:approvals-count"),),
    )
    work_queues = (
        WorkQueue(_("Fulfilment tasks"), "catalogue.FulfilmentTask", "fulfilment:queue", order=20),
        WorkQueue(
            _("Service requests"), "catalogue.ServiceRequest", "fulfilment:request-list", order=25
        ),
    )
    home_panels = (
        HomePanel(
            "catalogue.approvals",
            "catalogue/home_approvals.html",
            "catalogue.home.approvals",
            order=20,
        ),
    )
    portal_sources = (
        PortalSource(
            key="requests",
            label=_("My requests"),
            my_records="catalogue.views.my_requests",
            detail_url_name="catalogue:request",
            order=20,
            singular=_("Request"),
            waiting="catalogue.views.portal_waiting",
        ),
    )
    portal_panels = (
        PortalPanel(
            key="catalogue",
            template="catalogue/portal_home_panel.html",
            context="catalogue.views.home_panel",
            order=10,
        ),
    )
    portal_waiting = "catalogue.views.approvals_waiting"
    sla_profiles = {"catalogue.ServiceRequest": "catalogue.sla.PROFILE"}
    urls = ("catalogue.workspace_urls", "catalogue.urls")
    enums = {
        "RequestStateEnum": "catalogue.workflows.RequestState",
        "TaskStateEnum": "catalogue.workflows.TaskState",
    }
    demo = "catalogue.demo"
