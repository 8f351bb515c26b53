"""The data separation tests' world: two teams (X serves customer O1, Y serves O2), an
agent of each, a customer of each, and for every separated type (found at run time: a
model whose queryset's ``separation_scope`` narrows a staff member's view in the mode) rows
that agent X must not see and rows they must see.

Rows are copies of the demo's rows of the type (so a new record type is covered as soon
as the demo holds one), given the assignment, requester or owner that decides their
visibility. How to make a row "theirs" or "not theirs" is known for every record type
(``assignment_group``, ``assigned_to``, the queryset's ``requester_path``); a separated
type that is no record needs a maker in ``MAKERS`` (the coverage test names one that has
none)."""

from dataclasses import dataclass, field

from django.apps import apps
from django.core.management import call_command
from django.db import models

from cmdb.models import ConfigurationItem
from itsm.accounts.models import Organization, Role, Team, User
from itsm.core.models import RecordQuerySet
from itsm.core.numbering import next_number
from itsm.core.scoping import Separation
from practices.assets.models import Asset

from . import samples

MODES = ("teams", "organizations")


@dataclass
class Row:
    """One row made for a mode: ``visible``: whether agent X must see it."""

    label: str
    row: object
    visible: bool
    #: Text only this row carries (its title or name): search finds it by this word.
    token: str

    @property
    def texts(self) -> list[str]:
        """What names the row in an answer: its number (or tag) and its token."""
        names = [self.token]
        for attribute in ("number", "asset_tag"):
            value = getattr(self.row, attribute, None)
            if value:
                names.append(str(value))
        return names


@dataclass
class World:
    teams: dict[str, Team] = field(default_factory=dict)
    organizations: dict[str, Organization] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)
    #: mode -> model -> rows
    rows: dict[str, dict[type, list[Row]]] = field(default_factory=dict)
    #: mode -> people agent X must not see / must see (people are separated by organization)
    hidden_people: dict[str, list[User]] = field(default_factory=dict)
    visible_people: dict[str, list[User]] = field(default_factory=dict)
    #: models separated in a mode that no maker knows (the coverage test names them)
    unmade: dict[str, list[type]] = field(default_factory=dict)
    #: mode -> model -> rows of it that name a row agent X must not see
    dependents: dict[str, dict[type, list]] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return self.people[name]

    def hidden(self, mode: str) -> list[Row]:
        return [r for rows in self.rows[mode].values() for r in rows if not r.visible]

    def visible(self, mode: str) -> list[Row]:
        return [r for rows in self.rows[mode].values() for r in rows if r.visible]


def probe_separation(mode: str) -> Separation:
    """A separation of a staff member of no team (made without the database: which types
    are separated is known when the tests are collected)."""
    separation = Separation.__new__(Separation)
    separation.user = User(pk=0, role=Role.AGENT)
    separation.mode = mode
    empty = frozenset()
    separation.team_ids = separation.served_organization_ids = empty
    separation.customer_ids = separation.serving_team_ids = separation.customer_team_ids = empty
    return separation


def separated_models(mode: str) -> list[type]:
    """Every model whose rows a staff member sees narrowed in ``mode``."""
    separation = probe_separation(mode)
    found = []
    for model in apps.get_models():
        queryset = model._default_manager.all()
        scope = getattr(queryset, "separation_scope", None)
        if scope is not None and scope(separation) is not None:
            found.append(model)
    return found


def is_record_type(model) -> bool:
    queryset = model._default_manager.all()
    names = {f.name for f in model._meta.fields}
    return isinstance(queryset, RecordQuerySet) and {"assignment_group", "assigned_to"} <= names


# Copies -------------------------------------------------------------------------------------

_copies = 0


def _unique_suffix() -> str:
    global _copies
    _copies += 1
    return f"sep{_copies}"


def copy_row(row, **values):
    """A new row like ``row`` with ``values``: a new number for a record, unique fields and
    the fields of unique constraints made unique."""
    model = type(row)
    fresh = model._default_manager.get(pk=row.pk)
    fresh.pk = None
    fresh.id = None
    fresh._state.adding = True
    suffix = _unique_suffix()
    unique = {f.name for f in model._meta.fields if f.unique and not f.primary_key}
    for constraint in model._meta.constraints:
        unique |= set(getattr(constraint, "fields", ()) or ())
    for name in unique:
        f = model._meta.get_field(name)
        value = getattr(fresh, f.attname)
        if name == "number" and hasattr(model, "NUMBER_PREFIX"):
            fresh.number = next_number(model.NUMBER_PREFIX)
        elif isinstance(f, models.CharField) and value:
            setattr(fresh, f.attname, f"{value}-{suffix}"[: f.max_length])
        elif f.null and value is not None and not isinstance(f, models.ForeignKey):
            setattr(fresh, f.attname, None)
    for name, value in values.items():
        setattr(fresh, name, value)
    fresh.save()
    return fresh


