from django.urls import path

from itsm.api.screens import ScreenRouter

from . import views

app_name = "assets"

screens = ScreenRouter()
# Contracts first: ``assets/contracts/`` is no asset tag.
screens.register(
    "assets/contracts",
    views.ContractScreens,
    names="contract-",
    detail="contract",
    list="contracts",
)
screens.register("assets", views.AssetScreens)

urlpatterns = [
    path("assets/new/", views.asset_create, name="create"),
    path("assets/licences/", views.licence_compliance, name="compliance"),
    *screens.urls,
]
