from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("me/privacy/", views.privacy, name="me"),
    path("me/privacy/export/", views.download, name="export"),
]
