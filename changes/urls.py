from itsm.api.screens import ScreenRouter

from . import views

app_name = "changes"

screens = ScreenRouter()
screens.register("changes/tasks", views.ChangeTaskScreens, names="task-", list="task-queue")
screens.register("changes", views.ChangeScreens, list="queue")

urlpatterns = [*screens.urls]
