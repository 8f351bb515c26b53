"""Sample arguments for every URL: the row a URL names, taken from the matrix's data."""

from django.urls import reverse

from catalogue.models import Approval, CatalogueItem
from changes.models import AgendaItem, CabMeeting, Change, ChangeApproval, ScheduleWindow
from cmdb.models import ConfigurationItem, ImportRun, Relationship
from incidents.models import Incident
from itsm.api.models import ApiToken
from itsm.core.models import Attachment
from practices.knowledge.models import Article, ArticleVersion
from practices.service_desk.models import SavedView
from practices.service_level.models import Timer
from problems.models import Cause, Problem, WorkaroundUse

from . import surface

#: The model a function view's URL names (views without a queryset to tell).
FUNCTION_VIEW_MODELS = {
    "saved-view-delete": SavedView,
    "service-level:breach-reason": Timer,
    "fulfilment:decide": Approval,
    "catalogue:decide": Approval,
    "catalogue:item": CatalogueItem,
    "cmdb:import-run": ImportRun,
    "cmdb:import-apply": ImportRun,
    "cmdb:edit": ConfigurationItem,
    "cmdb:map-data": ConfigurationItem,
    "knowledge:edit": Article,
    "knowledge:diff": Article,
    "knowledge:feedback": Article,
    "knowledge:portal-article": Article,
    "knowledge:portal-feedback": Article,
    "knowledge:portal-deflect": Article,
    "incidents:download": Attachment,
    "api-attachment-download": Attachment,
    "problems:rate-workaround": WorkaroundUse,
    "problems:portal-known-error": Problem,
    "problems:portal-known-error-solved": Problem,
    "changes:approval-decide": ChangeApproval,
    "changes:lift": ScheduleWindow,
    "changes:slots": Change,
    "my-token-revoke": ApiToken,
}
for _name in ("detail", "build", "add", "remove", "move", "start", "decide", "minutes", "send"):
    FUNCTION_VIEW_MODELS[f"changes:cab-{_name}"] = CabMeeting

#: Rows a URL names besides its main one: (model, attribute); ``approximate``: the row may
#: not belong to the main row, so an allowed caller may get a 404.
SUB_ROWS = {
    "cause_id": Cause,
    "use_id": WorkaroundUse,
    "item_id": AgendaItem,
    "item_pk": AgendaItem,
    "relationship_id": Relationship,
    "version_number": ArticleVersion,
}

#: Which rows of a model make the best sample (one an end user may read, where any is).
PREFERRED = {
    Article: lambda qs: qs.filter(published_number__isnull=False).exclude(state="retired"),
    Problem: lambda qs: qs.public_known_errors(),
    Timer: lambda qs: qs.filter(breached=True),
}


def sample_row(data, model):
    if model in data.owned:
        return data.owned[model]["a"]
    queryset = model._default_manager.order_by("pk")
    if model in PREFERRED:
        preferred = PREFERRED[model](queryset).first()
        if preferred is not None:
            return preferred
    return queryset.first()


class Sample:
    """A URL filled in for one endpoint: ``url``, the row it names (``row``), and whether
    its arguments are only approximate (a sub-row that may not belong to the row)."""

    def __init__(self, url, row=None, approximate=False):
        self.url, self.row, self.approximate = url, row, approximate


def _value(data, endpoint, name, model):
    """(value, row, approximate) for one URL argument."""
    view_class = endpoint.view_class
    lookup_kwarg = getattr(view_class, "lookup_url_kwarg", None) or getattr(
        view_class, "lookup_field", None
    )
    admin = getattr(endpoint.callback, "model_admin", None)
    if name == "object_id" and admin is not None:
        row = admin.model._default_manager.order_by("pk").first()
        return (row.pk if row else 999999), row, row is None
    if name == "app_label":
        return "incidents", None, False
    if name == "url":
        return "no-such-page/", None, True
    if name == "link_id":
        link = data.extra["link"]
        return link.pk, link, True
    if name == "username":
        return data.user("end_user_a").username, data.user("end_user_a"), False
    if name == "kind":
        return "people", None, False
    if name == "verb":
        return "review", None, True
    if name in SUB_ROWS:
        row = SUB_ROWS[name]._default_manager.order_by("pk").first()
        value = getattr(row, "number", None) if name == "version_number" else None
        return (value or (row.pk if row else 999999)), row, True
    if name == "incident":
        row = data.owned[Incident]["a"]
        return row.number, row, True
    if model is None:
        return 999999, None, True
    row = sample_row(data, model)
    if row is None:
        return 999999, None, True
    if name == lookup_kwarg and getattr(view_class, "lookup_field", None):
        attribute = view_class.lookup_field
    else:
        attribute = "number" if name == "number" else ("asset_tag" if name == "tag" else "pk")
    return getattr(row, attribute), row, False


#: URLs whose sample is a particular row of their model (by its ``data.extra`` key).
SAMPLE_ROWS = {
    "article-publish": "article_in_review",
    "article-send-back": "article_in_review",
}


def sample(data, endpoint: surface.Endpoint) -> Sample:
    model = surface.model_of(endpoint) or FUNCTION_VIEW_MODELS.get(endpoint.name)
    if endpoint.name in SAMPLE_ROWS:
        row = data.extra[SAMPLE_ROWS[endpoint.name]]
        return Sample(endpoint.route.replace("{number}", row.number), row)
    kwargs, main_row, approximate = {}, None, False
    for name in endpoint.arg_names:
        value, row, rough = _value(data, endpoint, name, model)
        kwargs[name] = value
        approximate = approximate or rough
        if main_row is None and not rough:
            main_row = row
    if endpoint.kind == "api":
        url = endpoint.route
        for name, value in kwargs.items():
            url = url.replace("{" + name + "}", str(value))
    elif endpoint.name != endpoint.route:
        url = reverse(endpoint.name, kwargs=kwargs)
    else:
        url = "/" + endpoint.route
        for name, value in kwargs.items():
            url = url.replace(f"<path:{name}>", str(value)).replace(f"(?P<{name}>.*)", str(value))
    return Sample(url, main_row, approximate)