def _title_field(model) -> str:
    names = {f.name for f in model._meta.fields}
    for name in ("title", "name", "model"):
        if name in names:
            return name
    raise LookupError(f"{model.__name__}: no title field to carry a token")


def _set_path(values: dict, row, path: str, person) -> None:
    """Set the person at ``path`` (``requester``, ``request__requested_for``): a path
    through another row copies that row (so other rows keep theirs)."""
    head, _, rest = path.partition("__")
    if not rest:
        values[head] = person
        return
    related = getattr(row, head)
    inner = {}
    _set_path(inner, related, rest, person)
    values[head] = copy_row(related, **inner)


# Makers: one row of a model, seen or not by agent X ----------------------------------------


def _record_row(world, model, mode, template, visible, token):
    """A record: in ``teams`` mode by its assignment (another team's and another agent's,
    or their team's, or another team's but assigned to them); in ``organizations`` mode by
    its requester's organization (a customer they do not serve, even assigned to them; one
    they serve, even assigned to another team), or for a type that is nobody's request by
    its assignment as with teams."""
    x, y = world.teams["x"], world.teams["y"]
    agent_x, agent_y = world.user("agent_x"), world.user("agent_y")
    path = model._default_manager.all().requester_path()
    values = {_title_field(model): f"Separation {token} record"}
    if mode == "organizations" and path is not None:
        requester = world.user("customer_o1" if visible else "customer_o2")
        group, assignee = (y, agent_y) if visible else (x, agent_x)
    else:
        requester = world.user("requester_t" if visible else "requester_t_hidden")
        if visible == "assigned":
            group, assignee = y, agent_x
        elif visible:
            group, assignee = x, None
        else:
            group, assignee = y, agent_y
    values.update(assignment_group=group, assigned_to=assignee)
    if path is not None:
        _set_path(values, template, path, requester)
    return copy_row(template, **values)


def _ci_row(world, model, mode, template, visible, token):
    team = world.teams["x" if visible else "y"]
    return copy_row(template, name=f"Separation {token} ci", owner_team=team, support_team=team)


def _asset_row(world, model, mode, template, visible, token):
    person = world.user("customer_o1" if visible else "customer_o2")
    return copy_row(template, model=f"Separation {token} asset", assigned_to=person)


#: Separated types that are no record: how to make one row of them seen or not.
MAKERS = {ConfigurationItem: _ci_row, Asset: _asset_row}


def _template(model, agent_x):
    """A demo row to copy: one agent X would not see as a person (a published article is
    everyone's)."""
    queryset = model._default_manager.all()
    shown = queryset.for_end_user(agent_x) if hasattr(queryset, "for_end_user") else None
    if shown is not None:
        queryset = queryset.exclude(pk__in=shown.values("pk"))
    if model in samples.PREFERRED:  # rows end users read (public known errors…)
        queryset = queryset.exclude(pk__in=samples.PREFERRED[model](queryset).values("pk"))
    return queryset.order_by("pk").first()


def _people(world: World) -> None:
    o1 = Organization.objects.create(name="Separation customer O1")
    o2 = Organization.objects.create(name="Separation customer O2")
    world.organizations = {"o1": o1, "o2": o2}
    x = Team.objects.create(name="Separation team X")
    y = Team.objects.create(name="Separation team Y")
    x.organizations.add(o1)
    y.organizations.add(o2)
    world.teams = {"x": x, "y": y}

    def person(username, role, organization=None, team=None):
        user = User(
            username=username,
            email=f"{username}@example.com",
            first_name=username.replace("_", " ").title(),
            last_name="Separated",
            role=role,
            organization=organization,
        )
        user.set_unusable_password()
        user.save()
        if team is not None:
            team.members.add(user)
        world.people[username] = User.objects.get(pk=user.pk)

    person("agent_x", Role.AGENT, team=x)
    person("agent_y", Role.AGENT, team=y)
    person("customer_o1", Role.END_USER, o1)
    person("customer_o2", Role.END_USER, o2)
    # The requesters of the teams mode's rows: of those agent X sees, and of the others.
    person("requester_t", Role.END_USER)
    person("requester_t_hidden", Role.END_USER)
    world.hidden_people = {"teams": [], "organizations": [world.user("customer_o2")]}
    world.visible_people = {
        "teams": [world.user("customer_o2"), world.user("customer_o1")],
        "organizations": [world.user("customer_o1"), world.user("requester_t")],
    }


#: The rows made per separated type and mode: (label, visible).
KINDS = {
    "teams": (("another team's", False), ("their team's", True), ("assigned to them", "assigned")),
    "organizations": (("another customer's", False), ("a customer they serve", True)),
}


