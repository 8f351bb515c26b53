"""The browser's mount of a type: the same DRF machinery as the API (scoped querysets,
the API's serializers parsing every form post, the services behind them), answering HTML
pages instead of JSON.

A practice declares, per type, a subclass of ``TrackedScreens`` (CIs, assets…) or
``RecordScreens`` (tickets): its templates, list columns, saved views, forms, what a page
shows beyond the row, its messages; and registers it on a ``ScreenRouter`` in its
``urls.py``. The kernel then serves, the same way for every type:

- ``<prefix>/``: the list (the API's filterset, declared columns, saved views, keyset
  "Load more", htmx fragments) and ``<prefix>/bulk/`` where a bulk change is declared;
- ``<prefix>/new/``: the create page (the type's form draws, the API's serializer parses);
- ``<prefix>/<key>/``: the row's page (``retrieve``) and ``…/edit/``: edit in place (the
  changed fields, parsed as the API's ``PATCH`` with the version the page was read at);
- for records, ``…/comment/``: a public reply or an internal work note (``CommentSerializer``);
- ``…/attach/``: a file (``AttachmentSerializer``);
- ``…/state/``: a transition, parsed by the type's API serializer as a ``PATCH`` of
  ``state`` and the fields the transition asks for, with the version the page was read at;
- ``…/link/`` and ``…/unlink/<id>/``: links to other records.

Every refusal looks the same on every type: anonymous callers are sent to sign in; a row
one may not see is a 404 page; an action one may not take a 403 page; bad input re-renders
the page with a 400 and the errors beside the fields (what was typed kept); a stale version
re-renders it with a 409 and the conflict shown; success flashes a message and redirects
to the row's page.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.forms import BaseForm as DjangoBaseForm
from django.forms import CheckboxInput, ModelMultipleChoiceField, MultipleChoiceField
from django.http import Http404, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import TemplateHTMLRenderer
from rest_framework.response import Response
from rest_framework.routers import Route, SimpleRouter

from itsm.core import services as core
from itsm.core.models import RecordLink
from itsm.core.pagination import list_page
from itsm.core.scoping import scope_form
from itsm.core.services import StaleVersion
from itsm.core.views import is_htmx, parse_id, query_without

from .serializers import AttachmentSerializer, CommentSerializer, LinkSerializer


class PageRenderer(TemplateHTMLRenderer):
    """The response's template with its data as the context (and the request's context
    processors); refusals render the site's 403 and 404 pages."""

    media_type = "text/html"
    format = "html"


class Form:
    """A serializer's parse of a form post, seen by templates as a Django form is:
    ``form.errors`` (field -> messages), ``form.data`` (what was posted) and
    ``form.<field>.value`` / ``form.<field>.errors``. Errors of the service behind the
    serializer join those of the serializer, on the field they name."""

    def __init__(self, serializer=None, data=None):
        self.serializer = serializer
        self.data = data if data is not None else getattr(serializer, "initial_data", {})
        self.errors: dict[str, list[str]] = {}

    def is_valid(self) -> bool:
        if self.serializer is not None and not self.serializer.is_valid():
            for name, messages_ in self.serializer.errors.items():
                self.errors.setdefault(name, []).extend(_texts(messages_))
        return not self.errors

    @property
    def validated_data(self) -> dict:
        return self.serializer.validated_data

    def add_error(self, field: str | None, message: str) -> None:
        self.errors.setdefault(field or "__all__", []).append(message)

    def add_errors(self, error: DjangoValidationError) -> None:
        if hasattr(error, "error_dict"):
            for name, messages_ in error.message_dict.items():
                for message in messages_:
                    self.add_error(name, message)
        else:
            for message in error.messages:
                self.add_error(None, message)

    def text(self) -> str:
        """Every error in one sentence (for a flash message)."""
        return " ".join(m for ms in self.errors.values() for m in ms)

    def __getattr__(self, name):
        """A field of the form (the serializer's, or one posted or refused), as a
        template reads it; anything else is no attribute."""
        if name.startswith("_") or name in ("serializer", "data", "errors"):
            raise AttributeError(name)
        fields = self.serializer.fields if self.serializer is not None else {}
        if name not in fields and name not in self.data and name not in self.errors:
            raise AttributeError(name)
        return _BoundValue(self.data.get(name), self.errors.get(name, []))

    def __getitem__(self, name):
        if not isinstance(name, str):
            raise KeyError(name)
        try:
            return self.__getattr__(name)
        except AttributeError:
            raise KeyError(name) from None


