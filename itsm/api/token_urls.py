"""``/me/tokens/``: a person's API tokens (screens)."""

from django.urls import path

from .token_screens import my_tokens, revoke_my_token

urlpatterns = [
    path("", my_tokens, name="my-tokens"),
    path("<int:pk>/revoke/", revoke_my_token, name="my-token-revoke"),
]
