from practices.knowledge import services
from practices.knowledge.models import Article

from .base import APIContract


class TestArticleContract(APIContract):
    model = Article
    transition = {"state": "in_review"}
    illegal_state = "published"
    list_screen = "/knowledge/"
    page_screen = True
    endpoint = "/api/v1/articles/"
    lookup = "number"
    # The audience is portal or internal.
    bad_field = ("audience", "everyone")
    # A draft's working copy changes in place.
    patch_data = {"title": "Connect to the VPN from home"}
    patch_journal_field = "title"

    def create_data(self, request):
        return {
            "title": "Reset your password",
            "summary": "Use the self-service page.",
            "body": "1. Open the page\n2. Follow the steps",
            "audience": "portal",
        }

    def make(self, request):
        # A draft: staff see it, end users (bob) read only published articles.
        return services.create_article(
            request.getfixturevalue("agent"),
            {
                "title": "Connect to the VPN",
                "summary": "Install the client and sign in.",
                "body": "1. Install the client\n2. Sign in with your account",
                "keywords": "vpn remote access",
            },
        )
