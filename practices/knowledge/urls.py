from django.urls import path

from . import views

app_name = "knowledge"

NUMBER = "<str:number>"

urlpatterns = [
    path("knowledge/", views.article_list, name="list"),
    path("knowledge/new/", views.create, name="create"),
    path("knowledge/review/", views.review_queue, name="review"),
    path("knowledge/preview/", views.preview, name="preview"),
    path(f"knowledge/{NUMBER}/", views.detail, name="detail"),
    path(f"knowledge/{NUMBER}/edit/", views.edit, name="edit"),
    path(f"knowledge/{NUMBER}/state/", views.transition, name="transition"),
    path(f"knowledge/{NUMBER}/diff/", views.diff, name="diff"),
    path(f"knowledge/{NUMBER}/comment/", views.comment, name="comment"),
    path(f"knowledge/{NUMBER}/attach/", views.attach, name="attach"),
    path(f"knowledge/{NUMBER}/link/", views.link, name="link"),
    path(f"knowledge/{NUMBER}/unlink/<int:link_id>/", views.unlink, name="unlink"),
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
]
