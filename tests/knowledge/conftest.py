import pytest

from practices.knowledge import services
from practices.knowledge.models import KnowledgeCategory


@pytest.fixture
def vpn(db):
    return KnowledgeCategory.objects.create(name="VPN", order=10)


@pytest.fixture
def email(db):
    return KnowledgeCategory.objects.create(name="E-mail", order=20)


@pytest.fixture
def draft(agent, vpn):
    return services.create_article(
        agent,
        {
            "title": "Connect to the VPN",
            "summary": "Install the client and sign in.",
            "body": "1. Install the client\n2. Sign in with your account",
            "keywords": "vpn remote access",
            "category": vpn,
        },
    )


def publish(article, author, reviewer):
    """Submit (by ``author``) and publish (by ``reviewer``) the article's working copy."""
    article = services.submit(article, author)
    return services.publish(article, reviewer)


@pytest.fixture
def published(draft, agent, manager):
    return publish(draft, agent, manager)
