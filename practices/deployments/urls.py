from itsm.api.screens import ScreenRouter

from . import views

app_name = "deployments"

screens = ScreenRouter()
screens.register("deployments", views.DeploymentScreens, list="list")

urlpatterns = [*screens.urls]
