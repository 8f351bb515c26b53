from django.urls import path

from . import views

app_name = "incidents"

NUMBER = "<str:number>"

urlpatterns = [
    path("incidents/", views.queue, name="queue"),
    path("incidents/new/", views.create, name="create"),
    path("incidents/bulk/", views.bulk_update, name="bulk"),
    path(f"incidents/{NUMBER}/", views.detail, name="detail"),
    path(f"incidents/{NUMBER}/edit/", views.update, name="update"),
    path(f"incidents/{NUMBER}/state/", views.transition, name="transition"),
    path(f"incidents/{NUMBER}/comment/", views.comment, name="comment"),
    path(f"incidents/{NUMBER}/attach/", views.attach, name="attach"),
    path(f"incidents/{NUMBER}/link/", views.link, name="link"),
    path(f"incidents/{NUMBER}/unlink/<int:link_id>/", views.unlink, name="unlink"),
    path("attachments/<int:pk>/", views.download, name="download"),
    path("portal/issues/new/", views.portal_report, name="portal-report"),
    path(f"portal/issues/{NUMBER}/", views.portal_detail, name="portal-detail"),
    path(f"portal/issues/{NUMBER}/comment/", views.portal_comment, name="portal-comment"),
    path(f"portal/issues/{NUMBER}/state/", views.portal_transition, name="portal-transition"),
]
