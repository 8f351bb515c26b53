from itsm.api.screens import ScreenRouter

from . import workspace_views as views

app_name = "fulfilment"

NUMBER = "<str:number>"

screens = ScreenRouter()
screens.register("fulfilment", views.TaskScreens, list="queue", only="list")
screens.register("fulfilment/tasks", views.TaskScreens, names="task-", detail="task", only="rows")
screens.register(
    "fulfilment/requests", views.RequestWorkspaceScreens, names="request-", detail="request"
)

urlpatterns = [
    *screens.urls,
]