def build(load_demo: bool = True) -> World:
    if load_demo:
        call_command("load_demo", verbosity=0)
    world = World()
    _people(world)
    agent_x = world.user("agent_x")
    for mode in MODES:
        world.rows[mode] = {}
        world.unmade[mode] = []
        for model in separated_models(mode):
            maker = MAKERS.get(model) or (_record_row if is_record_type(model) else None)
            template = _template(model, agent_x)
            if maker is None or template is None:
                world.unmade[mode].append(model)
                continue
            kinds = KINDS[mode]
            if maker is not _record_row:
                kinds = [k for k in kinds if k[1] != "assigned"]
            made = []
            for index, (label, visible) in enumerate(kinds):
                token = f"zq{mode[:3]}{model._meta.model_name}{index}"
                row = maker(world, model, mode, template, visible, token)
                made.append(Row(label, row, bool(visible), token))
            world.rows[mode][model] = made
    return world


# Rows that belong to a separated row: an SLA timer, an approval, a conflict… --------------


def dependent_fields(model, separated) -> list:
    """The fields of ``model`` (not separated itself) that name a row of a separated type:
    its foreign keys to one, and its generic foreign keys (a timer's record)."""
    from django.contrib.contenttypes.fields import GenericForeignKey

    if model in separated:
        return []
    fields = [
        f
        for f in model._meta.fields
        if f.many_to_one and f.related_model in separated and f.name != "assigned_to"
    ]
    fields += [f for f in model._meta.private_fields if isinstance(f, GenericForeignKey)]
    return fields


@dataclass
class Dependent:
    """A row of ``model`` made to belong to ``parent`` (a row agent X must not see)."""

    row: object
    parent: Row
    field: str

    @property
    def label(self) -> str:
        return f"{type(self.row).__name__} of {self.parent.label} {type(self.parent.row).__name__}"

    @property
    def texts(self) -> list[str]:
        return self.parent.texts


def attach_dependents(world: World, models) -> None:
    """For each of ``models`` naming a separated type, a copy of one of its rows made to
    name a row agent X must not see (per mode): ``world.dependents[mode][model]``."""
    from django.contrib.contenttypes.fields import GenericForeignKey
    from django.contrib.contenttypes.models import ContentType
    from django.db import IntegrityError, transaction

    world.dependents = {}
    for mode in MODES:
        hidden = {type(r.row): r for r in world.hidden(mode)}
        made = world.dependents[mode] = {}
        for model in models:
            for f in dependent_fields(model, set(hidden)):
                if isinstance(f, GenericForeignKey):
                    types = ContentType.objects.get_for_models(*hidden)
                    template = (
                        model._default_manager.filter(**{f"{f.ct_field}__in": types.values()})
                        .order_by("pk")
                        .first()
                    )
                    if template is None:
                        continue
                    parent = hidden[getattr(template, f.ct_field).model_class()]
                    values = {
                        f.ct_field: ContentType.objects.get_for_model(type(parent.row)),
                        f.fk_field: parent.row.pk,
                    }
                else:
                    template = (
                        model._default_manager.filter(**{f"{f.name}__isnull": False})
                        .order_by("pk")
                        .first()
                    )
                    if template is None:
                        continue
                    parent = hidden[f.related_model]
                    values = {f.name: parent.row}
                for other in dependent_fields(model, set(hidden)):
                    if other is not f:  # its other end: a row agent X sees (a bridge)
                        values.update(_visible_end(world, mode, other, parent))
                try:
                    with transaction.atomic():
                        row = copy_row(template, **values)
                except (IntegrityError, ValueError):
                    continue
                made.setdefault(model, []).append(Dependent(row, parent, f.name))


def _visible_end(world, mode, f, parent) -> dict:
    """Values pointing ``f`` (a foreign key or a generic one) at a row agent X sees, of
    the field's type (a generic one: of the hidden end's type)."""
    from django.contrib.contenttypes.fields import GenericForeignKey
    from django.contrib.contenttypes.models import ContentType

    model = type(parent.row) if isinstance(f, GenericForeignKey) else f.related_model
    seen = [r for r in world.rows[mode].get(model, []) if r.visible]
    if not seen:
        return {}
    if isinstance(f, GenericForeignKey):
        return {f.ct_field: ContentType.objects.get_for_model(model), f.fk_field: seen[0].row.pk}
    return {f.name: seen[0].row}


def bridging_models() -> set:
    """Models with two fields naming separated rows (links, relationships, conflicts…):
    one made to join a row agent X sees to one they may not, in each mode."""
    found = set()
    for mode in MODES:
        separated = set(separated_models(mode))
        found |= {m for m in apps.get_models() if len(dependent_fields(m, separated)) >= 2}
    return found
