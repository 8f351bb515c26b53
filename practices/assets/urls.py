from django.urls import path

from . import views

app_name = "assets"

TAG = "<str:tag>"

urlpatterns = [
    path("assets/", views.asset_list, name="list"),
    path("assets/new/", views.asset_create, name="create"),
    path("assets/contracts/", views.contract_list, name="contracts"),
    path("assets/contracts/<int:pk>/", views.contract_detail, name="contract"),
    path("assets/licences/", views.licence_compliance, name="compliance"),
    path(f"assets/{TAG}/", views.asset_detail, name="detail"),
    path(f"assets/{TAG}/edit/", views.asset_edit, name="edit"),
    path(f"assets/{TAG}/move/", views.asset_move, name="move"),
]
