from django.urls import path

from . import views

app_name = "service-level"

urlpatterns = [
    path("service-levels/", views.report, name="report"),
    path("service-levels/breaches/<int:pk>/reason/", views.breach_reason, name="breach-reason"),
]
