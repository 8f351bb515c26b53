from django.urls import path

from itsm.api.screens import ScreenRouter

from . import views

app_name = "incidents"

screens = ScreenRouter()
screens.register("incidents", views.IncidentScreens, list="queue")
screens.register(
    "portal/issues",
    views.PortalIncidentScreens,
    names="portal-",
    rename={"portal-create": "portal-report"},
)

urlpatterns = [
    path("attachments/<int:pk>/", views.download, name="download"),
    *screens.urls,
]
