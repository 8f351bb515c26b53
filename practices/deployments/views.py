"""Screens of deployment management: the deployment list and a deployment's page (its
gate as last asked, its pipeline, its change and its CIs), recording a deployment by
hand; and the deployments block on a release's page."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cmdb.models import ConfigurationItem, Environment
from itsm.api.screens import Column, RecordScreens
from practices.releases.models import Release

from . import services
from .api.serializers import DeploymentSerializer
from .api.views import deployment_queryset
from .filters import ORDERING_FIELDS, SAVED_VIEWS, DeploymentFilterSet
from .forms import DeploymentForm
from .models import Deployment, Strategy
from .workflows import DeploymentState


class DeploymentScreens(RecordScreens):
    queryset = deployment_queryset()
    lookup_value_regex = r"DPL\d{7,}"
    serializer_class = DeploymentSerializer
    record_services = services
    edit_form = DeploymentForm
    page_template = "deployments/detail.html"
    context_object_name = "deployment"
    comment_messages = (_("Added."), _("Work note added."))
    create_template = "deployments/create.html"
    create_form = DeploymentForm

    filterset_class = DeploymentFilterSet
    ordering_fields = ORDERING_FIELDS
    list_template = "deployments/list.html"
    rows_template = "deployments/_rows.html"
    rows_name = "deployments"
    empty_text = _("No deployments match.")
    columns = (
        Column(_("Number"), "number"),
        Column(_("What")),
        Column(_("Environment"), "environment"),
        Column(_("Strategy")),
        Column(_("Status"), "state"),
        Column(_("Gate")),
        Column(_("Change")),
        Column(_("By")),
        Column(_("Updated"), "updated_at"),
    )
    saved_views = SAVED_VIEWS
    default_view = "open"

    def list_queryset(self):
        """The rows show no CIs: nothing prefetched."""
        return Deployment.objects.visible_to(self.request.user).select_related(
            "change", "deployed_by"
        )

    def list_context(self, params, links=None, **declared):
        context = super().list_context(params, links, **declared)
        context.update(
            states=DeploymentState.choices,
            environments=Environment.choices,
            strategies=Strategy.choices,
        )
        return context

    def page_context(self, record, **extra):
        extra.setdefault("form", DeploymentForm(instance=record))
        return super().page_context(
            record,
            configuration_items=ConfigurationItem.objects.filter(deployments=record)
            .select_related("ci_class")
            .order_by("name"),
            **extra,
        )

    def create_initial(self) -> dict:
        """``?release=RLS…``: a deployment of that release."""
        number = self.request.GET.get("release", "")
        release = Release.objects.visible_to(self.request.user).filter(number=number).first()
        if release is None:
            return {}
        return {"release": release.number, "software_version": release.release_version}

    def create_message(self, obj) -> str:
        return gettext("%(number)s recorded.") % {"number": obj.number}


def release_panel(request, release) -> dict:
    """The deployments of a release (one query)."""
    return {
        "deployments": list(
            Deployment.objects.filter(release=release)
            .select_related("change")
            .order_by("-created_at", "-id")[:50]
        )
    }
