from django.urls import path

from . import views

app_name = "problems"

NUMBER = "<str:number>"

urlpatterns = [
    path("problems/", views.queue, name="queue"),
    path("problems/new/", views.create, name="create"),
    path("problems/known-errors/", views.known_errors, name="known-errors"),
    path("problems/trends/", views.trends, name="trends"),
    path("problems/trends/raise/", views.raise_problem, name="raise"),
    path("problems/workaround-uses/<int:pk>/rate/", views.rate_workaround, name="rate-workaround"),
    path(f"problems/{NUMBER}/", views.detail, name="detail"),
    path(f"problems/{NUMBER}/edit/", views.update, name="update"),
    path(f"problems/{NUMBER}/state/", views.transition, name="transition"),
    path(f"problems/{NUMBER}/comment/", views.comment, name="comment"),
    path(f"problems/{NUMBER}/attach/", views.attach, name="attach"),
    path(f"problems/{NUMBER}/link/", views.link, name="link"),
    path(f"problems/{NUMBER}/unlink/<int:link_id>/", views.unlink, name="unlink"),
    path(f"problems/{NUMBER}/incidents/", views.link_incidents, name="link-incidents"),
    path(
        f"problems/{NUMBER}/incidents/<str:incident>/remove/",
        views.unlink_incident,
        name="unlink-incident",
    ),
    path(f"problems/{NUMBER}/causes/", views.add_cause, name="add-cause"),
    path(f"problems/{NUMBER}/causes/<int:pk>/", views.edit_cause, name="edit-cause"),
    path(f"problems/{NUMBER}/use-workaround/", views.use_workaround, name="use-workaround"),
    path("portal/known-errors/", views.portal_known_errors, name="portal-known-errors"),
    path(f"portal/known-errors/{NUMBER}/", views.portal_known_error, name="portal-known-error"),
]
