"""The article lifecycle, its versions and who reviews."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from itsm.core.models import JournalEntry
from practices.knowledge import services
from practices.knowledge.models import Article, ArticleVersion
from practices.knowledge.rendering import diff_rows
from tests.factories import team

from .conftest import publish


def test_a_new_article_is_a_numbered_draft_owned_by_its_author(draft, agent):
    assert draft.number.startswith("KB") and len(draft.number) == 9
    assert draft.state == "draft"
    assert draft.owner == agent
    assert draft.published_number is None
    assert JournalEntry.objects.for_record(draft).filter(kind="created").exists()


def test_publishing_keeps_a_version_and_copies_the_text_readers_see(published, manager):
    assert published.state == "published"
    assert published.published_number == 1
    assert published.published_title == "Connect to the VPN"
    assert published.review_date is not None  # a year on by default
    version = ArticleVersion.objects.get(article=published)
    assert (version.number, version.title, version.published_by) == (1, published.title, manager)


def test_readers_keep_the_published_version_while_a_revision_is_drafted(
    published, agent, manager, api_as, alice
):
    revised = services.revise(published, agent)
    assert revised.state == "draft"
    services.update_article(revised, agent, {"title": "VPN: connect", "body": "Secret draft"})
    data = api_as(alice).get(f"/api/v1/articles/{published.number}/").json()
    assert data["title"] == "Connect to the VPN"
    assert "Secret draft" not in str(data)
    # Republished: version 2 for readers, version 1 kept.
    article = publish(Article.objects.get(pk=published.pk), agent, manager)
    assert article.published_number == 2
    data = api_as(alice).get(f"/api/v1/articles/{published.number}/").json()
    assert (data["title"], data["body"]) == ("VPN: connect", "Secret draft")
    assert list(article.versions.order_by("number").values_list("number", "title")) == [
        (1, "Connect to the VPN"),
        (2, "VPN: connect"),
    ]


def test_the_difference_between_two_versions(published, agent, manager):
    article = services.revise(published, agent)
    services.update_article(
        article, agent, {"body": "1. Install the client\n2. Sign in with your badge\n3. Done"}
    )
    publish(Article.objects.get(pk=article.pk), agent, manager)
    one, two = ArticleVersion.objects.filter(article=article).order_by("number")
    rows = diff_rows(one.body, two.body)
    kinds = [(r.kind, r.old, r.new) for r in rows if r]
    assert ("equal", "1. Install the client", "1. Install the client") in kinds
    assert ("changed", "2. Sign in with your account", "2. Sign in with your badge") in kinds
    assert ("added", "", "3. Done") in kinds


def test_the_text_of_a_published_article_changes_only_through_a_revision(published, agent):
    with pytest.raises(ValidationError) as error:
        services.update_article(published, agent, {"body": "sneaky"})
    assert "body" in error.value.message_dict
    published.refresh_from_db()
    assert published.body != "sneaky"
    # Metadata changes in place.
    services.update_article(published, agent, {"audience": "internal"})
    published.refresh_from_db()
    assert published.audience == "internal" and published.state == "published"


def test_revise_and_edit_in_one_step(published, agent):
    article = services.update_article(published, agent, {"state": "draft", "title": "New title"})
    assert (article.state, article.title, article.published_title) == (
        "draft",
        "New title",
        "Connect to the VPN",
    )


def test_illegal_transition_names_the_allowed_states(draft, manager):
    with pytest.raises(ValidationError) as error:
        services.publish(draft, manager)
    assert "Allowed next states" in str(error.value.message_dict["state"])


def test_submitting_needs_a_body(agent, vpn):
    article = services.create_article(agent, {"title": "Empty", "category": vpn})
    with pytest.raises(ValidationError) as error:
        services.submit(article, agent)
    assert "body" in error.value.message_dict
    article.refresh_from_db()
    assert article.state == "draft"


def test_agents_outside_the_reviewing_team_do_not_publish(draft, agent, agent2):
    services.submit(draft, agent)
    with pytest.raises(ValidationError):
        services.publish(Article.objects.get(pk=draft.pk), agent2)


def test_a_reviewing_team_member_publishes_but_not_what_they_submitted(
    draft, agent, agent2, manager
):
    reviewers = team("KB reviewers", members=[agent, agent2])
    services.update_article(draft, agent, {"assignment_group": reviewers})
    services.submit(Article.objects.get(pk=draft.pk), agent)
    with pytest.raises(ValidationError) as error:
        services.publish(Article.objects.get(pk=draft.pk), agent)
    assert "four eyes" in str(error.value)
    article = services.publish(Article.objects.get(pk=draft.pk), agent2)
    assert article.state == "published"


def test_a_manager_may_publish_what_they_submitted(manager, vpn):
    article = services.create_article(manager, {"title": "T", "body": "B", "category": vpn})
    article = publish(article, manager, manager)
    assert article.state == "published"


def test_send_back_and_retire(draft, agent, manager, alice, api_as):
    services.submit(draft, agent)
    article = services.send_back(Article.objects.get(pk=draft.pk), manager, note="Add screenshots")
    assert article.state == "draft"
    assert JournalEntry.objects.for_record(article).filter(body="Add screenshots").exists()
    article = publish(article, agent, manager)
    assert api_as(alice).get(f"/api/v1/articles/{article.number}/").status_code == 200
    services.retire(article, manager)
    assert api_as(alice).get(f"/api/v1/articles/{article.number}/").status_code == 404
    with pytest.raises(ValidationError):
        services.update_article(Article.objects.get(pk=article.pk), manager, {"state": "draft"})


def test_end_users_cannot_write(alice, vpn, published):
    with pytest.raises(PermissionDenied):
        services.create_article(alice, {"title": "x", "category": vpn})
    with pytest.raises(PermissionDenied):
        services.revise(published, alice)