class _BoundValue:
    def __init__(self, value, errors):
        self._value = value
        self.errors = errors

    def value(self):
        return self._value

    def __bool__(self):
        return bool(self._value or self.errors)


def service_errors(error: DjangoValidationError) -> dict:
    """A service's refusal as field -> messages (None: not about one field)."""
    if hasattr(error, "error_dict"):
        return error.message_dict
    return {None: error.messages}


def show_errors(form, errors: dict) -> None:
    """Put a serializer's (or a service's) errors on a Django form that only draws the
    fields: each beside the field it names, the rest above the form; the form's own
    checks are not run (the serializer is the one that parses)."""
    from django.forms.utils import ErrorDict

    form._errors = ErrorDict()
    form.cleaned_data = {}
    for name, messages_ in errors.items():
        target = name if name in form.fields else None
        for message in _texts(messages_):
            plain = target or name in (None, "non_field_errors", "__all__")
            form.add_error(target, message if plain else f"{name}: {message}")


def _texts(messages_) -> list[str]:
    if isinstance(messages_, dict):
        return [f"{k}: {m}" for k, ms in messages_.items() for m in _texts(ms)]
    if isinstance(messages_, list | tuple):
        return [str(m) for m in messages_]
    return [str(messages_)]


class LoginRequired(exceptions.NotAuthenticated):
    pass


class ScreenAuthentication(SessionAuthentication):
    """The session, with Django's CSRF check on every unsafe request."""


@dataclass(frozen=True)
class Column:
    """A column of a list screen: its header, and the ordering it sorts by (if any)."""

    label: str
    sort: str = ""
    title: str = ""


