"""How a practice plugs into the platform: one ``PracticeConfig`` per app.

A practice app's ``AppConfig`` subclasses ``PracticeConfig`` and declares, in one place,
everything it brings: its ITIL practice and page, its workspace section, what it adds to
the portal and to other practices' record pages, its KPIs, search sources, SLA profiles,
Celery beat entries, URL and API modules, OpenAPI enum names and demo data. The kernel
keeps them in one registry; URLs, API routes, the API root, beat and the schema's enum
names are discovered from it, so ``itsm/`` imports no practice and no practice edits a
kernel file to take part. Values given as dotted paths (``"problems.views.panel"``) are
imported when first used, so a declaration never imports a practice's views early.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import import_module

from django.apps import AppConfig, apps
from django.utils.functional import cached_property
from django.utils.module_loading import import_string


def resolve(value):
    """A declared value, or the object a dotted path names."""
    return import_string(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class WorkspaceSection:
    """A link in the agent workspace's navigation, under the practice's name, with links
    below it (``(label, url name, query string)``: saved views, the known error
    database…)."""

    label: str
    url_name: str
    order: int = 100
    links: tuple[tuple[str, str, str], ...] = ()
    #: the URL namespace of its pages (the link is highlighted there; saved views are
    #: kept under it); by default that of ``url_name``
    key: str = ""
    #: the heading above the link; by default the app's ``verbose_name``
    practice: str = ""
    #: links below it with a number beside them (``(label, url name, url name of the
    #: count)``: approvals waiting…); the number is fetched after the page loads, so
    #: that no page pays a query for it
    counted_links: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class WorkQueue:
    """A record type an agent's home page counts: the open ones assigned to them, their
    teams' unassigned and their teams' open ones, each figure a link to ``url_name`` (a
    list on the kernel's record filters: ``assigned_to``, ``assignment_group``,
    ``unassigned``, ``open``)."""

    label: str
    #: the model's label, ``"incidents.Incident"``
    model: str
    url_name: str
    order: int = 100


@dataclass(frozen=True)
class PortalAction:
    """What the person can do about something waiting for them: a link, or (with
    ``post``) a button that posts those fields to ``url``."""

    label: str
    url: str
    post: dict | None = None
    primary: bool = False


@dataclass(frozen=True)
class Waiting:
    """Something on the portal that waits for the person (a resolution to confirm, a
    question to answer, an approval to give): why, and what they can do. ``number``,
    ``title`` and ``url`` default to the record's when it is one of their tickets."""

    reason: str
    actions: tuple[PortalAction, ...] = ()
    number: str = ""
    title: str = ""
    url: str = ""
    #: what it is ("Approval"); by default what the record's source calls one
    kind: str = ""


@dataclass(frozen=True)
class PortalSource:
    """A practice's records in the employee's "my tickets"."""

    key: str
    label: str
    #: user -> queryset of the records this user may follow, newest first
    my_records: Callable | str
    detail_url_name: str
    order: int = 100
    #: what one of them is called in a list of all of a person's tickets
    singular: str = ""
    #: record -> ``Waiting`` when the record waits for its person (resolved, to confirm;
    #: on hold for their answer…), else None; decided from the row alone (no query)
    waiting: Callable | str | None = None

    def records(self, user):
        return resolve(self.my_records)(user)

    def waiting_on(self, record) -> "Waiting | None":
        return resolve(self.waiting)(record) if self.waiting else None


@dataclass(frozen=True)
class PagePanel:
    """A block a practice contributes to a home page: the portal's (catalogue search,
    approvals…: ``portal_panels``) or the agent's (targets breaching soon, approvals
    waiting: ``home_panels``). The page does not import the contributor."""

    key: str
    #: the template included on the home page, with ``panel`` in its context
    template: str
    #: request -> dict of what the template needs (the agent's home: or None, to show
    #: nothing); a query or two, never one per row
    context: Callable | str
    order: int = 100

    def context_for(self, request):
        return resolve(self.context)(request)


#: The names the declarations use, by the page they go on.
PortalPanel = HomePanel = PagePanel


