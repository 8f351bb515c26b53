from itsm.api.screens import ScreenRouter

from . import views

app_name = "releases"

screens = ScreenRouter()
screens.register("releases", views.ReleaseScreens, list="list")

urlpatterns = [*screens.urls]
