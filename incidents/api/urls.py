from rest_framework.routers import SimpleRouter

from .views import CategoryViewSet, IncidentViewSet

router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incident")
router.register("incident-categories", CategoryViewSet, basename="incident-category")

urlpatterns = router.urls
