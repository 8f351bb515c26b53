"""The employee's portal home: what waits for them first (a resolution to confirm, a
question to answer, an approval to give), then their tickets, open ones apart from the
closed, newest activity first, then the blocks the practices contribute.

Every practice takes part by declaring (``PortalSource.waiting``, ``portal_waiting``,
``portal_panels``); nothing here knows incidents or requests. One query per practice
lists a person's tickets, whatever their number."""

from dataclasses import dataclass, field

from django.db.models import BooleanField, Case, F, Value, When, Window
from django.db.models.functions import RowNumber
from django.urls import reverse

from itsm.core.practices import PortalSource, Waiting, registry

#: The most open, and the most closed, tickets listed per practice.
LISTED = 50


@dataclass
class Ticket:
    """One of the person's tickets as the home lists it."""

    source: PortalSource
    record: object
    url: str
    done: bool
    waiting: Waiting | None = None

    @property
    def kind(self) -> str:
        return self.source.singular or self.source.label


@dataclass
class WaitingRow:
    """A line of "waiting for you": the ticket (or other item) and what to do."""

    number: str
    title: str
    url: str
    reason: str
    actions: tuple = ()
    kind: str = ""


@dataclass
class Tickets:
    open: list[Ticket] = field(default_factory=list)
    closed: list[Ticket] = field(default_factory=list)
    #: a practice listed as many as it may: there may be more than shown
    more_open: bool = False
    more_closed: bool = False


def _final_states(model) -> list[str]:
    workflow = model.workflow
    return [state for state in workflow.state_names if workflow.is_final(state)]


def _listed(source: PortalSource, user):
    """The person's tickets of one practice: the newest ``LISTED`` open ones and the
    newest ``LISTED`` closed ones, in one query, open ones first."""
    queryset = source.records(user)
    done = Case(
        When(state__in=_final_states(queryset.model), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    newest = [F("updated_at").desc(), F("pk").desc()]
    return (
        queryset.defer("description")
        .annotate(done=done)
        .annotate(rank=Window(RowNumber(), partition_by=[F("done")], order_by=newest))
        .filter(rank__lte=LISTED)
        .order_by("done", *newest)
    )


def my_tickets(user) -> Tickets:
    tickets = Tickets()
    for source in registry.portal:
        opened = closed = 0
        for record in _listed(source, user):
            url = reverse(source.detail_url_name, args=[record.number])
            ticket = Ticket(source, record, url, done=record.done)
            if record.done:
                closed += 1
                tickets.closed.append(ticket)
            else:
                opened += 1
                ticket.waiting = source.waiting_on(record)
                tickets.open.append(ticket)
        tickets.more_open |= opened >= LISTED
        tickets.more_closed |= closed >= LISTED
    for listed in (tickets.open, tickets.closed):  # all practices together, newest first
        listed.sort(key=lambda t: (t.record.updated_at, t.record.pk), reverse=True)
    return tickets


def waiting_for(user, tickets: Tickets) -> list[WaitingRow]:
    """Everything waiting for the person: their tickets that wait on them, then what the
    practices declare besides (approvals…)."""
    rows = [
        WaitingRow(
            number=t.waiting.number or t.record.number,
            title=t.waiting.title or t.record.title,
            url=t.waiting.url or t.url,
            reason=t.waiting.reason,
            actions=t.waiting.actions,
            kind=t.waiting.kind or t.kind,
        )
        for t in tickets.open
        if t.waiting is not None
    ]
    for item in registry.waiting_for(user):
        rows.append(
            WaitingRow(item.number, item.title, item.url, item.reason, item.actions, item.kind)
        )
    return rows


def summary(rows: list[WaitingRow]) -> list[tuple[int, str]]:
    """How many of each kind wait: ``[(1, "approval"), (2, "issue")]``."""
    counts: dict[str, int] = {}
    for row in rows:
        kind = (row.kind or "item").lower()
        counts[kind] = counts.get(kind, 0) + 1
    return [(count, kind) for kind, count in counts.items()]


def home_context(request) -> dict:
    user = request.user
    tickets = my_tickets(user)
    waiting = waiting_for(user, tickets)
    panels = [
        {"template": panel.template, **panel.context_for(request)} for panel in registry.panels
    ]
    return {
        "tickets": tickets,
        "waiting": waiting,
        "waiting_summary": summary(waiting),
        "panels": panels,
    }
