from django.urls import path

from . import views

urlpatterns = [path("practices/", views.practice_map, name="practice-map")]