class TrackedScreens(viewsets.GenericViewSet):
    """The browser's screens of one tracked type (see the module's description): its list
    (``list``), its page (``retrieve``) and editing in place (``edit``).

    A subclass sets ``queryset`` (the type's model's objects: scoped here with
    ``visible_to``), ``page_template`` and ``serializer_class`` (the type's API
    serializer), and may extend ``page_context``. Its list declares the API's
    ``filterset_class``, the ``columns``, ``ordering_fields`` and ``default_ordering``,
    ``list_template`` (the page) and ``rows_template`` (one ``<tr>`` per row).

    ``audience`` is ``"workspace"`` (staff only, but for the actions named in
    ``end_user_actions``: an end user posting those gets the portal's answer) or
    ``"portal"`` (anyone signed in, on what they may see)."""

    schema = None  # the API schema documents the JSON API, not the screens
    authentication_classes = [ScreenAuthentication]
    permission_classes = []
    renderer_classes = [PageRenderer]
    parser_classes = [FormParser, MultiPartParser]
    pagination_class = None
    filter_backends = []
    lookup_field = "pk"
    lookup_value_regex = "[0-9]+"

    audience = "workspace"
    page_template = ""
    #: What an end user may do through the workspace's URLs (the portal page posts there).
    end_user_actions: frozenset = frozenset()
    #: What only staff may do, on any mount.
    staff_actions = frozenset({"link", "unlink", "edit", "bulk"})
    #: The name of the portal's record page (``app:name``), where end users are sent back.
    portal_url_name = ""
    #: What a person calls the record in messages (the model's verbose name by default).
    noun = ""
    #: The record's name in the page's context (``incident``, ``problem``…).
    context_object_name = "record"
    #: Editing in place: the type's ``EditInPlace`` form (it draws the fields and tells
    #: what changed; the type's serializer parses).
    edit_form = None

    # Who may do what -----------------------------------------------------------------

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not request.user.is_authenticated:
            raise LoginRequired()
        if self.staff_only(request) and not request.user.is_agent:
            raise PermissionDenied

    def staff_only(self, request) -> bool:
        if self.action in self.staff_actions:
            return True
        return self.audience == "workspace" and self.action not in self.end_user_actions

    def for_portal(self) -> bool:
        """Whether the answer is the portal's (the portal's screens, or an end user)."""
        return self.audience == "portal" or not self.request.user.is_agent

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated | LoginRequired):
            return redirect_to_login(self.request.get_full_path())
        if isinstance(exc, PermissionDenied | exceptions.PermissionDenied):
            return render(self.request, "403.html", status=403)
        if isinstance(exc, Http404 | exceptions.NotFound):
            return render(self.request, "404.html", status=404)
        return super().handle_exception(exc)

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    # The page ---------------------------------------------------------------------------

    def page_context(self, record, **extra) -> dict:
        """What the row's page shows; subclasses add theirs and call this."""
        return {"record": record, self.context_object_name: record, **extra}

    def page_for(self, record, **extra) -> tuple[str, dict]:
        """(template, context) of the record's page for this request; a workspace mount
        sends end users' answers to the portal's screens."""
        if self.audience == "workspace" and self.for_portal():
            portal = self.portal_screens()
            portal.request, portal.action, portal.format_kwarg = self.request, self.action, None
            portal.kwargs = self.kwargs
            return portal.page_template, portal.page_context(record, **extra)
        return self.page_template, self.page_context(record, **extra)

    def portal_screens(self) -> "RecordScreens":
        raise PermissionDenied

    def page(self, record, status=200, **extra) -> Response:
        template, context = self.page_for(record, **extra)
        form = context.get("form")
        if isinstance(form, DjangoBaseForm):
            # The record's edit form: its choices are what the person may see.
            scope_form(form, self.request.user)
        return Response(context, status=status, template_name=template)

    def reread(self, record):
        """The row as stored (a refused write may have changed the object in hand)."""
        self.kwargs[self.lookup_url_kwarg or self.lookup_field] = getattr(record, self.lookup_field)
        return self.get_object()

    def retrieve(self, request, *args, **kwargs):
        return self.page(self.get_object())

    def back(self, record):
        """Where a done action returns: the record's page on the screens asked from."""
        target = self.request.data.get("next", "")
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return redirect(target)
        if self.for_portal() and self.portal_url_name:
            return redirect(self.portal_url_name, getattr(record, self.lookup_field))
        return redirect(record.get_absolute_url())

    def done(self, record, message: str):
        messages.success(self.request, message)
        return self.back(record)

    def posted_flag(self, name: str) -> bool:
        """A checkbox: ticked when posted with any value but an empty or false one (the
        services refuse what the person may not ask for, e.g. an end user's work note)."""
        return self.request.data.get(name, "") not in ("", "false", "0", "off")

    def version(self) -> int | None:
        """The version the page was read at: None when the form sent none (no check), and
        a version that is never current when it sent one that is not a number (a
        conflict, never a silent overwrite)."""
        raw = self.request.data.get("version", "")
        if raw in ("", None):
            return None
        parsed = parse_id(raw)
        return -1 if parsed is None else parsed

    # Editing in place ------------------------------------------------------------------

    def edit_message(self, record) -> str:
        return gettext("%(record)s saved.") % {"record": getattr(record, "number", "") or record}

    def edit_data(self, form) -> dict:
        """What the agent changed (the form's hidden initials tell), as posted: the API's
        PATCH of those fields (an unticked box is false, an emptied field empty). A field
        posted without the value it was shown with is taken as changed."""
        posted = self.request.data
        unseen = [n for n in form.fields if n in posted and f"initial-{n}" not in posted]
        data = {}
        for name in dict.fromkeys([*form.changed_data, *unseen]):
            field = form.fields[name]
            if isinstance(field.widget, CheckboxInput):
                data[name] = name in self.request.data
            elif isinstance(field, ModelMultipleChoiceField | MultipleChoiceField):
                data[name] = [v for v in self.request.data.getlist(name) if v]
            else:
                # Through the widget: a date typed in the person's format arrives as ISO.
                data[name] = field.widget.value_from_datadict(
                    self.request.data, self.request.FILES, name
                )
                if data[name] is None:
                    data[name] = ""
        return data

    @action(detail=True, methods=["post"], url_path="edit", url_name="update")
    def edit(self, request, **kwargs):
        """The row's fields form, parsed as the API's PATCH of the fields the agent
        changed; a stale version shows the conflict with their changes laid over the
        current values."""
        record = self.get_object()
        form = self.edit_form(request.data, instance=self.reread(record))
        serializer = self.get_serializer(record, data=self.edit_data(form), partial=True)
        if serializer.is_valid():
            try:
                with transaction.atomic():
                    serializer.save(expected_version=self.version())
            except StaleVersion as stale:
                retry = self.edit_form.after_conflict(form, stale.record)
                return self.page(stale.record, 409, form=retry, conflict=True)
            except DjangoValidationError as error:
                errors = service_errors(error)
            else:
                return self.done(record, self.edit_message(record))
        else:
            errors = serializer.errors
        show_errors(form, errors)
        return self.page(self.reread(record), 400, form=form)

    # Creating ---------------------------------------------------------------------------

    #: The create page, and the form that draws its fields (widgets, labels, choices and
    #: what was typed); the post itself is parsed by the type's API serializer, so the
    #: screen and the API accept and refuse the same input.
    create_template = ""
    create_form = None

    def get_create_form(self, data=None):
        """The create page's form, its choices narrowed to what the person may see (a
        ``<select>`` without JS lists every choice of its field)."""
        form = self.create_form(data, initial=None if data is not None else self.create_initial())
        scope_form(form, self.request.user)
        return form

    def create_initial(self) -> dict:
        """What a new row's form starts with (``?field=value`` links prefill it)."""
        return {}

    def create_data(self) -> dict:
        """The post as the API receives it: the fields that were filled in (an empty field
        is not sent, so the API's defaults apply), lists kept as lists."""
        data, fields = {}, self.get_serializer().fields
        for name, values in self.request.data.lists():
            values = [v for v in values if v not in ("", None)]
            if name == "csrfmiddlewaretoken" or not values:
                continue
            field = fields.get(name)
            many = isinstance(
                field,
                serializers.ManyRelatedField
                | serializers.ListField
                | serializers.MultipleChoiceField,
            )
            data[name] = values if many else values[-1]  # the last, as QueryDict.get
        return data

    def create_message(self, obj) -> str:
        return gettext("%(record)s logged.") % {"record": getattr(obj, "number", "") or obj}

    def create_context(self, form) -> dict:
        return {"form": form}

    def create_page(self, form, status=200) -> Response:
        return Response(
            self.create_context(form), status=status, template_name=self.create_template
        )

    @action(detail=False, methods=["get", "post"], url_path="new", url_name="create")
    def new(self, request):
        """GET: the form (prefilled from the query); POST: the API's create."""
        if request.method != "POST":
            return self.create_page(self.get_create_form())
        form = self.get_create_form(request.data)
        serializer = self.get_serializer(data=self.create_data())
        if serializer.is_valid():
            try:
                with transaction.atomic():
                    obj = serializer.save()
            except DjangoValidationError as error:
                errors = service_errors(error)
            else:
                return self.done(obj, self.create_message(obj))
        else:
            errors = serializer.errors
        show_errors(form, errors)
        return self.create_page(form, 400)

    # Bulk changes -----------------------------------------------------------------------

    #: A list's bulk change, where the type declares one: the form of the change (the bar
    #: the list loads when a first row is ticked, in ``bulk_template``), and
    #: ``bulk_apply(numbers, values)`` that changes all the rows or none.
    bulk_form = None
    bulk_template = ""

    def bulk_apply(self, keys: list[str], values: dict) -> list:
        raise NotImplementedError

    @action(detail=False, methods=["get", "post"])
    def bulk(self, request):
        """GET: the bulk bar; POST: the change, to every selected row or to none."""
        if self.bulk_form is None:
            raise Http404
        if request.method != "POST":
            form = self.bulk_form(auto_id="bulk_%s")
            return Response({"form": form}, template_name=self.bulk_template)
        form = self.bulk_form(request.data)
        if not form.is_valid():
            errors = "; ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())
            messages.error(
                request, gettext("Check the bulk change: %(errors)s") % {"errors": errors}
            )
            return self.back_to_list()
        try:
            with transaction.atomic():
                changed = self.bulk_apply(request.data.getlist("numbers"), form.values())
        except DjangoValidationError as error:
            problems = [m for ms in error.message_dict.values() for m in ms]
            messages.error(
                request,
                gettext("Nothing was changed. %(problems)s") % {"problems": " | ".join(problems)},
            )
        else:
            noun = self.model_noun(plural=len(changed) != 1)
            messages.success(
                request,
                ngettext("Updated %(count)s %(noun)s.", "Updated %(count)s %(noun)s.", len(changed))
                % {"count": len(changed), "noun": noun},
            )
        return self.back_to_list()

    def model_noun(self, plural=False) -> str:
        meta = self.get_queryset().model._meta
        return str(meta.verbose_name_plural if plural else meta.verbose_name)

    def back_to_list(self):
        target = self.request.data.get("next", "")
        if url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return redirect(target)
        return redirect(self.request.path.rsplit("/bulk/", 1)[0] + "/")

    # The list -------------------------------------------------------------------------

    filterset_class = None
    columns: tuple[Column, ...] = ()
    ordering_fields: tuple[str, ...] = ()
    default_ordering = "-created_at"
    page_size = 50
    list_template = ""
    #: The table fragment htmx swaps in (filters, sorting); the kernel's by default.
    table_template = "workspace/_table.html"
    rows_template = ""
    #: The rows' name in the context too (``incidents``…), for the page around the table.
    rows_name = "rows"
    empty_text = _("Nothing matches.")
    #: A checkbox column for bulk actions.
    selectable = False
    #: A CSS class of the table (column widths of a type's own).
    table_class = ""
    #: The list's views bar (tabs, saving the filters shown): swapped in again with the
    #: table whenever the filters change, so it always speaks of what is shown.
    views_template = ""

    #: Preset views of the list: ``key -> (label, filters)``; ``?view=key`` applies one
    #: (sorting, paging and searching still apply on top).
    saved_views: dict = {}
    #: The preset view the list opens with when nothing else is asked for (its open
    #: records, say); ``?view=all`` then shows everything.
    default_view = ""

    def list_queryset(self):
        return self.get_queryset()

    def view_preset(self, params):
        """The filters of the view asked for (or, with no filter asked for, the default
        view's) and what the list's links keep to stay in it (``({filters}, {"view":
        key})``), or None."""
        key = params.get("view", "")
        if not key and self.default_view and not set(params) - {"ordering", "cursor"}:
            key = self.default_view
        self.current_view = key
        if key not in self.saved_views:
            return None
        filters = QueryDict(mutable=True)
        filters.update(self.saved_views[key][1])
        return filters, {"view": key}

    def list_params(self, request):
        """The filters asked for (a saved view's, for instance), or a response (a jump
        to one row)."""
        params = request.GET.copy()
        preset = self.view_preset(params)
        self.view_anchor = None
        if preset is not None:
            filters, self.view_anchor = preset
            for key in ("ordering", "cursor", "search"):
                if key in params:
                    filters[key] = params[key]
            params = filters
        return params

    def list_context(self, params, links=None, **declared) -> dict:
        """The list's context; ``declared`` overrides the class's declarations for a
        second list of the type (``queryset``, ``columns``, ``rows_template``,
        ``default_ordering``, ``empty_text``…)."""
        get = lambda name: declared.get(name, getattr(self, name))  # noqa: E731
        queryset = declared.get("queryset")
        anchor = getattr(self, "view_anchor", None)
        if anchor and links is None:
            # Paging and sorting links keep the view, not its expanded filters.
            links = QueryDict(mutable=True)
            links.update(anchor)
            ordering = params.get("ordering") or get("default_ordering")
            if ordering.lstrip("-") not in self.ordering_fields:
                ordering = get("default_ordering")
            links["ordering"] = ordering
            if params.get("search"):
                links["search"] = params["search"]
        context = list_page(
            self.request,
            self.list_queryset() if queryset is None else queryset,
            self.filterset_class,
            params,
            self.ordering_fields,
            get("default_ordering"),
            self.page_size,
            links=links,
        )
        if anchor:
            context["query_without_ordering"] = query_without(params, "ordering", "cursor")
        context.update(
            {
                "saved_views": [(key, label) for key, (label, _) in self.saved_views.items()],
                "current_view": getattr(self, "current_view", self.request.GET.get("view", "")),
                "default_view": self.default_view,
                "list_url": self.request.path,
                "count_nouns": self.list_queryset().model._meta,
                self.rows_name: context["rows"],
                "columns": get("columns"),
                "colspan": len(get("columns")) + get("selectable"),
                "rows_template": get("rows_template"),
                "table_template": get("table_template"),
                "empty_text": get("empty_text"),
                "selectable": get("selectable"),
                "table_class": get("table_class"),
                "views_template": get("views_template"),
                "fragment": is_htmx(self.request),
                "current_query": query_without(params, "cursor", "view", "saved"),
                "filtered": bool(query_without(params, "cursor", "view", "saved", "ordering")),
            }
        )
        return context

    def list_response(self, context, list_template=None) -> Response:
        """The list page; to htmx, the table (filters, sorting) or the next rows."""
        if not is_htmx(self.request):
            template = list_template or self.list_template
        elif self.request.GET.get("cursor"):
            template = "workspace/_rows.html"
        else:
            template = context["table_template"]
        return Response(context, template_name=template)

    def list(self, request, *args, **kwargs):
        params = self.list_params(request)
        if isinstance(params, HttpResponseBase):
            return params
        return self.list_response(self.list_context(params))


