from django.urls import path

from itsm.api.screens import ScreenRouter

from . import views

app_name = "catalogue"

NUMBER = "<str:number>"

screens = ScreenRouter()
screens.register("portal/requests", views.RequestScreens, names="request-", detail="request")

urlpatterns = [
    path("portal/catalogue/", views.catalogue, name="catalogue"),
    path("portal/catalogue/<int:pk>/", views.item, name="item"),
    path("portal/approvals/", views.approvals, name="approvals"),
    path("portal/approvals/<int:pk>/decide/", views.decide, name="decide"),
    *screens.urls,
]
