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


@dataclass
class Registry:
    workspace: list[WorkspaceSection] = field(default_factory=list)
    portal: list[PortalSource] = field(default_factory=list)
    panels: list[PortalPanel] = field(default_factory=list)

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
