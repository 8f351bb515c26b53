from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import DeploymentViewSet, DevOpsDeploymentViewSet, GitHubReceiver

router = SimpleRouter()
router.register("deployments", DeploymentViewSet, basename="deployment")
router.register("devops/deployments", DevOpsDeploymentViewSet, basename="devops-deployment")

urlpatterns = [
    path("devops/github/", GitHubReceiver.as_view(), name="devops-github"),
    *router.urls,
]
