"""Screens of release management: the release list, a release's page (its release notes
rendered sanitised, the changes it carries, its CIs; deployment management adds its
deployments as a record panel) and planning a release. Every write goes through ``services``."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from changes.models import Change
from cmdb.models import ConfigurationItem
from itsm.api.screens import Column, RecordScreens
from itsm.core.markdown import render_markdown

from . import services
from .api.serializers import ReleaseSerializer
from .api.views import release_queryset
from .filters import ORDERING_FIELDS, SAVED_VIEWS, ReleaseFilterSet
from .forms import ReleaseForm
from .models import Release, ReleaseType
from .workflows import ReleaseState


class ReleaseScreens(RecordScreens):
    queryset = release_queryset()
    lookup_value_regex = r"RLS\d{7,}"
    serializer_class = ReleaseSerializer
    record_services = services
    edit_form = ReleaseForm
    page_template = "releases/detail.html"
    context_object_name = "release"
    transition_fields = ("closure_notes",)
    comment_messages = (_("Added."), _("Work note added."))
    create_template = "releases/create.html"
    create_form = ReleaseForm

    filterset_class = ReleaseFilterSet
    ordering_fields = ORDERING_FIELDS
    list_template = "releases/list.html"
    rows_template = "releases/_rows.html"
    rows_name = "releases"
    empty_text = _("No releases match.")
    columns = (
        Column(_("Number"), "number"),
        Column(_("Title")),
        Column(_("Version"), "release_version"),
        Column(_("Type")),
        Column(_("State"), "state"),
        Column(_("Planned")),
        Column(_("Manager")),
        Column(_("Updated"), "updated_at"),
    )
    saved_views = SAVED_VIEWS
    default_view = "all_open"

    def list_queryset(self):
        """The rows show no CIs or changes: nothing prefetched."""
        return Release.objects.visible_to(self.request.user).select_related("release_manager")

    def list_context(self, params, links=None, **declared):
        context = super().list_context(params, links, **declared)
        context.update(states=ReleaseState.choices, types=ReleaseType.choices)
        return context

    def page_context(self, record, **extra):
        extra.setdefault("form", ReleaseForm(instance=record))
        return super().page_context(
            record,
            release_notes=render_markdown(record.release_notes),
            changes_list=Change.objects.filter(releases=record)
            .select_related("model")
            .order_by("number"),
            configuration_items=ConfigurationItem.objects.filter(releases=record)
            .select_related("ci_class")
            .order_by("name"),
            **extra,
        )

    def create_message(self, obj) -> str:
        return gettext("%(number)s planned.") % {"number": obj.number}
