"""Screens of service configuration management in the agent workspace: the CI list, a CI's
page (attributes, relationships, impact, dependencies, open work, history), the CI form,
the service map and the CSV import. Every write goes through ``services`` or ``imports``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.accounts.decorators import agent_required
from itsm.accounts.models import Team
from itsm.api.screens import Column, TrackedScreens
from itsm.core.services import StaleVersion
from itsm.core.views import is_htmx, parse_id, posted_version

from . import impact, services
from .attributes import Schemas
from .filters import ATTRIBUTE_PREFIX, NAME_ORDERING, ConfigurationItemFilterSet
from .forms import CIForm, ImportForm, RelationshipForm, add_service_errors
from .models import (
    KEY,
    AttributeDefinition,
    CIClass,
    ConfigurationItem,
    DataSource,
    Environment,
    ImportRun,
    Relationship,
    RelationshipType,
    Status,
)

#: ``name`` sorts as people read names, whatever their case (``sort_name``).
ORDERING_FIELDS = ("sort_name", "status", "environment", "updated_at", "created_at")
#: Depths the impact panels offer; ``None`` is the whole chain.
DEPTHS = {"1": 1, "2": 2, "3": 3, "all": None}
#: Rows an impact or dependency panel lists (the services are always all named).
PANEL_ROWS = 100
HISTORY_ROWS = 50
MAP_DEPTHS = (1, 2, 3, 4)
MAP_LIMIT = 300
#: Related records a CI page shows when the relation exists on the model (later practices
#: add them): (relation name, heading, open states as a dotted path or None for recent).
RECORD_PANELS = (
    ("incidents", _("Open incidents"), "incidents.workflows.IncidentState.OPEN"),
    ("problems", _("Problems"), None),
    ("changes", _("Recent changes"), None),
)


def _items(user):
    return ConfigurationItem.objects.visible_to(user)


def _get(user, pk) -> ConfigurationItem:
    return get_object_or_404(
        _items(user).select_related("ci_class", "owner_team", "support_team", "location"), pk=pk
    )


# List ---------------------------------------------------------------------------------------


@agent_required
def lookup(request):
    """Suggestions for a CI field (a ``<datalist>``'s options), by name."""
    term = (request.GET.get("q") or request.GET.get("target") or "").strip()
    items = []
    if term:
        found = _items(request.user).filter(name__icontains=term).select_related("ci_class")
        exclude = request.GET.get("exclude", "")
        if parse_id(exclude) is not None:
            found = found.exclude(pk=parse_id(exclude))
        items = found.order_by("sort_name", "id")[:20]
    return render(request, "cmdb/_options.html", {"items": items})


# Create and edit ----------------------------------------------------------------------------


@agent_required
def create(request):
    schemas = Schemas()
    key = request.GET.get("class", "")
    if key not in schemas.by_key:
        classes = CIClass.objects.select_related("parent")
        return render(request, "cmdb/choose_class.html", {"classes": classes})
    schema = schemas.get(key)
    form = CIForm(request.POST or None, schema=schema)
    if request.method == "POST" and form.is_valid():
        try:
            ci = services.create_ci(
                request.user, ci_class=schema.ci_class, schemas=schemas, **form.create_values()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, gettext("%(name)s created.") % {"name": ci.name})
            return redirect("cmdb:detail", pk=ci.pk)
    context = {"form": form, "schema": schema, "ci": None}
    return render(request, "cmdb/form.html", context, status=400 if form.errors else 200)


@agent_required
def edit(request, pk):
    ci = _get(request.user, pk)
    schemas = Schemas()
    schema = schemas.get(ci.ci_class_id)
    form = CIForm(request.POST or None, schema=schema, instance=ci)
    context = {"form": form, "schema": schema, "ci": ci}
    if request.method == "POST" and form.is_valid():
        try:
            updated = services.update_ci(
                ci, request.user, form.changed_values(), posted_version(request), schemas=schemas
            )
        except StaleVersion:
            current = _get(request.user, pk)
            context.update(ci=current, form=CIForm.after_conflict(form, current), conflict=True)
            return render(request, "cmdb/form.html", context, status=409)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if updated.version == ci.version:
                messages.info(request, _("Nothing changed."))
            else:
                messages.success(request, gettext("%(name)s saved.") % {"name": updated.name})
            return redirect("cmdb:detail", pk=pk)
    return render(request, "cmdb/form.html", context, status=400 if form.errors else 200)


# A CI's page --------------------------------------------------------------------------------


#: The impact panels' depth when none is asked for: the service map's default too.
DEFAULT_DEPTH = "2"


def _depth(request) -> tuple[str, int | None]:
    choice = request.GET.get("depth", DEFAULT_DEPTH)
    if choice not in DEPTHS:
        choice = DEFAULT_DEPTH
    return choice, DEPTHS[choice]


def _phrase(relationship: Relationship, ci_id: int) -> str:
    """The relationship read from ``ci_id``'s end."""
    if relationship.source_id == ci_id:
        return relationship.type.name
    return relationship.type.reverse_name


def _analysis_rows(analysis) -> list[dict]:
    rows = []
    for reached, item, relationship in analysis.rows():
        via = analysis.items.get(reached.via_ci_id)
        rows.append(
            {
                "ci": item,
                "depth": reached.depth,
                "via": via,
                # Read as recorded, in the type's own words: "runs on <via>" when the row's
                # CI is the source (impact, mostly), "<via> connects to it" when it is the
                # target (dependencies walk the edges the other way).
                "phrase": relationship.type.name if relationship else "",
                "via_first": relationship is not None and relationship.target_id == item.pk,
                "is_service": item.ci_class.is_service,
            }
        )
        if len(rows) >= PANEL_ROWS:
            break
    return rows


def _panels(ci, depth, reader):
    # The business services affected are named whatever the depth listed.
    affected = impact.analyse(
        ci, impact.IMPACT, depth, limit=PANEL_ROWS, services_at_any_depth=True, reader=reader
    )
    needs = impact.analyse(ci, impact.DEPENDENCIES, depth, limit=PANEL_ROWS, reader=reader)
    return {
        "impact_rows": _analysis_rows(affected),
        "impact_total": len(affected.reached),
        "impact_services": affected.services,
        "dependency_rows": _analysis_rows(needs),
        "dependency_total": len(needs.reached),
        "panel_rows": PANEL_ROWS,
    }


def _record_url(record) -> str | None:
    try:
        return record.get_absolute_url()
    except NoReverseMatch:
        return None


def _record_panels(ci) -> list[dict]:
    panels = []
    for relation, heading, open_states in RECORD_PANELS:
        if not hasattr(ci, relation):
            continue
        records = getattr(ci, relation).all()
        if open_states:
            holder, _, name = open_states.rpartition(".")
            records = records.filter(state__in=getattr(import_string(holder), name))
        records = records.select_related("assigned_to").order_by("-created_at")[:20]
        panels.append(
            {
                "key": relation,
                "heading": heading,
                "records": [{"record": r, "url": _record_url(r)} for r in records],
            }
        )
    return panels


def _label(schema, name: str) -> str:
    if name.startswith("attributes."):
        key = name.split(".", 1)[1]
        definition = schema.definitions.get(key)
        return definition.label if definition else key
    if name == "ci_class":
        return gettext("Class")
    try:
        return str(ConfigurationItem._meta.get_field(name).verbose_name).capitalize()
    except Exception:  # a field since removed: show its name
        return name.replace("_", " ")


def _shown(value) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _history(ci, schema) -> list[dict]:
    rows = []
    for entry in services.history(ci)[:HISTORY_ROWS]:
        changes = []
        data = entry.data or {}
        if entry.kind == "created":
            changes = [(_label(schema, k), None, _shown(v)) for k, v in data.items()]
        elif entry.kind == "fields":
            for name, change in sorted(data.items()):
                if isinstance(change, list | tuple) and len(change) == 2:
                    changes.append((_label(schema, name), _shown(change[0]), _shown(change[1])))
        rows.append({"entry": entry, "changes": changes})
    return rows


class CIScreens(TrackedScreens):
    """The CI list and a CI's page (attributes, relationships, impact and dependencies,
    open work, history), its relationships and its service map (the kernel's screens)."""

    queryset = ConfigurationItem.objects.select_related(
        "ci_class", "owner_team", "support_team", "location"
    )
    page_template = "cmdb/detail.html"
    context_object_name = "ci"
    edit = None  # the CI form is a page of its own (``edit`` below)
    filterset_class = ConfigurationItemFilterSet
    ordering_fields = ORDERING_FIELDS
    default_ordering = "sort_name"
    list_template = "cmdb/list.html"
    rows_template = "cmdb/_list_rows.html"
    rows_name = "items"
    table_class = "cis"
    empty_text = _("No configuration items match.")
    columns = (
        Column(_("Name"), "sort_name"),
        Column(_("Class")),
        Column(_("Status"), "status"),
        Column(_("Environment"), "environment"),
        Column(_("Owner")),
        Column(_("Support")),
        Column(_("Location")),
        Column(_("Updated"), "updated_at"),
    )

    def list_params(self, request):
        """The query, with the key/value attribute filter turned into ``attr.<key>=value``."""
        params = request.GET.copy()
        if params.get("ordering") in NAME_ORDERING:  # the API's word for it, and old links
            params["ordering"] = NAME_ORDERING[params["ordering"]]
        key = params.get("attr_key", "").strip()
        value = params.get("attr_value", "").strip()
        if key and value and KEY.regex.match(key):
            params[f"{ATTRIBUTE_PREFIX}{key}"] = value
        return params

    def list_context(self, params, links=None, **declared):
        context = super().list_context(params, self.request.GET, **declared)
        if is_htmx(self.request):
            return context
        attribute_keys = {}
        for key, label in AttributeDefinition.objects.order_by("key", "order").values_list(
            "key", "label"
        ):
            attribute_keys.setdefault(key, label)
        context.update(
            {
                "classes": CIClass.objects.all(),
                "teams": Team.objects.filter(active=True),
                "statuses": Status.choices,
                "environments": Environment.choices,
                "attribute_keys": sorted(attribute_keys.items()),
                "current": {
                    "search": params.get("search", ""),
                    "ci_class": params.get("ci_class", ""),
                    "status": params.getlist("status"),
                    "environment": params.getlist("environment"),
                    "owner_team": params.get("owner_team", ""),
                    "support_team": params.get("support_team", ""),
                    "attr_key": params.get("attr_key", ""),
                    "attr_value": params.get("attr_value", ""),
                },
            }
        )
        return context

    def retrieve(self, request, *args, **kwargs):
        ci = self.get_object()
        if is_htmx(request) and request.GET.get("panel") == "impact":
            depth_choice, depth = _depth(request)
            context = {"ci": ci, "depth_choice": depth_choice, "depth_choices": list(DEPTHS)}
            return Response(
                {**context, **_panels(ci, depth, request.user)}, template_name="cmdb/_impact.html"
            )
        return self.page(ci)

    def page_context(self, record, **extra):
        return super().page_context(record, **_detail_context(self.request, record, **extra))

    @action(detail=True, methods=["post"], url_path="relationships", url_name="relate")
    def relate(self, request, pk=None):
        ci = self.get_object()
        types = list(RelationshipType.objects.all())
        form = RelationshipForm(request.data, ci=ci, items=_items(request.user), types=types)
        if form.is_valid():
            source, type_, target = form.relation()
            try:
                services.relate(request.user, source, type_, target)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return self.done(ci, f"{source.name} {type_.name} {target.name}.")
        return self.page(ci, 400, relationship_form=form)

    @action(
        detail=True,
        methods=["post"],
        url_path="relationships/(?P<relationship_id>[0-9]+)/remove",
        url_name="unrelate",
    )
    def unrelate(self, request, pk=None, relationship_id=None):
        ci = self.get_object()
        relationship = (
            Relationship.objects.filter(
                pk=parse_id(relationship_id), source__in=_items(request.user)
            )
            .select_related("type", "source", "target")
            .first()
        )
        if relationship is None or ci.pk not in (relationship.source_id, relationship.target_id):
            raise Http404
        services.unrelate(request.user, relationship)
        other = relationship.target if relationship.source_id == ci.pk else relationship.source
        return self.done(
            ci,
            gettext("Relationship removed: %(ci)s %(phrase)s %(other)s.")
            % {"ci": ci.name, "phrase": _phrase(relationship, ci.pk), "other": other.name},
        )

    @action(detail=True, url_path="map", url_name="map")
    def service_map(self, request, pk=None):
        ci = self.get_object()
        context = {
            "ci": ci,
            "depth": _map_depth(request),
            "depths": MAP_DEPTHS,
            "limit": MAP_LIMIT,
        }
        return Response(context, template_name="cmdb/map.html")


def _detail_context(request, ci, **extra):
    schemas = Schemas()
    schema = schemas.get(ci.ci_class_id)
    attributes = []
    values = ci.attributes or {}
    for key, definition in schema.definitions.items():
        attributes.append((definition, values.get(key)))
    unknown = sorted(k for k in values if k not in schema.definitions)
    depth_choice, depth = _depth(request)
    outgoing = ci.outgoing_relationships.select_related("type", "target__ci_class").order_by(
        "type__name", "target__sort_name", "id"
    )
    incoming = ci.incoming_relationships.select_related("type", "source__ci_class").order_by(
        "type__reverse_name", "source__sort_name", "id"
    )
    if not impact.sees_every_ci(request.user):
        # Relationships with a CI the person may not see (another customer's): not listed.
        seen = ConfigurationItem.objects.visible_to(request.user).values("pk")
        outgoing = outgoing.filter(target__in=seen)
        incoming = incoming.filter(source__in=seen)
    types = list(RelationshipType.objects.all())
    context = {
        "ci": ci,
        "schema": schema,
        # Without the root class ("Configuration item"): the crumbs already say so.
        "class_chain": schema.chain[1:] or schema.chain,
        "attributes": attributes,
        "unknown_attributes": [(k, values[k]) for k in unknown],
        "outgoing": outgoing,
        "incoming": incoming,
        "relationship_form": RelationshipForm(ci=ci, items=_items(request.user), types=types),
        "depth_choice": depth_choice,
        "depth_choices": list(DEPTHS),
        "record_panels": _record_panels(ci),
        "history": _history(ci, schema),
        **_panels(ci, depth, request.user),
    }
    context.update(extra)
    return context


# Service map --------------------------------------------------------------------------------


def _map_depth(request, default=int(DEFAULT_DEPTH)) -> int:
    raw = request.GET.get("depth", "")
    value = parse_id(raw)
    return value if value in MAP_DEPTHS else default


@agent_required
def map_data(request, pk):
    """The graph around a CI for the service map (nodes and edges as the map draws them)."""
    ci = _get(request.user, pk)
    depth = _map_depth(request)
    graph = impact.neighbourhood(
        ci, depth=depth, limit=MAP_LIMIT, services=True, reader=request.user
    )
    nodes = [
        {
            "id": str(item.pk),
            "name": item.name,
            "class": item.ci_class.name,
            "class_key": item.ci_class.key,
            "status": item.status,
            "status_label": item.get_status_display(),
            "is_service": item.ci_class.is_service,
            "depth": graph.depth.get(item.pk),
            "url": reverse("cmdb:detail", args=[item.pk]),
            "map_url": reverse("cmdb:map", args=[item.pk]),
            "data_url": reverse("cmdb:map-data", args=[item.pk]),
        }
        # Nearest first; at one distance, by name whatever its case (the list beside it).
        for item in sorted(
            graph.nodes, key=lambda n: (graph.depth.get(n.pk, 0), n.name.casefold(), n.pk)
        )
    ]
    edges = [
        {
            "id": f"r{edge.pk}",
            "source": str(edge.source_id),
            "target": str(edge.target_id),
            "label": edge.type.name,
            "spreads": edge.type.outage_spreads,
        }
        for edge in graph.edges
    ]
    return JsonResponse(
        {
            "centre": str(ci.pk),
            "name": ci.name,
            "depth": depth,
            "limit": MAP_LIMIT,
            "truncated": graph.truncated,
            "nodes": nodes,
            "edges": edges,
        }
    )


# CSV import ---------------------------------------------------------------------------------


def _imports():
    # The import module is loaded on use: the screens stand without it (and it loads the
    # whole import machinery, which the other CMDB screens do not need).
    from . import imports

    return imports


@agent_required
def import_upload(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        imports = _imports()
        try:
            rows, relationships = imports.parse_csv(form.cleaned_data["file"])
            run = imports.preview(
                form.cleaned_data["data_source"], rows, relationships, request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("cmdb:import-run", run_id=run.pk)
    runs = ImportRun.objects.select_related("data_source", "started_by").defer(
        "payload", "results"
    )[:10]
    context = {"form": form, "runs": runs, "has_sources": DataSource.objects.exists()}
    return render(request, "cmdb/import.html", context, status=400 if form.errors else 200)


def _run(run_id) -> ImportRun:
    return get_object_or_404(
        ImportRun.objects.select_related("data_source", "started_by"), pk=run_id
    )


def _result_row(result: dict) -> dict:
    """One row of a run's results, as the table shows it (changes and errors as text)."""
    changes = result.get("changes") or {}
    if isinstance(changes, dict):
        changes = [
            (name, *(_shown(v) for v in change))
            if isinstance(change, list | tuple) and len(change) == 2
            else (name, "—", _shown(change))
            for name, change in changes.items()
        ]
    else:
        changes = [(str(c), "—", "") for c in changes] if isinstance(changes, list) else []
    errors = result.get("errors") or []
    if isinstance(errors, dict):
        errors = [f"{name}: {_shown(message)}" for name, message in errors.items()]
    elif not isinstance(errors, list):
        errors = [str(errors)]
    ci = result.get("ci")
    return {
        "row": result.get("row"),
        "kind": result.get("kind", ""),
        "action": result.get("action", ""),
        "ci": ci if isinstance(ci, int) and not isinstance(ci, bool) else None,
        "name": result.get("name") or "",
        "changes": changes,
        "errors": [str(e) for e in errors],
    }


@agent_required
def import_run(request, run_id):
    run = _run(run_id)
    context = {"run": run, "results": [_result_row(r) for r in run.results or []]}
    return render(request, "cmdb/import_run.html", context)


@agent_required
@require_POST
def import_apply(request, run_id):
    run = _run(run_id)
    if run.status != ImportRun.Status.PREVIEW:
        messages.error(request, _("This import was already applied."))
        return redirect("cmdb:import-run", run_id=run.pk)
    try:
        run = _imports().apply(run, request.user)
    except ValidationError as error:
        messages.error(
            request,
            gettext("Nothing was imported. %(problems)s") % {"problems": " ".join(error.messages)},
        )
    else:
        messages.success(
            request,
            gettext(
                "Import applied: %(created)s created, %(updated)s updated, "
                "%(relationships)s relationships, %(failed)s failed."
            )
            % {
                "created": run.created,
                "updated": run.updated,
                "relationships": run.relationships_created,
                "failed": run.failed,
            },
        )
    return redirect("cmdb:import-run", run_id=run.pk)
