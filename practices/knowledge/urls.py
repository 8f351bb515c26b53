from django.urls import path

from itsm.api.screens import ScreenRouter

from . import views

app_name = "knowledge"

NUMBER = "<str:number>"

screens = ScreenRouter()
screens.register("knowledge", views.ArticleScreens)

urlpatterns = [
    path("knowledge/review/", views.review_queue, name="review"),
    path("knowledge/preview/", views.preview, name="preview"),
    path(f"knowledge/{NUMBER}/edit/", views.edit, name="edit"),
    path(f"knowledge/{NUMBER}/diff/", views.diff, name="diff"),
    path(
        f"knowledge/{NUMBER}/feedback/",
        views.feedback,
        {"screen": "workspace"},
        name="feedback",
    ),
    path("portal/knowledge/", views.portal_home, name="portal-home"),
    path(f"portal/knowledge/{NUMBER}/", views.portal_article, name="portal-article"),
    path(
        f"portal/knowledge/{NUMBER}/feedback/",
        views.feedback,
        {"screen": "portal"},
        name="portal-feedback",
    ),
    path(f"portal/knowledge/{NUMBER}/deflect/", views.portal_deflect, name="portal-deflect"),
    *screens.urls,
]
