from django.apps import AppConfig


class ServiceDeskConfig(AppConfig):
    name = "practices.service_desk"
    label = "service_desk"
    verbose_name = "Service desk"
