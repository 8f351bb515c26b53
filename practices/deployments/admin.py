from django.contrib import admin

from .models import Deployment, EnvironmentPolicy, GitHubIntegration


@admin.register(EnvironmentPolicy)
class EnvironmentPolicyAdmin(admin.ModelAdmin):
    list_display = ("environment", "change_model", "assignment_group", "auto_approve")


@admin.register(GitHubIntegration)
class GitHubIntegrationAdmin(admin.ModelAdmin):
    list_display = ("name", "service_account", "active")
    list_filter = ("active",)


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    """Read-only in the admin: deployments are recorded on their screens and by pipelines."""

    list_display = ("number", "title", "environment", "state", "pipeline", "run")
    list_filter = ("state", "environment")
    search_fields = ("number", "title", "pipeline", "run", "commit")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
