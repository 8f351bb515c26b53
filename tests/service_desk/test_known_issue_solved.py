"""A known issue on the portal: "this solved it" records that its workaround answered the
employee's issue (a deflected incident), once per person and day, and thanks them; no one
signed out, and nothing a person may not read, counts."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import Client

from problems import services
from problems.models import KnownErrorDeflection, Problem
from tests.factories import page, web
from tests.problems.conftest import known_error, make_problem

pytestmark = pytest.mark.django_db


def solved_url(problem) -> str:
    return f"/portal/known-errors/{problem.number}/solved/"


def page_url(problem) -> str:
    return f"/portal/known-errors/{problem.number}/"


@pytest.fixture
def public(agent, service_desk):
    return known_error(
        agent, service_desk, title="VPN drops when idle", workaround="Keep alive", public=True
    )


@pytest.fixture
def internal(agent, service_desk):
    return known_error(agent, service_desk, title="Gateway bug", workaround="Reboot gw-7")


class TestThePage:
    def test_offers_this_solved_it(self, alice, public):
        body = page(web(alice).get(page_url(public)))
        assert f'action="{solved_url(public)}"' in body
        assert "This solved it" in body
        assert "No, continue my report" not in body

    def test_from_a_report_it_offers_to_go_on_with_it(self, alice, public):
        body = page(web(alice).get(page_url(public) + "?from=report&q=vpn+idle"))
        assert "Did this solve your problem?" in body
        assert 'name="from" value="report"' in body and 'name="q" value="vpn idle"' in body
        assert 'href="/portal/issues/new/?title=vpn+idle"' in body  # continue my report

    def test_a_nul_in_the_number_is_refused(self, alice):
        # A 400 from the request guard (itsm.core.middleware), as every control character.
        assert web(alice).get("/portal/known-errors/PRB%00/").status_code == 400
        assert web(alice).post("/portal/known-errors/PRB%00/solved/").status_code == 400


class TestThisSolvedIt:
    def test_records_the_deflection_and_thanks(self, alice, public):
        client = web(alice)
        response = client.post(solved_url(public), {"q": "vpn idle"}, follow=True)
        assert response.redirect_chain[-1][0] == page_url(public)
        body = page(response)
        assert "Glad it helped! Thanks for letting us know." in body
        assert "You told us this solved it." in body
        assert f'action="{solved_url(public)}"' not in body  # nothing more to click
        deflection = KnownErrorDeflection.objects.get()
        assert (deflection.problem, deflection.user, deflection.query) == (
            public,
            alice,
            "vpn idle",
        )

    def test_from_a_report_back_to_the_home(self, alice, public):
        response = web(alice).post(solved_url(public), {"from": "report", "q": "vpn"})
        assert response.url == "/portal/"
        assert KnownErrorDeflection.objects.count() == 1

    def test_a_repeated_click_counts_once(self, alice, bob, public):
        client = web(alice)
        client.post(solved_url(public))
        response = client.post(solved_url(public), follow=True)
        assert "You have already told us this solved it." in page(response)
        assert KnownErrorDeflection.objects.count() == 1
        web(bob).post(solved_url(public))  # someone else counts on their own
        assert KnownErrorDeflection.objects.count() == 2

    def test_counts_again_another_day(self, alice, public):
        web(alice).post(solved_url(public))
        KnownErrorDeflection.objects.update(
            created_at=KnownErrorDeflection.objects.get().created_at - timedelta(days=2)
        )
        web(alice).post(solved_url(public))
        assert KnownErrorDeflection.objects.count() == 2

    def test_signed_out_people_cannot(self, public):
        response = Client().post(solved_url(public))
        assert response.status_code == 302 and "/login/" in response.url
        assert not KnownErrorDeflection.objects.exists()

    def test_only_posts_count(self, alice, public):
        assert web(alice).get(solved_url(public)).status_code == 405
        assert not KnownErrorDeflection.objects.exists()

    def test_not_for_what_the_portal_does_not_show(self, alice, agent, service_desk, internal):
        plain = make_problem(agent, assignment_group=service_desk, title="Not yet known")
        for problem in (internal, plain):
            assert web(alice).post(solved_url(problem)).status_code == 404
        assert web(alice).post("/portal/known-errors/PRB9999999/solved/").status_code == 404
        assert not KnownErrorDeflection.objects.exists()

    def test_the_service_refuses_the_unknown(self, alice, public, internal):
        for user in (None, AnonymousUser()):
            with pytest.raises(PermissionDenied):
                services.workaround_solved_it(Problem.objects.get(pk=public.pk), user)
        with pytest.raises(PermissionDenied):
            services.workaround_solved_it(internal, alice)
        assert not KnownErrorDeflection.objects.exists()


def test_the_practice_map_counts_them(alice, bob, public):
    from problems.kpis import problem_kpis

    figure = "Issues solved by a published workaround (30 days)"
    assert dict(problem_kpis())[figure] == "0"
    web(alice).post(solved_url(public))
    web(alice).post(solved_url(public))
    web(bob).post(solved_url(public))
    assert dict(problem_kpis())[figure] == "2"


def test_query_counts_stay_put(alice, agent, public):
    """The page reads whether the person said so already (one query, however many did);
    saying so is a handful of queries."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = web(alice)
    client.get(page_url(public))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(page_url(public)).status_code == 200
    users = get_user_model()
    for n in range(15):
        someone = users.objects.create_user(f"reader{n}", password="x")
        services.workaround_solved_it(public, someone)
    with CaptureQueriesContext(connection) as many:
        assert client.get(page_url(public)).status_code == 200
    assert len(many) == len(few) <= 5, [q["sql"] for q in many.captured_queries]
    with CaptureQueriesContext(connection) as solving:
        assert client.post(solved_url(public)).status_code == 302
    assert len(solving) <= 8, [q["sql"] for q in solving.captured_queries]
