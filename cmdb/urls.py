from django.urls import path

from itsm.api.screens import ScreenRouter

from . import views

app_name = "cmdb"

CI = "cmdb/<int:pk>"

screens = ScreenRouter()
screens.register("cmdb", views.CIScreens)

urlpatterns = [
    path("cmdb/new/", views.create, name="create"),
    path("cmdb/lookup/", views.lookup, name="lookup"),
    path("cmdb/import/", views.import_upload, name="import"),
    path("cmdb/import/<int:run_id>/", views.import_run, name="import-run"),
    path("cmdb/import/<int:run_id>/apply/", views.import_apply, name="import-apply"),
    path(f"{CI}/edit/", views.edit, name="edit"),
    path(f"{CI}/map.json", views.map_data, name="map-data"),
    *screens.urls,
]
