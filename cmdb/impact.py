"""Impact analysis: which CIs an outage reaches, what a CI depends on, and the graph
around a CI for the service map.

The walk runs in the database as one recursive query (PostgreSQL and SQLite both speak
``WITH RECURSIVE``). Cycles are safe: the recursive step is a ``UNION`` over CI ids, so a
CI reached again adds no row and the walk ends when nothing new is reached. The same
query returns the edges between the reached CIs, from which a breadth-first pass gives
each CI its distance and the relationship that brought the outage to it."""

from collections import deque
from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext

from .models import CIClass, ConfigurationItem, Relationship, RelationshipType

Spread = RelationshipType.Spread

#: ``impact``: from a failing CI to the CIs it affects; ``dependencies``: from a CI to
#: the CIs it needs (the same edges walked the other way); ``neighbourhood``: every
#: relationship both ways, whatever the outage does (the service map).
IMPACT, DEPENDENCIES, NEIGHBOURHOOD = "impact", "dependencies", "neighbourhood"


@dataclass(frozen=True)
class Reached:
    ci_id: int
    depth: int
    #: The CI the outage (or dependency) came from, and the relationship it travelled.
    via_ci_id: int | None
    via_relationship_id: int | None


def _type_ids() -> dict[str, list[int]]:
    by_spread: dict[str, list[int]] = {}
    for pk, spread in RelationshipType.objects.values_list("pk", "outage_spreads"):
        by_spread.setdefault(spread, []).append(pk)
    return by_spread


def _step(direction: str, alias: str, types: dict | None = None) -> tuple[str, list]:
    """SQL joining the walk's table ``alias`` to the relationships it can travel, giving
    ``e.to_id`` and ``e.rel_id``, and its parameters.

    On PostgreSQL a ``LATERAL`` subquery per reached CI, so each step is an index lookup
    on the relationship's source or target (a plain join to a UNION of the two directions
    makes the planner read every relationship); elsewhere a plain join."""
    table = Relationship._meta.db_table
    types = _type_ids() if types is None else types
    backward = types.get(Spread.TO_SOURCE, []) + types.get(Spread.BOTH, [])
    forward = types.get(Spread.TO_TARGET, []) + types.get(Spread.BOTH, [])
    if direction == DEPENDENCIES:
        backward, forward = forward, backward
    if direction == NEIGHBOURHOOD:
        every = [pk for ids in types.values() for pk in ids]
        backward = forward = every
    lateral = connection.vendor == "postgresql"
    parts, params = [], []
    for ids, from_col, to_col in (
        (backward, "target_id", "source_id"),
        (forward, "source_id", "target_id"),
    ):
        if not ids:
            continue
        marks = ", ".join(["%s"] * len(ids))
        if lateral:
            parts.append(
                f"SELECT r.{to_col} AS to_id, r.id AS rel_id FROM {table} r "
                f"WHERE r.{from_col} = {alias}.ci_id AND r.type_id IN ({marks})"
            )
        else:
            parts.append(
                f"SELECT r.{from_col} AS from_id, r.{to_col} AS to_id, r.id AS rel_id "
                f"FROM {table} r WHERE r.type_id IN ({marks})"
            )
        params.extend(ids)
    if not parts:
        return f"JOIN (SELECT 0 AS to_id, 0 AS rel_id) e ON {alias}.ci_id IS NULL", []
    union = " UNION ALL ".join(parts)
    if lateral:
        return f"CROSS JOIN LATERAL ({union}) e", params
    return f"JOIN ({union}) e ON e.from_id = {alias}.ci_id", params


def _bigint() -> str:
    """The starting id, typed like the id columns (PostgreSQL insists)."""
    return "CAST(%s AS bigint)" if connection.vendor == "postgresql" else "%s"


def walk(
    ci_id: int,
    direction: str = IMPACT,
    max_depth: int | None = None,
    *,
    types: dict | None = None,
    services: set | None = None,
) -> list[Reached]:
    """Every CI reached from ``ci_id`` (itself excluded), nearest first.

    ``types``: the relationship types by spread, when already read; ``services``: a set
    the business services reached are added to (read by the same query)."""
    return walk_from([ci_id], direction, max_depth, types=types, services=services)


