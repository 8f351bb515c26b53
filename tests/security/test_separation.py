"""Data separation: with ``DATA_SEPARATION = "teams"`` an agent of team X does not reach a
record of team Y (404 on every detail URL of it, absent from every list, page, search,
lookup and choice), and sees their team's records and those assigned to them; with
``"organizations"`` an agent whose team serves customer O1 does not reach O2's records nor
O2's people, and sees O1's.

The cases come from the surface, as the matrix's: every API operation and page (GET) of a
separated type (the types are found at run time, ``separation.separated_models``) on each
row made for it, and every write naming a row they may not see (refused, nothing
changed); the URLs of rows that name such a row (timers, approvals, conflicts…:
``separation.attach_dependents``), and rows joining one they see to one they may not
(links, relationships); every other page and API list, searched for the rows agent X must
not see; every search endpoint, lookup, serializer choice, the change calendar's feed and
the contact card's figures. The data (the demo, two teams, two customers, the rows) is
built once for the module and rolled back at the end."""

import json

import pytest
from django.db import connection, transaction
from django.test import Client
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from itsm.accounts.models import Role, User
from itsm.core import lookups
from itsm.core import search as core_search

from . import policy, samples, surface
from . import separation as world_of
from .data import built_for_the_module
from .test_matrix import WRITE_METHODS, _send, _writes_so_far

AGENT = policy.ROLES_BY_NAME["agent"]
SEPARATED = {mode: set(world_of.separated_models(mode)) for mode in world_of.MODES}
#: Pages fetched elsewhere only as a sample of roles (slow): not walked here.
SKIPPED = set(policy.SAMPLED_ROLES)
#: Answers that name records whatever the separation, and why.
NOT_SEPARATED = {
    # One's own data (the right of access): every record that names the person, such as
    # those assigned to them, whoever may see them now.
    "privacy:export": "a person's own data",
}


def _model(endpoint):
    return surface.model_of(endpoint) or samples.FUNCTION_VIEW_MODELS.get(endpoint.name)


def _agent_reads(endpoint) -> bool:
    """Whether the matrix lets an agent read the endpoint (on a row they may see)."""
    rule = surface.rule_for(endpoint, "GET")
    if rule is None or rule.skip_writes or endpoint.name in SKIPPED:
        return False
    allowed = rule.allows(AGENT, write=False, detail=bool(endpoint.arg_names), owner=False)
    return allowed is not False


def _endpoints():
    for endpoint in [*surface.api_endpoints(), *surface.page_endpoints()]:
        if endpoint.kind == "admin" or "GET" not in endpoint.methods:
            continue
        if _agent_reads(endpoint):
            yield endpoint


def _cases():
    rows, anywhere = [], []
    for mode in world_of.MODES:
        for endpoint in _endpoints():
            model = _model(endpoint)
            label = f"{mode} {endpoint.route} [{endpoint.name}]"
            if model in SEPARATED[mode] and len(endpoint.arg_names) == 1:
                rows.append(pytest.param(mode, endpoint, id=label))
            elif not endpoint.arg_names:
                anywhere.append(pytest.param(mode, endpoint, id=label))
    return rows, anywhere


ROW_CASES, ANYWHERE_CASES = _cases()


def _write_cases():
    cases = []
    for mode in world_of.MODES:
        for endpoint in [*surface.api_endpoints(), *surface.page_endpoints()]:
            if endpoint.kind == "admin" or len(endpoint.arg_names) != 1:
                continue
            if _model(endpoint) not in SEPARATED[mode]:
                continue
            methods = endpoint.methods if endpoint.kind == "api" else ("POST",)
            for method in set(methods) & set(WRITE_METHODS):
                rule = surface.rule_for(endpoint, method)
                if rule is None or rule.skip_writes:
                    continue
                if rule.allows(AGENT, write=True, detail=True, owner=False) is False:
                    continue  # refused to agents whatever the row (the matrix checks it)
                label = f"{mode} {method} {endpoint.route} [{endpoint.name}]"
                cases.append(pytest.param(mode, endpoint, method, id=label))
    return cases


WRITE_CASES = _write_cases()
#: Types (of an endpoint) whose rows name a row of a separated type, by mode.
DEPENDENT = {
    mode: {
        m
        for e in _endpoints()
        if (m := _model(e)) is not None and world_of.dependent_fields(m, SEPARATED[mode])
    }
    for mode in world_of.MODES
}
DEPENDENT_CASES = [
    pytest.param(mode, endpoint, id=f"{mode} {endpoint.route} [{endpoint.name}]")
    for mode in world_of.MODES
    for endpoint in _endpoints()
    if _model(endpoint) in DEPENDENT[mode] and len(endpoint.arg_names) == 1
]
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db,
]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    with built_for_the_module(django_db_blocker, tmp_path_factory):
        built = world_of.build()
        world_of.attach_dependents(
            built, set().union(*DEPENDENT.values()) | world_of.bridging_models()
        )
        built.client = Client()
        built.client.force_login(built.user("agent_x"))
        yield built


