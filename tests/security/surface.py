"""Everything one can reach: the API's operations as its OpenAPI schema lists them, and
every other URL pattern of ``itsm.urls`` (screens, portal, admin…), each with the view
behind it and the access rule that holds for it."""

import re
from dataclasses import dataclass
from functools import cache

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from itsm.api.screens import TrackedScreens
from itsm.api.viewsets import RecordViewSet

from . import policy

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Endpoint:
    """One URL pattern (or schema path) with its view."""

    kind: str  # "api" (in the schema), "page" (any other pattern), "admin"
    route: str  # the schema's path, or the pattern's route
    name: str  # the URL name (``ns:name``), or the route when it has none
    methods: tuple[str, ...]
    callback: object
    arg_names: tuple[str, ...]

    @property
    def view_class(self):
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    def action(self, method: str) -> str | None:
        actions = getattr(self.callback, "actions", None) or {}
        return actions.get(method.lower())

    @property
    def label(self) -> str:
        return f"{self.route} [{self.name}]"


def _pattern_args(pattern) -> tuple[str, ...]:
    regex = pattern.pattern.regex
    return tuple(regex.groupindex)


def _walk(patterns, prefix="", namespace="", args=()):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(
                entry.url_patterns,
                prefix + str(entry.pattern),
                full_ns,
                args + _pattern_args(entry),
            )
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            yield route, name, entry.callback, args + _pattern_args(entry)


def _clean_route(route: str) -> str:
    return route.replace("^", "").replace("$", "")


@cache
def url_patterns() -> list[tuple[str, str, object, tuple]]:
    return list(_walk(get_resolver().url_patterns))


def _coerced(path: str) -> str:
    return path.replace("{pk}", "{id}")


@cache
def schema() -> tuple[dict, list]:
    generator = SchemaGenerator()
    document = generator.get_schema(request=None, public=True)
    return document, list(generator.endpoints)


@cache
def api_endpoints() -> list[Endpoint]:
    """Every path of the schema with its methods and view."""
    document, endpoints = schema()
    callbacks = {}
    for path, _regex, method, callback in endpoints:
        # The schema calls a primary key {id} where the URL pattern says {pk}.
        callbacks.setdefault(_coerced(path), {})[method.upper()] = (path, callback)
    names = {}
    for route, name, callback, _args in url_patterns():
        names[id(callback)] = name or _clean_route(route)
    found = []
    for path, operations in document["paths"].items():
        methods = tuple(
            m.upper() for m in operations if m.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE")
        )
        by_method = callbacks[_coerced(path)]
        for method in methods:
            raw_path, callback = by_method[method]
            found.append(
                Endpoint(
                    "api",
                    raw_path,
                    names.get(id(callback), raw_path),
                    (method,),
                    callback,
                    tuple(re.findall(r"{(\w+)}", raw_path)),
                )
            )
    return found


@cache
def page_endpoints() -> list[Endpoint]:
    """Every URL pattern the schema does not list: screens, portal, admin, the rest."""
    in_schema = {id(e.callback) for e in api_endpoints()}
    found = []
    for route, name, callback, args in url_patterns():
        if id(callback) in in_schema:
            continue
        kind = "admin" if route.startswith("admin/") else "page"
        found.append(
            Endpoint(
                kind, _clean_route(route), name or _clean_route(route), ("GET",), callback, args
            )
        )
    return found


def _permission_rule(view_class, method: str) -> policy.Rule | None:
    classes = getattr(view_class, "permission_classes", None) or []
    rules = [policy.PERMISSION_CLASSES.get(c.__name__) for c in classes]
    rules = [r for r in rules if r is not None]
    return rules[0] if len(rules) == 1 else None


def _screens_rule(endpoint: Endpoint, view_class, method: str) -> policy.Rule | None:
    if not (isinstance(view_class, type) and issubclass(view_class, TrackedScreens)):
        return None
    action = endpoint.action(method)  # None: the route does not serve this method
    if action in view_class.staff_actions:
        return policy.STAFF_ONLY
    if view_class.audience == "workspace" and action not in view_class.end_user_actions:
        return policy.STAFF_ONLY
    return policy.RECORD


def rule_for(endpoint: Endpoint, method: str = "GET") -> policy.Rule | None:
    """The rule of one endpoint: the table's exact entry, else what the code says (the
    view's permission classes, a screen's audience), else the table's prefix default, else
    a record viewset's record rule; None: nobody said (the coverage test names it)."""
    if endpoint.name in policy.EXPLICIT:
        return policy.EXPLICIT[endpoint.name]
    if endpoint.kind == "admin":
        if endpoint.name.endswith("_changelist"):
            return policy.ADMIN_SITE_ONLY
        return policy.explicit_rule(endpoint.name) or policy.EXPLICIT["admin:"]
    view_class = endpoint.view_class
    derived = _permission_rule(view_class, method) or _screens_rule(endpoint, view_class, method)
    if derived is not None:
        return derived
    prefixed = policy.explicit_rule(endpoint.name)
    if prefixed is not None:
        return prefixed
    if isinstance(view_class, type) and issubclass(view_class, RecordViewSet):
        return policy.RECORD
    return None


def model_of(endpoint: Endpoint):
    view_class = endpoint.view_class
    queryset = getattr(view_class, "queryset", None)
    return getattr(queryset, "model", None)