def walk_from(
    ci_ids,
    direction: str = IMPACT,
    max_depth: int | None = None,
    *,
    types: dict | None = None,
    services: set | None = None,
) -> list[Reached]:
    """Every CI reached from any of ``ci_ids`` (the starts excluded), nearest first, in one
    query whatever the number of starts (a change touching fifty CIs: one walk, not
    fifty). A CI's depth is its distance from the nearest start; ``via_ci_id`` names the
    CI the walk came from (a start for the first ring)."""
    starts = list(dict.fromkeys(ci_ids))
    if not starts:
        return []
    step, step_params = _step(direction, "w", types)
    anchor = " UNION ".join(
        [f"SELECT {_bigint()}" + ("" if max_depth is None else ", 0")] * len(starts)
    )
    if max_depth is None:
        walk_sql = f"walk(ci_id) AS ({anchor} UNION SELECT e.to_id FROM walk w {step})"
        params = [*starts, *step_params]
        reached_sql = "SELECT ci_id FROM walk"
    else:
        # Bounded: (ci, depth) pairs, so a CI met again nearer is kept; the bound ends it.
        walk_sql = (
            f"walk(ci_id, depth) AS ({anchor} "
            f"UNION SELECT e.to_id, w.depth + 1 FROM walk w {step} WHERE w.depth < %s)"
        )
        params = [*starts, *step_params, max_depth]
        reached_sql = "SELECT DISTINCT ci_id FROM walk WHERE depth < %s"
        params.append(max_depth)
    # The edges leaving every CI reached: a breadth-first pass over them gives distances.
    flag, join = ", 0", ""
    if services is not None:
        items, classes = ConfigurationItem._meta.db_table, CIClass._meta.db_table
        flag = ", k.is_service"
        join = f" JOIN {items} c ON c.id = e.to_id JOIN {classes} k ON k.id = c.ci_class_id"
    sql = (
        f"WITH RECURSIVE {walk_sql} SELECT w.ci_id, e.to_id, e.rel_id{flag} "
        f"FROM ({reached_sql}) w {step}{join}"
    )
    params += step_params
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    adjacency: dict[int, list[tuple[int, int]]] = {}
    flagged = set()
    for from_id, to_id, rel_id, is_service in rows:
        adjacency.setdefault(from_id, []).append((to_id, rel_id))
        if is_service:
            flagged.add(to_id)
    for targets in adjacency.values():
        targets.sort()
    seen = set(starts)
    reached: list[Reached] = []
    queue = deque((start, 0) for start in starts)
    while queue:
        current, depth = queue.popleft()
        if max_depth is not None and depth >= max_depth:
            continue
        for to_id, rel_id in adjacency.get(current, ()):
            if to_id in seen:
                continue
            seen.add(to_id)
            reached.append(Reached(to_id, depth + 1, current, rel_id))
            queue.append((to_id, depth + 1))
    if services is not None:
        services.update(r.ci_id for r in reached if r.ci_id in flagged)
    return reached


@dataclass
class Analysis:
    ci: ConfigurationItem
    direction: str
    max_depth: int | None
    #: every CI reached, nearest first
    reached: list[Reached]
    #: the CIs loaded: the first ``limit`` reached, the CIs they were reached from, and
    #: every business service reached
    items: dict[int, ConfigurationItem]
    relationships: dict[int, Relationship]
    service_ids: list[int]
    limit: int | None = None

    @property
    def total(self) -> int:
        return len(self.reached)

    @property
    def services(self) -> list[ConfigurationItem]:
        """The business services among all the CIs reached, nearest first."""
        return [self.items[pk] for pk in self.service_ids]

    def describe(self, relationship: Relationship) -> str:
        """``erp-app runs on db-01``, with names of CIs already loaded (a CI the reader may
        not see is not loaded, nor named)."""
        unseen = gettext("a CI not shown to you")
        source = self.items.get(relationship.source_id)
        target = self.items.get(relationship.target_id)
        return (
            f"{source.name if source else unseen} {relationship.type.name} "
            f"{target.name if target else unseen}"
        )

    def rows(self):
        """(reached, CI, relationship) in walking order, the first ``limit`` of them."""
        shown = self.reached if self.limit is None else self.reached[: self.limit]
        for r in shown:
            yield r, self.items[r.ci_id], self.relationships.get(r.via_relationship_id)