@pytest.fixture
def separated(world, settings, request):
    """The mode of the case (its first parameter) in force while it runs."""
    settings.DATA_SEPARATION = request.node.callspec.params["mode"]
    return world


class _RowData:
    """What ``samples.sample`` reads, with ``row`` as the sample of its model."""

    def __init__(self, model, row):
        self.owned = {model: {"a": row}}
        self.extra = {}


def _get(client, url, **params):
    response = client.get(url, params)
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return response, raw.decode(errors="replace")


def _leaks(body, rows, asked="") -> list[str]:
    """What of ``rows`` the body names (but the words asked for: a search repeats them)."""
    return [
        f"{r.label} {type(r.row).__name__} ({text})"
        for r in rows
        for text in r.texts
        if text in body and text != asked
    ]


def _sees_required(endpoint) -> bool:
    """Whether an agent must see their rows there: the API, the workspace's screens (the
    portal shows staff what it shows everyone)."""
    view_class = endpoint.view_class
    return endpoint.kind == "api" or getattr(view_class, "audience", None) == "workspace"


# The rows of a separated type, by every URL that names one ----------------------------------


@pytest.mark.parametrize(("mode", "endpoint"), ROW_CASES)
def test_a_row_of_theirs_is_reached_and_another_is_not(separated, mode, endpoint):
    model = _model(endpoint)
    wrong = []
    for made in separated.rows[mode].get(model, []):
        sample = samples.sample(_RowData(model, made.row), endpoint)
        response, body = _get(separated.client, sample.url)
        status = response.status_code
        what = f"GET {sample.url} ({made.label})"
        if status == 405:
            continue  # the URL serves no GET (a form's target): nothing is shown
        if status >= 500:
            wrong.append(f"{what}: server error {status}")
        elif not made.visible:
            if status != 404:
                wrong.append(f"{what}: expected 404, got {status}")
            if leaked := _leaks(body, [made]):
                wrong.append(f"{what}: shows {leaked}")
        elif leaked := _leaks(body, separated.hidden(mode)):
            wrong.append(f"{what}: shows {leaked}")
        elif not _sees_required(endpoint):
            continue
        elif status in (401, 403, 404) or (status == 302 and "login" in response.url):
            wrong.append(f"{what}: expected to be let in, got {status}")
        elif endpoint.action("GET") == "retrieve" and status != 200:
            wrong.append(f"{what}: expected 200, got {status}")
    assert separated.rows[mode].get(model), f"no rows of {model.__name__} were made"
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("mode", "endpoint"), DEPENDENT_CASES)
def test_a_row_of_anothers_record_does_not_name_it(separated, mode, endpoint):
    """A timer, an approval, a conflict… of a record agent X may not see: its URLs name
    nothing of that record."""
    model = _model(endpoint)
    wrong = []
    for dependent in separated.dependents[mode].get(model, []):
        sample = samples.sample(_RowData(model, dependent.row), endpoint)
        response, body = _get(separated.client, sample.url)
        what = f"GET {sample.url} ({dependent.label})"
        if response.status_code >= 500:
            wrong.append(f"{what}: server error {response.status_code}")
        elif leaked := _leaks(body, [dependent]):
            wrong.append(f"{what}: {response.status_code}, shows {leaked}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("mode", "endpoint", "method"), WRITE_CASES)
def test_a_write_to_a_row_of_others_is_refused(separated, mode, endpoint, method):
    """Every write naming a row agent X may not see is a 404 (or 403) and changes
    nothing."""
    model = _model(endpoint)
    wrong = []
    for made in separated.rows[mode][model]:
        if made.visible:
            continue
        sample = samples.sample(_RowData(model, made.row), endpoint)
        with transaction.atomic():
            before = _writes_so_far()
            response = _send(separated.client, method, endpoint, sample.url)
            after = _writes_so_far()
            transaction.set_rollback(True)
        what = f"{method} {sample.url} ({made.label})"
        if response.status_code not in (403, 404, 405):
            wrong.append(f"{what}: expected a refusal, got {response.status_code}")
        elif after != before:
            changed = sorted(t for t in after if after[t] != before.get(t))
            wrong.append(f"{what}: {response.status_code}, changed {changed}")
    assert not wrong, "\n".join(wrong)


# Everything else: no list, page or figure names a row they may not see ---------------------


@pytest.mark.parametrize(("mode", "endpoint"), ANYWHERE_CASES)
def test_no_list_or_page_shows_a_row_of_others(separated, mode, endpoint):
    url = samples.sample(_RowData(None, None), endpoint).url
    params = {"page_size": 200} if endpoint.kind == "api" else {}
    response, body = _get(separated.client, url, **params)
    assert response.status_code < 500, f"GET {url}: {response.status_code}"
    leaked = _leaks(body, separated.hidden(mode))
    assert not leaked or endpoint.name in NOT_SEPARATED, f"GET {url} shows {leaked}"
    model = _model(endpoint)
    if endpoint.kind == "api" and endpoint.action("GET") == "list" and model in SEPARATED[mode]:
        assert response.status_code == 200, f"GET {url}: {response.status_code}"
        missing = [
            f"{r.label} {r.row}"
            for r in separated.rows[mode][model]
            if r.visible and str(getattr(r.row, "number", r.token)) not in body
        ]
        assert not missing, f"GET {url} does not list {missing}"


# Search, lookups, choices ----------------------------------------------------------------


def _search_endpoints():
    return [
        e for e in _endpoints() if not e.arg_names and ("search" in e.name or "suggest" in e.name)
    ]


@pytest.mark.parametrize("mode", world_of.MODES)
def test_search_finds_theirs_and_not_others(separated, mode):
    endpoints = _search_endpoints()
    assert {"api-search", "search", "quick-search"} <= {e.name for e in endpoints}
    everyone = User(username="sees-all", role=Role.ADMINISTRATOR, is_superuser=True)
    findable = {  # what someone who sees every record finds (published articles…)
        source.model: set(source.queryset(everyone).values_list("pk", flat=True))
        for source in core_search.registry.sources
    }
    wrong = []
    for endpoint in endpoints:
        url = samples.sample(_RowData(None, None), endpoint).url
        # Every endpoint is searched for the rows agent X must not see; the API's search
        # for theirs as well (the others answer from the same search service).
        rows = separated.hidden(mode)
        if endpoint.name == "api-search":
            rows = [r for made in separated.rows[mode].values() for r in made]
        for made in rows:
            response, body = _get(separated.client, url, q=made.token)
            if response.status_code >= 400:
                wrong.append(f"GET {url}?q={made.token}: {response.status_code}")
            elif not made.visible and (leaked := _leaks(body, [made], made.token)):
                wrong.append(f"GET {url}?q={made.token}: shows {leaked}")
            elif (
                made.visible
                and endpoint.name == "api-search"
                and made.row.pk in findable.get(type(made.row), ())
                and str(getattr(made.row, "number", None) or made.token) not in body
            ):
                wrong.append(f"GET {url}?q={made.token}: does not find {made.label} {made.row}")
    assert not wrong, "\n".join(wrong)


def _lookup_rows(world, mode, model):
    if model is User:
        return [(p.username, p, False) for p in world.hidden_people[mode]] + [
            (p.username, p, True) for p in world.visible_people[mode]
        ]
    return [(r.token, r.row, r.visible) for r in world.rows[mode].get(model, [])]


@pytest.mark.parametrize("mode", world_of.MODES)
def test_lookups_offer_theirs_and_not_others(separated, mode):
    """Every picker's lookup (``/api/v1/lookups/<kind>/``) of a separated type, and of
    people."""
    lookups._discover()
    wrong, tried = [], 0
    for key, lookup in sorted(lookups._registry.items()):
        model = lookup.queryset().model
        for term, row, visible in _lookup_rows(separated, mode, model):
            if not lookup.queryset().filter(pk=row.pk).exists():
                continue  # not among the field's choices for anyone (a closed incident…)
            tried += 1
            value = str(lookup.value_of(row))
            _response, body = _get(separated.client, f"/api/v1/lookups/{key}/", q=term)
            values = [item["value"] for item in json.loads(body).get("results", [])]
            if visible and value not in values:
                wrong.append(f"GET /api/v1/lookups/{key}/?q={term}: does not offer {row}")
            if not visible and value in values:
                wrong.append(f"GET /api/v1/lookups/{key}/?q={term}: offers {row}")
    assert tried, "no lookup offers a separated row: the test proves nothing"
    assert not wrong, "\n".join(wrong)


def _related_fields(serializer):
    from rest_framework.relations import ManyRelatedField, RelatedField

    for name, field in serializer.fields.items():
        related = field.child_relation if isinstance(field, ManyRelatedField) else field
        if isinstance(related, RelatedField) and getattr(related, "queryset", None) is not None:
            yield name, related


def _serializer(endpoint, method, user):
    view_class = endpoint.view_class
    if not hasattr(view_class, "get_serializer"):
        return None
    django_request = APIRequestFactory().generic(method, "/")
    django_request.user = user
    view = view_class()
    view.request = Request(django_request)
    view.request.user = user
    view.format_kwarg, view.args, view.kwargs = None, (), {}
    view.action = endpoint.action(method)
    try:
        return view.get_serializer()
    except Exception:  # a view whose serializer needs its row or its arguments
        return None


@pytest.mark.parametrize("mode", world_of.MODES)
def test_choices_offer_theirs_and_not_others(separated, mode):
    """Every related field of every API write's serializer (the browsable API's forms and
    what a write may name: an incident's ``parent``, a caller…) offers no row agent X may
    not see; and the rows they see are offered somewhere (the check bites)."""
    agent_x = User.objects.get(pk=separated.user("agent_x").pk)
    wrong, offered_visible, tried = [], set(), 0
    for endpoint in surface.api_endpoints():
        for method in sorted(set(endpoint.methods) & {"POST", "PUT", "PATCH"}):
            rule = surface.rule_for(endpoint, method)
            if rule is None or rule.allows(AGENT, write=True, detail=False, owner=False) is False:
                continue  # not an agent's to send (a pipeline's service account…)
            serializer = _serializer(endpoint, method, agent_x)
            if serializer is None:
                continue
            for name, field in _related_fields(serializer):
                for _term, row, visible in _lookup_rows(separated, mode, field.queryset.model):
                    tried += 1
                    offered = field.queryset.filter(pk=row.pk).exists()
                    if offered and not visible:
                        wrong.append(f"{method} {endpoint.route} {name}: offers {row}")
                    if offered and visible:
                        offered_visible.add(type(row).__name__)
    assert tried, "no choice names a separated type: the test proves nothing"
    assert not wrong, "\n".join(sorted(set(wrong)))
    assert offered_visible, "no row agent X sees is offered anywhere"


@pytest.mark.parametrize("mode", world_of.MODES)
def test_contact_cards_count_nothing_of_others(separated, mode):
    """A person's card: refused for a person of a customer they do not serve; and its
    figures (open incidents…) count none of the records they may not see."""
    client = separated.client
    for person in separated.hidden_people[mode]:
        response = client.get(f"/api/v1/lookups/people/{person.username}/card/")
        assert response.status_code == 404, (person, response.status_code)
    response = client.get("/api/v1/lookups/people/requester_t_hidden/card/")
    assert response.status_code == 200
    counts = {c["label"]: c["count"] for c in response.json()["counts"]}
    assert counts
    assert not any(counts.values()), f"requester_t_hidden's card counts {counts}"


@pytest.mark.parametrize("mode", world_of.MODES)
def test_the_calendar_feed_shows_theirs_and_not_others(separated, mode):
    """The change calendar's feed (an export other applications read with its token)."""
    from changes import calendar

    token = calendar.rotate_feed(separated.user("agent_x"))
    response, body = _get(Client(), "/changes/calendar.ics", token=token)
    assert response.status_code == 200
    planned = [
        r
        for model, made in separated.rows[mode].items()
        if model._meta.label in ("changes.Change", "changes.ChangeTask")
        for r in made
        if getattr(r.row, "planned_start", None)
    ]
    assert planned, "no change of the rows is planned: the test proves nothing"
    assert not _leaks(body, [r for r in planned if not r.visible])


def test_every_separated_type_has_rows(world):
    """A separated type the builder cannot make rows of (no record, no maker) is named."""
    for mode in world_of.MODES:
        assert not world.unmade[mode], f"{mode}: no rows made of {world.unmade[mode]}"
        for model, made in world.rows[mode].items():
            assert any(r.visible for r in made) and any(not r.visible for r in made), model


@pytest.mark.parametrize("mode", world_of.MODES)
def test_the_rows_are_what_they_claim(separated, mode):
    """The rule itself (``visible_to``) agrees with the rows: the checks above bite."""
    agent_x = User.objects.get(pk=separated.user("agent_x").pk)
    for model, made in separated.rows[mode].items():
        seen = set(model._default_manager.visible_to(agent_x).values_list("pk", flat=True))
        for r in made:
            assert (r.row.pk in seen) == r.visible, (mode, model.__name__, r.label)
    assert len(SEPARATED[mode]) >= 2


@pytest.mark.parametrize("mode", world_of.MODES)
def test_a_write_to_their_row_is_let_in(separated, mode):
    """The refusals above are the rows' (not every write's): a comment on a record they
    see is taken, and moves the write counter."""
    from incidents.models import Incident

    made = next(r for r in separated.rows[mode][Incident] if r.visible)
    with transaction.atomic():
        before = _writes_so_far()
        response = separated.client.post(
            f"/api/v1/incidents/{made.row.number}/comments/",
            {"body": "A reply.", "internal": False},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        assert _writes_so_far() != before
        transaction.set_rollback(True)
