"""The contract every tracked and record type's API keeps, checked the same way for each.

A type's contract test is a class deriving from ``APIContract`` that says where the type
lives and how to make one; the checks are written once, here:

- who may: staff list and read a row; someone who may not see it gets a 404 for it and
  does not find it in the list; anonymous callers are refused;
- bad input: a create with one wrong value is a 400 naming that field, and nothing is
  saved;
- ``Idempotency-Key``: a replayed create answers the first answer and makes one row;
- ``If-Match``: a PATCH with a stale ETag is a 412 and changes nothing; with the current
  one it is applied, the version moves on and the journal has the change;
- query counts: the list (with more rows) and the detail spend the queries recorded in
  ``tests/contracts/query_counts.json``, no more (a count that shrinks is reported so the
  baseline can be lowered).

``tests/contracts/test_meta.py`` fails when a tracked or record type has no contract class.
A subclass sets the class attributes and implements ``make`` (and, where it needs one,
``outsider``); methods receive the pytest ``request`` so they can ask for fixtures.
"""

import json
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from itsm.core.models import JournalEntry

BASELINES = Path(__file__).with_name("query_counts.json")


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def browser(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def baseline(key: str) -> int | None:
    return json.loads(BASELINES.read_text()).get(key)


def hold_baselines(label: str, counted: dict[str, int]) -> None:
    """Each count (``what -> queries``) at most its checked-in baseline ``"<label> <what>"``;
    a missing baseline fails with the count to record, a lower count says so."""
    for what, count in counted.items():
        key = f"{label} {what}"
        bound = baseline(key)
        assert bound is not None, f"no baseline for {key!r} in {BASELINES.name} ({count})"
        assert count <= bound, f"{key}: {count} queries, the baseline is {bound}"
        if count < bound:
            print(f"{key}: {count} queries, below the baseline {bound}: lower it")


class APIContract:
    #: The model whose contract this is (the meta-test matches on it).
    model = None
    #: The collection's path, e.g. ``/api/v1/incidents/``.
    endpoint = ""
    #: The attribute in a row's URL (``number`` for records, ``pk`` otherwise).
    lookup = "pk"
    #: The fixture name of the staff member who works the type.
    staff = "agent"
    #: A valid create, as a function of the pytest request (fixtures), or None when the
    #: type is not created through its collection.
    create_data = None
    #: One field and a wrong value for it (a create refused with a 400 naming the field).
    bad_field: tuple[str, object] | None = None
    #: A change for a PATCH, and the journal's field name for it (None: not journaled).
    patch_data: dict | None = None
    patch_journal_field: str | None = None
    #: Whether PATCH honours If-Match (every tracked type does).
    if_match = True
    #: A transition of a row ``make`` made: the PATCH (``state`` and what the move asks
    #: for), and a state the row cannot move to from there (None: no workflow to check).
    transition: dict | None = None
    illegal_state: str | None = None
    #: The workspace's list screen of the type (None: it has none), and whether a row has
    #: a workspace page (its ``get_absolute_url``): their permissions and query counts
    #: are checked like the API's.
    list_screen: str | None = None
    page_screen = False
    #: A staff-only type: end users are refused the whole type (403 for the list, for
    #: every row and for a row that does not exist alike) instead of a 404 per row.
    staff_only = False

    @pytest.fixture(autouse=True)
    def _database(self, db):
        """Every check uses the database."""

    # What a type says ------------------------------------------------------------------

    def make(self, request):
        """A row of the type that staff see (and the outsider does not)."""
        raise NotImplementedError

    def outsider(self, request):
        """Someone who may not see the row ``make`` made (None: everyone signed in may)."""
        return request.getfixturevalue("bob")

    def valid_create(self, request) -> dict:
        return self.create_data(request)

    # Helpers ---------------------------------------------------------------------------

    def url(self, obj=None) -> str:
        if obj is None:
            return self.endpoint
        return f"{self.endpoint}{getattr(obj, self.lookup)}/"

    def staff_user(self, request):
        return request.getfixturevalue(self.staff)

    @staticmethod
    def rows(response) -> list:
        data = response.json()
        return data["results"] if isinstance(data, dict) and "results" in data else data

    def key_of(self, obj) -> str:
        return str(getattr(obj, self.lookup))

    def listed(self, response) -> set[str]:
        field = "number" if self.lookup == "number" else "id"
        return {str(row.get(field)) for row in self.rows(response)}

    # Who may ---------------------------------------------------------------------------

    def test_staff_list_and_read(self, request):
        obj = self.make(request)
        client = client_for(self.staff_user(request))
        listing = client.get(self.url())
        assert listing.status_code == 200, listing.content
        assert self.key_of(obj) in self.listed(listing)
        detail = client.get(self.url(obj))
        assert detail.status_code == 200, detail.content
        assert detail["ETag"] == obj.__class__.objects.get(pk=obj.pk).etag

    def test_outsider_gets_404_and_an_empty_list(self, request):
        obj = self.make(request)
        outsider = self.outsider(request)
        if outsider is None:
            pytest.skip("everyone signed in may read this type")
        client = client_for(outsider)
        answer = client.get(self.url(obj))
        if self.staff_only:
            # Refused before any row is looked up: the answer tells nothing of the row.
            assert answer.status_code == 403
            absent = getattr(self.model, "NUMBER_PREFIX", "") + "9999999"
            assert client.get(f"{self.endpoint}{absent}/").status_code == 403
            assert client.get(self.url()).status_code == 403
            return
        assert answer.status_code == 404
        listing = client.get(self.url())
        assert listing.status_code == 200, listing.content
        assert self.key_of(obj) not in self.listed(listing)

    def test_anonymous_is_refused(self, request):
        obj = self.make(request)
        client = client_for(None)
        assert client.get(self.url()).status_code in (401, 403)
        assert client.get(self.url(obj)).status_code in (401, 403)

    # Bad input -------------------------------------------------------------------------

    def test_bad_input_is_400_naming_the_field_and_saves_nothing(self, request):
        if self.create_data is None or self.bad_field is None:
            pytest.skip("not created through its collection")
        data = self.valid_create(request)
        field, value = self.bad_field
        data[field] = value
        before = self.model.objects.count()
        response = client_for(self.staff_user(request)).post(self.url(), data, format="json")
        assert response.status_code == 400, response.content
        assert field in response.json(), response.json()
        assert self.model.objects.count() == before

    # Idempotency -----------------------------------------------------------------------

    def test_idempotency_key_replays_the_first_answer(self, request):
        if self.create_data is None:
            pytest.skip("not created through its collection")
        data = self.valid_create(request)
        client = client_for(self.staff_user(request))
        key = str(uuid.uuid4())
        before = self.model.objects.count()
        first = client.post(self.url(), data, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert first.status_code == 201, first.content
        again = client.post(self.url(), data, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert self.model.objects.count() == before + 1

    # If-Match --------------------------------------------------------------------------

    def test_stale_if_match_is_412_and_changes_nothing(self, request):
        if self.patch_data is None or not self.if_match:
            pytest.skip("not changed by PATCH")
        obj = self.make(request)
        client = client_for(self.staff_user(request))
        stale = obj.__class__.objects.get(pk=obj.pk).etag
        current = client.patch(self.url(obj), self.patch_data, format="json", HTTP_IF_MATCH=stale)
        assert current.status_code == 200, current.content
        version = obj.__class__.objects.get(pk=obj.pk).version
        refused = client.patch(self.url(obj), self.patch_data, format="json", HTTP_IF_MATCH=stale)
        assert refused.status_code == 412, refused.content
        assert obj.__class__.objects.get(pk=obj.pk).version == version

    def test_patch_moves_the_version_and_writes_the_journal(self, request):
        if self.patch_data is None:
            pytest.skip("not changed by PATCH")
        obj = self.make(request)
        fresh = obj.__class__.objects.get(pk=obj.pk)
        client = client_for(self.staff_user(request))
        response = client.patch(
            self.url(obj), self.patch_data, format="json", HTTP_IF_MATCH=fresh.etag
        )
        assert response.status_code == 200, response.content
        after = obj.__class__.objects.get(pk=obj.pk)
        assert after.version == fresh.version + 1
        assert response["ETag"] == after.etag
        if self.patch_journal_field:
            entry = (
                JournalEntry.objects.for_record(after)
                .filter(kind=JournalEntry.Kind.FIELDS)
                .order_by("-pk")
                .first()
            )
            assert entry is not None, "no journal entry of the change"
            assert self.patch_journal_field in entry.data, entry.data

    # Transitions ---------------------------------------------------------------------

    def test_a_transition_moves_the_state_and_journals_it(self, request):
        if self.transition is None:
            pytest.skip("no transition declared")
        obj = self.make(request)
        outsider = self.outsider(request)
        if outsider is not None:
            refused = client_for(outsider).patch(self.url(obj), self.transition, format="json")
            assert refused.status_code in (403, 404)
        client = client_for(self.staff_user(request))
        response = client.patch(self.url(obj), self.transition, format="json")
        assert response.status_code == 200, response.content
        after = obj.__class__.objects.get(pk=obj.pk)
        assert after.state == self.transition["state"]
        entry = JournalEntry.objects.for_record(after).filter(kind=JournalEntry.Kind.STATE).last()
        assert entry is not None and entry.data["to"] == self.transition["state"]

    def test_an_illegal_transition_is_400_naming_the_state(self, request):
        if self.illegal_state is None:
            pytest.skip("no transition declared")
        obj = self.make(request)
        before = obj.__class__.objects.get(pk=obj.pk)
        client = client_for(self.staff_user(request))
        response = client.patch(self.url(obj), {"state": self.illegal_state}, format="json")
        assert response.status_code == 400, response.content
        assert "state" in response.json()
        after = obj.__class__.objects.get(pk=obj.pk)
        assert (after.state, after.version) == (before.state, before.version)

    # Query counts ----------------------------------------------------------------------

    def count(self, client, url) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, response.content
        return len(captured)

    def test_query_counts_hold_their_baseline(self, request):
        label = self.model._meta.label
        first = self.make(request)
        client = client_for(self.staff_user(request))
        list_one = self.count(client, self.url())
        for _ in range(3):
            self.make(request)
        list_more = self.count(client, self.url())
        detail = self.count(client, self.url(first))
        assert list_more == list_one, f"{label}: the list grows with its rows (N+1)"
        hold_baselines(label, {"list": list_more, "detail": detail})

    # Screens ---------------------------------------------------------------------------

    def screen_urls(self, obj) -> list[str]:
        urls = [self.list_screen] if self.list_screen else []
        if self.page_screen:
            urls.append(obj.get_absolute_url())
        return urls

    def test_screens_are_for_staff(self, request):
        obj = self.make(request)
        urls = self.screen_urls(obj)
        if not urls:
            pytest.skip("no workspace screens")
        staff = browser(self.staff_user(request))
        end_user = browser(request.getfixturevalue("bob"))
        anonymous = browser(None)
        for url in urls:
            assert staff.get(url).status_code == 200, url
            assert end_user.get(url).status_code == 403, url
            response = anonymous.get(url)
            assert response.status_code == 302 and response.url.startswith("/login/"), url

    def count_screen(self, client, url) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, url
        return len(captured)

    def test_screen_query_counts_hold_their_baseline(self, request):
        label = self.model._meta.label
        first = self.make(request)
        if not self.screen_urls(first):
            pytest.skip("no workspace screens")
        client = browser(self.staff_user(request))
        counted = {}
        if self.list_screen:
            one = self.count_screen(client, self.list_screen)
            for _ in range(3):
                self.make(request)
            more = self.count_screen(client, self.list_screen)
            assert more == one, f"{label}: the list screen grows with its rows (N+1)"
            counted["list page"] = more
        if self.page_screen:
            client.get(first.get_absolute_url())  # the first view (counters, sessions)
            counted["page"] = self.count_screen(client, first.get_absolute_url())
        hold_baselines(label, counted)