def analyse(
    ci: ConfigurationItem,
    direction: str = IMPACT,
    max_depth: int | None = None,
    limit: int | None = None,
    services_at_any_depth: bool = False,
    reader=None,
) -> Analysis:
    """The walk with what it shows loaded: four queries whatever the size of the
    result. Only the first ``limit`` CIs reached (all if
    None) are loaded in full, with the business services among all of them.

    ``services_at_any_depth``: the business services are looked for along the whole chain,
    however deep the CIs listed go (a server's outage reaches the service four hops up,
    even when the page lists the nearest two); the same queries, the walk is not bounded.

    ``reader``: only the CIs this person may see are listed, loaded and named (under
    data separation by organization, another customer's CIs); one query more."""
    flagged: set[int] = set()
    everything = walk(
        ci.pk, direction, None if services_at_any_depth else max_depth, services=flagged
    )
    if reader is not None and everything and not sees_every_ci(reader):
        seen = visible_ids(
            reader, {r.ci_id for r in everything} | {r.via_ci_id for r in everything}
        )
        everything = [r for r in everything if r.ci_id in seen]
    else:
        seen = None
    if max_depth is None:
        reached = everything
    else:
        reached = [r for r in everything if r.depth <= max_depth]
    shown = reached if limit is None else reached[:limit]
    # The walk itself says which CIs reached are business services: nearest first.
    service_ids = [r.ci_id for r in everything if r.ci_id in flagged]
    if everything:
        wanted = {r.ci_id for r in shown} | {r.via_ci_id for r in shown} | set(service_ids)
        if seen is not None:
            wanted &= seen
        wanted.discard(ci.pk)
        items = (
            ConfigurationItem.objects.select_related("ci_class")
            .defer("attributes", "description")
            .in_bulk(wanted)
        )
    else:
        items = {}
    items[ci.pk] = ci
    rel_ids = [r.via_relationship_id for r in shown]
    relationships = Relationship.objects.select_related("type").in_bulk(rel_ids) if rel_ids else {}
    return Analysis(ci, direction, max_depth, reached, items, relationships, service_ids, limit)


@dataclass
class Graph:
    nodes: list[ConfigurationItem]
    edges: list[Relationship]
    #: distance of each node from the centre
    depth: dict[int, int]
    truncated: bool


def sees_every_ci(reader) -> bool:
    """Staff whose view no data separation narrows see every CI: nothing to filter."""
    from itsm.core.scoping import separation

    return reader.is_agent and separation(reader) is None


def visible_ids(reader, ids) -> set[int]:
    """Which of these CIs ``reader`` may see (the CMDB's scoping rule); one query."""
    return set(
        ConfigurationItem.objects.visible_to(reader)
        .filter(pk__in=list(ids))
        .values_list("pk", flat=True)
    )


def neighbourhood(
    ci: ConfigurationItem,
    depth: int = 2,
    limit: int = 300,
    services: bool = False,
    reader=None,
) -> Graph:
    """The CIs within ``depth`` relationships of ``ci`` (any type, either way) and the
    relationships between them; at most ``limit`` CIs, nearest first.

    ``services``: also the business services an outage of ``ci`` reaches further away,
    each with the CIs that carry the outage to it from the neighbourhood (so the map
    shows what is at stake at any depth); one query more, whatever the graph.

    ``reader``: only the CIs this person may see are drawn (one query more)."""
    types = _type_ids()
    reached = walk(ci.pk, NEIGHBOURHOOD, depth, types=types)
    narrowed = reader is not None and not sees_every_ci(reader)
    if narrowed and reached:
        seen = visible_ids(reader, {r.ci_id for r in reached})
        reached = [r for r in reached if r.ci_id in seen]
    truncated = len(reached) + 1 > limit
    reached = reached[: limit - 1]
    distance = {ci.pk: 0, **{r.ci_id: r.depth for r in reached}}
    if services:
        truncated = _add_services(ci, distance, limit, types) or truncated
    if narrowed and services:
        seen = visible_ids(reader, set(distance)) | {ci.pk}
        distance = {pk: d for pk, d in distance.items() if pk in seen}
    ids = list(distance)
    items = ConfigurationItem.objects.select_related("ci_class").in_bulk(ids)
    edges = list(
        Relationship.objects.filter(source_id__in=ids, target_id__in=ids)
        .select_related("type")
        .order_by("id")
    )
    nodes = [items[pk] for pk in ids if pk in items]
    return Graph(nodes=nodes, edges=edges, depth=distance, truncated=truncated)


def _add_services(ci: ConfigurationItem, distance: dict[int, int], limit: int, types) -> bool:
    """Add to ``distance`` the business services an outage of ``ci`` reaches beyond it,
    with the chain of CIs leading to each; True when ``limit`` cut some off."""
    services: set[int] = set()
    outage = walk(ci.pk, IMPACT, types=types, services=services)
    by_id = {r.ci_id: r for r in outage}
    for r in outage:
        if r.ci_id not in services or r.ci_id in distance:
            continue
        chain = [r.ci_id]
        while by_id[chain[-1]].via_ci_id not in distance:
            chain.append(by_id[chain[-1]].via_ci_id)
        if len(distance) + len(chain) > limit:
            return True
        start = distance[by_id[chain[-1]].via_ci_id]
        for step, pk in enumerate(reversed(chain), start=1):
            distance[pk] = start + step
    return False
