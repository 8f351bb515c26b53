"""Where practices plug into the service desk's screens without being imported by it.

Each practice app registers, in its ``AppConfig.ready``, a workspace section (a link in
the agent navigation) and a portal source (its records in the employee's "my tickets")."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkspaceSection:
    key: str
    label: str
    url_name: str
    practice: str
    order: int = 100


@dataclass(frozen=True)
class PortalSource:
    key: str
    label: str
    #: user -> queryset of the records this user may follow, newest first
    my_records: Callable
    detail_url_name: str
    order: int = 100


@dataclass(frozen=True)
class PortalPanel:
    """A block of the portal home a practice contributes (catalogue search, approvals…)."""

    key: str
    #: the template included on the home page, with ``panel`` in its context
    template: str
    #: request -> dict of what the template needs
    context: Callable
    order: int = 100


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
    context: Callable
    #: ``workspace`` (the agent's record page) or ``portal`` (the end user's)
    screen: str = "workspace"
    order: int = 100
    #: the most queries the panel makes, whatever the data (pages' query-count tests add
    #: up the budgets of the panels on them)
    queries: int = 1


@dataclass
class Registry:
    workspace: list[WorkspaceSection] = field(default_factory=list)
    portal: list[PortalSource] = field(default_factory=list)
    panels: list[PortalPanel] = field(default_factory=list)
    record_panels: list[RecordPanel] = field(default_factory=list)

    def add_record_panel(self, panel: RecordPanel) -> None:
        if all(p.key != panel.key for p in self.record_panels):
            self.record_panels.append(panel)
            self.record_panels.sort(key=lambda p: (p.order, p.key))

    def record_panels_for(self, record, screen: str) -> list[RecordPanel]:
        return self.panels_on(record._meta.label_lower, screen)

    def panels_on(self, label: str, screen: str) -> list[RecordPanel]:
        return [p for p in self.record_panels if label in p.models and p.screen == screen]

    def panel_queries(self, label: str, screen: str) -> int:
        """The query budget of every panel on a record page."""
        return sum(p.queries for p in self.panels_on(label, screen))

    def add_workspace_section(self, section: WorkspaceSection) -> None:
        if all(s.key != section.key for s in self.workspace):
            self.workspace.append(section)
            self.workspace.sort(key=lambda s: (s.order, s.label))

    def add_portal_source(self, source: PortalSource) -> None:
        if all(s.key != source.key for s in self.portal):
            self.portal.append(source)
            self.portal.sort(key=lambda s: (s.order, s.label))

    def add_portal_panel(self, panel: PortalPanel) -> None:
        if all(p.key != panel.key for p in self.panels):
            self.panels.append(panel)
            self.panels.sort(key=lambda p: (p.order, p.key))


registry = Registry()
