from django.urls import path

from . import views

app_name = "catalogue"

NUMBER = "<str:number>"

urlpatterns = [
    path("portal/catalogue/", views.catalogue, name="catalogue"),
    path("portal/catalogue/<int:pk>/", views.item, name="item"),
    path(f"portal/requests/{NUMBER}/", views.request_detail, name="request"),
    path(f"portal/requests/{NUMBER}/comment/", views.request_comment, name="request-comment"),
    path(f"portal/requests/{NUMBER}/attach/", views.request_attach, name="request-attach"),
    path(f"portal/requests/{NUMBER}/cancel/", views.request_cancel, name="request-cancel"),
    path(f"portal/requests/{NUMBER}/close/", views.request_close, name="request-close"),
    path("portal/approvals/", views.approvals, name="approvals"),
    path("portal/approvals/<int:pk>/decide/", views.decide, name="decide"),
]
