"""Articles and incidents: links, the panel on the agent's incident page, and articles
written from a resolved incident."""

from itsm.core import services as core
from itsm.core.models import RecordLink
from practices.knowledge.models import Article
from tests.factories import html_form, incident, page, resolve, web


def test_an_incident_links_to_an_article_with_the_kernels_links(
    published, agent, alice, api_as, priority_matrix
):
    inc = incident(alice, agent, title="VPN drops")
    response = api_as(agent).post(
        f"/api/v1/incidents/{inc.number}/links/",
        {"target": published.number, "kind": "resolved_by"},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["number"] == published.number
    link = RecordLink.objects.get()
    assert (link.source, link.target, link.kind) == (inc, published, "resolved_by")
    # And the other way round, on the article.
    links = api_as(agent).get(f"/api/v1/articles/{published.number}/links/").json()
    assert links[0]["number"] == inc.number and links[0]["direction"] == "incoming"
    assert core.find_record(published.number, agent) == published


def test_the_incident_page_shows_linked_and_suggested_articles(
    published, agent, alice, priority_matrix
):
    inc = incident(alice, agent, title="Cannot connect to the VPN")
    html = page(web(agent).get(f"/incidents/{inc.number}/"))
    assert "No linked articles." in html
    assert "Suggested" in html and published.number in html
    assert "Write an article from this" not in html
    # The "Link" button links the suggestion to the incident and comes back.
    form = html_form(html, f"/knowledge/{published.number}/link/")
    response = web(agent).post(f"/knowledge/{published.number}/link/", form)
    assert response.status_code == 302 and response["Location"] == f"/incidents/{inc.number}/"
    link = RecordLink.objects.get()
    assert (link.source, link.target) == (inc, published)
    html = page(web(agent).get(f"/incidents/{inc.number}/"))
    assert "No linked articles." not in html


def test_a_resolved_incident_offers_to_write_an_article(agent, alice, priority_matrix, vpn):
    inc = incident(alice, agent, title="Outlook search is empty", description="No results.")
    resolve(inc, agent, notes="Rebuilt the search index.")
    html = page(web(agent).get(f"/incidents/{inc.number}/"))
    assert f'/knowledge/new/?from={inc.number}"' in html
    form_page = page(web(agent).get(f"/knowledge/new/?from={inc.number}"))
    assert 'value="Outlook search is empty"' in form_page
    assert "## Symptoms\n\nNo results.\n\n## Solution\n\nRebuilt the search index." in form_page
    data = html_form(form_page, "")
    data["category"] = str(vpn.pk)
    response = web(agent).post(f"/knowledge/new/?from={inc.number}", data)
    assert response.status_code == 302
    article = Article.objects.get()
    assert article.created_from == inc.number and article.title == "Outlook search is empty"
    link = RecordLink.objects.get()
    assert (link.source, link.target) == (article, inc)


def test_prefill_from_an_unknown_record_says_so(agent):
    response = web(agent).get("/knowledge/new/?from=INC9999999")
    assert response.status_code == 200
    assert "There is no record INC9999999" in page(response)


def test_api_creation_from_a_record_links_it(agent, alice, api_as, priority_matrix):
    inc = incident(alice, agent)
    response = api_as(agent).post(
        "/api/v1/articles/", {"title": "Mail relay", "body": "x", "created_from": inc.number}
    )
    assert response.status_code == 201
    assert response.json()["created_from"] == inc.number
    response = api_as(agent).post(
        "/api/v1/articles/", {"title": "Nope", "created_from": "INC0000001"}
    )
    assert response.status_code == 400 and "created_from" in response.json()
    assert Article.objects.count() == 1


def test_prefill_from_a_known_error(agent, service_desk):
    """A known error gives its title, symptoms, root cause (its root-cause rows) and
    workaround."""
    from practices.knowledge import services
    from problems import services as problems
    from tests.problems.conftest import make_problem

    problem = make_problem(
        agent,
        title="Outlook disconnects after the update",
        description="Clients show Disconnected.",
        workaround="Use webmail until the fix is deployed.",
    )
    problems.add_cause(
        problem,
        agent,
        {
            "dimension": "information_and_technology",
            "description": "The update resets the proxy setting.",
            "is_root_cause": True,
        },
    )
    problems.add_cause(
        problem,
        agent,
        {"dimension": "value_streams_and_processes", "description": "Untested rollout."},
    )
    data = services.prefill_from(problem.number, agent)
    assert data["title"] == "Outlook disconnects after the update"
    assert data["audience"] == "internal" and data["created_from"] == problem.number
    assert data["body"] == (
        "## Symptoms\n\nClients show Disconnected.\n\n"
        "## Cause\n\nThe update resets the proxy setting.\n\n"
        "## Workaround\n\nUse webmail until the fix is deployed."
    )