class RecordScreens(TrackedScreens):
    """The browser's screens of one record type: what ``TrackedScreens`` does, by number,
    and the journal (comments, files), transitions and links. A subclass also sets
    ``record_services`` (the app's services module: ``comment`` and ``attach``)."""

    lookup_field = "number"
    lookup_value_regex = "[^/]+"

    record_services = None
    #: The fields a transition may carry besides ``state`` (given to the API serializer).
    transition_fields: tuple[str, ...] = ()
    #: Flash messages after a public reply and after an internal work note.
    comment_messages = (_("Reply sent."), _("Work note added."))
    attach_message = _("File attached.")

    def page_context(self, record, **extra) -> dict:
        context = {
            "timeline": core.timeline(record, self.request.user).reverse(),
            "attachments": core.attachments_of(record, self.request.user),
            "transitions": record.workflow.available(record, self.request.user),
            "comment_form": Form(data={}),
            "transition_form": Form(data={}),
            "attachment_form": Form(data={}),
        }
        if self.request.user.is_agent and self.link is not None:  # where links are offered
            context["links"] = core.links_of(record, self.request.user)
            context["link_kinds"] = RecordLink.Kind.choices
        return super().page_context(record, **{**context, **extra})

    # The journal ------------------------------------------------------------------------

    @action(detail=True, methods=["post"])
    def comment(self, request, number=None):
        record = self.get_object()
        # The portal has no work notes: there, ``internal`` is no field of the form.
        internal = self.audience != "portal" and self.posted_flag("internal")
        data = {"body": request.data.get("body", ""), "internal": internal}
        form = Form(CommentSerializer(data=data), data=request.data)
        if form.is_valid():
            try:
                with transaction.atomic():
                    self.record_services.comment(
                        record,
                        request.user,
                        form.validated_data["body"],
                        form.validated_data["internal"],
                    )
            except DjangoValidationError as error:
                form.add_errors(error)
            else:
                return self.done(record, self.comment_messages[form.validated_data["internal"]])
        return self.page(self.reread(record), 400, comment_form=form)

    @action(detail=True, methods=["post"])
    def attach(self, request, number=None):
        record = self.get_object()
        # The portal has no internal files: there, ``internal`` is no field of the form.
        data = {"internal": self.audience != "portal" and self.posted_flag("internal")}
        if request.data.get("file"):
            data["file"] = request.data["file"]
        serializer = AttachmentSerializer(data=data, context=self.get_serializer_context())
        form = Form(serializer, data={})
        if form.is_valid():
            try:
                with transaction.atomic():
                    self.record_services.attach(
                        record,
                        request.user,
                        form.validated_data["file"],
                        form.validated_data["internal"],
                    )
            except DjangoValidationError as error:
                form.add_errors(error)
            else:
                return self.done(record, self.attach_message)
        form.errors = {"file": [form.text()]}
        return self.page(self.reread(record), 400, attachment_form=form)

    # Transitions ------------------------------------------------------------------------

    def transition_data(self) -> dict:
        """What a transition form posted for the API serializer: the state and the
        declared fields that were filled in."""
        data = {"state": self.request.data.get("state", "")}
        for name in self.transition_fields:
            value = self.request.data.get(name, "")
            if value not in ("", None):
                data[name] = value
        return data

    def noun_of(self, record) -> str:
        return self.noun or record._meta.verbose_name

    def not_possible(self, record) -> str:
        return gettext("That is not possible for this %(noun)s.") % {"noun": self.noun_of(record)}

    def transition_allowed(self, record, target: str) -> bool:
        """Whether this screen offers moving ``record`` to ``target`` (the portal offers
        fewer moves than the workflow allows its readers)."""
        return True

    def transition_message(self, record) -> str:
        return gettext("%(number)s is now %(state)s.") % {
            "number": record.number,
            "state": str(record.workflow.label(record.state)).lower(),
        }

    def after_transition(self, record):
        """The answer after a transition: back to the page, by default."""
        return self.done(record, self.transition_message(record))

    @action(detail=True, methods=["post"], url_path="state", url_name="transition")
    def transition(self, request, number=None):
        record = self.get_object()
        data = self.transition_data()
        if not self.transition_allowed(record, data["state"]):
            messages.error(
                request,
                gettext("That is not possible for this %(noun)s now.")
                % {"noun": self.noun_of(record)},
            )
            return self.back(record)
        form = self.transition_form(record, data)
        if form.is_valid():
            try:
                with transaction.atomic():
                    record = self.transition_save(record, form)
                    self.transition_done(record)
            except StaleVersion as stale:
                return self.page(
                    stale.record,
                    409,
                    conflict=True,
                    transition_form=form,
                    failed_state=data["state"],
                )
            except (DjangoValidationError, PermissionDenied) as error:
                if isinstance(error, PermissionDenied):
                    form.add_error(None, self.not_possible(record))
                else:
                    form.add_errors(error)
            else:
                return self.after_transition(record)
        if self.for_portal():
            messages.error(request, form.text() or self.not_possible(record))
            return self.back(record)
        return self.page(self.reread(record), 400, transition_form=form, failed_state=data["state"])

    def transition_form(self, record, data: dict) -> Form:
        """The transition parsed as the API parses it: a ``PATCH`` of the state and the
        fields the transition asks for, by the type's serializer."""
        serializer = self.get_serializer(record, data=data, partial=True)
        return Form(serializer, data=self.request.data)

    def transition_save(self, record, form: Form):
        return form.serializer.save(expected_version=self.version())

    def transition_done(self, record) -> None:
        """What else the same form asked for, in the transition's transaction (the
        portal's reason for reopening: a comment, parsed as every comment is)."""
        body = self.request.data.get("body", "")
        if not body.strip() or not self.for_portal():
            return
        comment = CommentSerializer(data={"body": body, "internal": False})
        if not comment.is_valid():
            raise DjangoValidationError({"body": _texts(comment.errors.get("body", []))})
        self.record_services.comment(record, self.request.user, comment.validated_data["body"])

    # Links ------------------------------------------------------------------------------

    @action(detail=True, methods=["post"])
    def link(self, request, number=None):
        record = self.get_object()
        serializer = LinkSerializer(
            data={
                "target": request.data.get("target", ""),
                "kind": request.data.get("kind") or RecordLink.Kind.RELATES_TO,
            }
        )
        form = Form(serializer)
        if form.is_valid():
            try:
                with transaction.atomic():
                    target = core.find_record(form.validated_data["target"], request.user)
                    self.link_records(record, target, form.validated_data["kind"])
            except DjangoValidationError as error:
                form.add_errors(error)
            else:
                return self.done(record, self.link_message(record, target))
        messages.error(request, form.text())
        return self.back(record)

    def link_message(self, record, target) -> str:
        return gettext("Linked %(number)s.") % {"number": target.number}

    def link_records(self, record, target, kind: str) -> None:
        core.link_records(record, target, self.request.user, kind)

    @action(detail=True, methods=["post"], url_path="unlink/(?P<link_id>[0-9]+)")
    def unlink(self, request, number=None, link_id=None):
        record = self.get_object()
        try:
            with transaction.atomic():
                core.unlink(record, parse_id(link_id) or 0, request.user)
        except RecordLink.DoesNotExist:
            raise Http404 from None
        return self.done(record, gettext("Link removed."))


