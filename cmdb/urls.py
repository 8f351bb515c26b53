from django.urls import path

from . import views

app_name = "cmdb"

CI = "cmdb/<int:pk>"

urlpatterns = [
    path("cmdb/", views.ci_list, name="list"),
    path("cmdb/new/", views.create, name="create"),
    path("cmdb/lookup/", views.lookup, name="lookup"),
    path("cmdb/import/", views.import_upload, name="import"),
    path("cmdb/import/<int:run_id>/", views.import_run, name="import-run"),
    path("cmdb/import/<int:run_id>/apply/", views.import_apply, name="import-apply"),
    path(f"{CI}/", views.detail, name="detail"),
    path(f"{CI}/edit/", views.edit, name="edit"),
    path(f"{CI}/relationships/", views.relate, name="relate"),
    path(f"{CI}/relationships/<int:relationship_id>/remove/", views.unrelate, name="unrelate"),
    path(f"{CI}/map/", views.service_map, name="map"),
    path(f"{CI}/map.json", views.map_data, name="map-data"),
]