@dataclass(frozen=True)
class RecordPanel:
    """A block another practice adds to a record's page: known-error workarounds on an
    incident, suggested articles… The record's app does not import the contributor."""

    key: str
    #: model labels the panel goes on, e.g. ``("incidents.incident",)``
    models: tuple[str, ...]
    #: the template included, with ``panel`` (the context below) and ``record``
    template: str
    #: (request, record) -> dict for the template, or None to show nothing
    context: Callable | str
    #: ``workspace`` (the agent's record page) or ``portal`` (the end user's)
    screen: str = "workspace"
    order: int = 100
    #: the most queries the panel makes, whatever the data (pages' query-count tests add
    #: up the budgets of the panels on them)
    queries: int = 1

    def context_for(self, request, record):
        return resolve(self.context)(request, record)


class PracticeConfig(AppConfig):
    """The ``AppConfig`` of a practice app. Every attribute is optional."""

    #: Not itself an app's config: Django picks the subclass in an app's ``apps.py``.
    default = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "default" not in cls.__dict__:
            cls.default = True

    #: the ITIL 4 practice this app supports (a key of ``practices.registry``) and the
    #: URL name of the page where its work is done (the practice map links it)
    practice: str = ""
    practice_url: str = ""
    #: further practices the app supports: key -> the URL name of the page for it (the
    #: catalogue app's service catalogue management besides service request management)
    more_practices: dict = {}
    #: the app's link in the workspace navigation
    section: WorkspaceSection | None = None
    portal_sources: tuple[PortalSource, ...] = ()
    portal_panels: tuple[PortalPanel, ...] = ()
    #: what the agent's home page counts and shows of this app
    work_queues: tuple[WorkQueue, ...] = ()
    home_panels: tuple[HomePanel, ...] = ()
    #: user -> ``Waiting`` items of what waits for the person besides their own tickets
    #: (approvals…), listed first on the portal home; one query at most
    portal_waiting: Callable | str | None = None
    record_panels: tuple[RecordPanel, ...] = ()
    #: a callable (or its path) returning ``[(label, value), …]`` figures, computed live
    kpis: Callable | str | None = None
    #: a callable (or its path) returning the app's search source(s)
    search_sources: Callable | str | None = None
    #: model label -> the service level ``Profile`` (or its path) records of it run SLAs by
    sla_profiles: dict = {}
    #: Celery beat entries, as in ``CELERY_BEAT_SCHEDULE``
    beat: dict = {}
    #: the modules of the app's screens' URL patterns (included at the site root) and of
    #: its API (included under ``/api/v1/``; a module with a ``router`` lists its
    #: endpoints in the API root); ``None``: ``<app>.urls`` / ``<app>.api.urls`` if present
    urls: tuple[str, ...] | None = None
    api_urls: tuple[str, ...] | None = None
    #: OpenAPI enum names, as in drf-spectacular's ``ENUM_NAME_OVERRIDES``
    enums: dict = {}
    #: the module whose ``load(context)`` makes the demo data (``manage.py load_demo``
    #: loads them in ``INSTALLED_APPS`` order)
    demo: str | None = None

    def ready(self):
        registry.add(self)
        self.connect()

    def connect(self) -> None:
        """Signals and other wiring of the app's own (a subclass's hook)."""

    # Discovered modules ---------------------------------------------------------------

    def _modules(self, declared, default: str) -> tuple[str, ...]:
        if declared is not None:
            return tuple(declared)
        name = f"{self.name}.{default}"
        try:
            import_module(name)
        except ModuleNotFoundError as error:
            if not (name == error.name or name.startswith(f"{error.name}.")):
                raise  # the module exists but imports something missing
            return ()
        return (name,)

    @cached_property
    def url_modules(self) -> tuple[str, ...]:
        return self._modules(self.urls, "urls")

    @cached_property
    def api_url_modules(self) -> tuple[str, ...]:
        return self._modules(self.api_urls, "api.urls")


