from django.urls import path

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
    path("fulfilment/approvals/", views.approvals, name="approvals"),
    path("fulfilment/approvals/count/", views.approvals_count, name="approvals-count"),
    path("fulfilment/approvals/<int:pk>/decide/", views.decide, name="decide"),
    *screens.urls,
]