class ScreenRouter(SimpleRouter):
    """URLs of record screens under an app's namespace: ``<prefix>/`` (the list, where
    the screens have one) named ``<names>list``, ``<prefix>/<number>/`` named
    ``<names>detail`` and each action's ``<names><url_name>`` (``names`` is the prefix of
    the names given at ``register``: ``""`` for the workspace, ``"portal-"``…)."""

    routes = [
        Route(
            url=r"^{prefix}{trailing_slash}$",
            mapping={"get": "list"},
            name="{basename}list",
            detail=False,
            initkwargs={},
        ),
        # before the page's route: ``<prefix>/<url_path>/`` is no number
        SimpleRouter.routes[1]._replace(name="{basename}{url_name}"),
        Route(
            url=r"^{prefix}/{lookup}{trailing_slash}$",
            mapping={"get": "retrieve"},
            name="{basename}detail",
            detail=True,
            initkwargs={},
        ),
        SimpleRouter.routes[3]._replace(name="{basename}{url_name}"),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.names: list[dict] = []

    def register(
        self,
        prefix,
        viewset,
        names: str = "",
        detail: str = "",
        list: str = "",
        only: str = "",
        rename: dict | None = None,
    ):
        """``detail`` and ``list``: the page's and the list's own names, when they are not
        ``<names>detail`` and ``<names>list`` (``rename``: other URL names, generated
        name -> name); ``only``: ``"list"`` (the list alone, where the rows live under
        another prefix) or ``"rows"`` (the pages and actions alone)."""
        self.registry.append((prefix, viewset, names))
        renamed = {f"{names}detail": detail, f"{names}list": list, **(rename or {})}
        self.names.append((renamed, only))

    def get_urls(self):
        urls = []
        for (prefix, viewset, names), (renamed, only) in zip(
            self.registry, self.names, strict=True
        ):
            single = type(self)()
            single.registry.append((prefix, viewset, names))
            for pattern in SimpleRouter.get_urls(single):
                is_list = pattern.name == f"{names}list"
                if is_list and (not viewset.list_template or only == "rows"):
                    continue
                undeclared = {
                    f"{names}create": viewset.create_form,
                    f"{names}bulk": viewset.bulk_form,
                    f"{names}update": viewset.edit_form,
                }
                if pattern.name in undeclared and undeclared[pattern.name] is None:
                    continue
                actions = getattr(pattern.callback, "actions", {}).values()
                if any(getattr(viewset, a, None) is None for a in actions):
                    continue
                if not is_list and only == "list":
                    continue
                # Both names: reversing reads the pattern's, resolving (``url_name``) the
                # regex's.
                pattern.name = pattern.pattern.name = renamed.get(pattern.name) or pattern.name
                urls.append(pattern)
        return urls
