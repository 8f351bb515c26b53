from django.urls import path

from itsm.api.screens import ScreenRouter

from . import views

app_name = "incidents"

screens = ScreenRouter()
screens.register("incidents", views.IncidentScreens, list="queue")
screens.register("portal/issues", views.PortalIncidentScreens, names="portal-")

urlpatterns = [
    path("incidents/bulk/", views.bulk_update, name="bulk"),
    path("attachments/<int:pk>/", views.download, name="download"),
    path("portal/issues/new/", views.portal_report, name="portal-report"),
    *screens.urls,
]
