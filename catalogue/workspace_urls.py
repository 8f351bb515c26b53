from django.urls import path

from itsm.api.screens import ScreenRouter

from . import workspace_views as views

app_name = "fulfilment"

NUMBER = "<str:number>"

screens = ScreenRouter()
screens.register("fulfilment/tasks", views.TaskScreens, names="task-", detail="task")

urlpatterns = [
    path("fulfilment/", views.queue, name="queue"),
    path(f"fulfilment/requests/{NUMBER}/", views.request_detail, name="request"),
    *screens.urls,
]