class Registry:
    """Every practice app, in ``INSTALLED_APPS`` order, and what each declared."""

    def __init__(self):
        self.configs: list[PracticeConfig] = []

    def add(self, config: PracticeConfig) -> None:
        """Register a practice app; its beat entries and enum names join the settings
        (in place: Celery beat and drf-spectacular read them from there)."""
        from django.conf import settings

        if config in self.configs:
            return
        self.configs.append(config)
        order = {c.name: i for i, c in enumerate(apps.get_app_configs())}
        self.configs.sort(key=lambda c: order.get(c.name, len(order)))
        settings.CELERY_BEAT_SCHEDULE.update(config.beat)
        spectacular = settings.SPECTACULAR_SETTINGS
        spectacular.setdefault("ENUM_NAME_OVERRIDES", {}).update(config.enums)

    def _all(self, attribute: str) -> list:
        return [item for config in self.configs for item in getattr(config, attribute)]

    @property
    def workspace(self) -> list[WorkspaceSection]:
        sections = [
            replace(
                c.section,
                key=c.section.key or c.section.url_name.split(":")[0],
                practice=c.section.practice or str(c.verbose_name),
            )
            for c in self.configs
            if c.section is not None
        ]
        return sorted(sections, key=lambda s: (s.order, s.label))

    @property
    def portal(self) -> list[PortalSource]:
        return sorted(self._all("portal_sources"), key=lambda s: (s.order, s.label))

    @property
    def panels(self) -> list[PortalPanel]:
        return sorted(self._all("portal_panels"), key=lambda p: (p.order, p.key))

    @property
    def work_queues(self) -> list[WorkQueue]:
        return sorted(self._all("work_queues"), key=lambda q: (q.order, q.label))

    @property
    def home_panels(self) -> list[HomePanel]:
        return sorted(self._all("home_panels"), key=lambda p: (p.order, p.key))

    def waiting_for(self, user) -> list[Waiting]:
        """What waits for ``user`` besides their own tickets, from every practice."""
        return [
            item
            for config in self.configs
            if config.portal_waiting
            for item in resolve(config.portal_waiting)(user)
        ]

    @property
    def record_panels(self) -> list[RecordPanel]:
        return sorted(self._all("record_panels"), key=lambda p: (p.order, p.key))

    def record_panels_for(self, record, screen: str) -> list[RecordPanel]:
        return self.panels_on(record._meta.label_lower, screen)

    def panels_on(self, label: str, screen: str) -> list[RecordPanel]:
        return [p for p in self.record_panels if label in p.models and p.screen == screen]

    def panel_queries(self, label: str, screen: str) -> int:
        """The query budget of every panel on a record page."""
        return sum(p.queries for p in self.panels_on(label, screen))

    def practice(self, key: str) -> list[PracticeConfig]:
        return [c for c in self.configs if c.practice == key]

    def practice_url(self, key: str) -> str | None:
        """The page where a practice's work is done, if an app supports it."""
        for config in self.configs:
            if config.practice == key and config.practice_url:
                return config.practice_url
            if key in config.more_practices:
                return config.more_practices[key]
        return None

    def kpis(self, key: str) -> list[Callable]:
        return [resolve(c.kpis) for c in self.practice(key) if c.kpis]

    def search_sources(self) -> list:
        found = []
        for config in self.configs:
            if config.search_sources:
                sources = resolve(config.search_sources)()
                found.extend(sources if isinstance(sources, list | tuple) else [sources])
        return found

    def sla_profiles(self) -> dict:
        """model class -> its service level profile."""
        return {
            apps.get_model(label): resolve(profile)
            for config in self.configs
            for label, profile in config.sla_profiles.items()
        }

    def beat_schedule(self) -> dict:
        return {name: entry for c in self.configs for name, entry in c.beat.items()}

    def enums(self) -> dict:
        return {name: path for c in self.configs for name, path in c.enums.items()}

    def demo_modules(self) -> list[tuple[PracticeConfig, str]]:
        return [(c, c.demo) for c in self.configs if c.demo]

    def url_modules(self) -> list[str]:
        return [m for c in self.configs for m in c.url_modules]

    def api_url_modules(self) -> list[str]:
        return [m for c in self.configs for m in c.api_url_modules]


registry = Registry()
