from rest_framework.routers import SimpleRouter

from .services_api import ServiceViewSet
from .views import (
    ApprovalViewSet,
    CatalogueCategoryViewSet,
    CatalogueItemViewSet,
    FulfilmentTaskViewSet,
    ServiceRequestViewSet,
)

router = SimpleRouter()
router.register("services", ServiceViewSet, basename="service")
router.register("catalogue/categories", CatalogueCategoryViewSet, basename="catalogue-category")
router.register("catalogue/items", CatalogueItemViewSet, basename="catalogue-item")
router.register("requests", ServiceRequestViewSet, basename="service-request")
router.register("tasks", FulfilmentTaskViewSet, basename="fulfilment-task")
router.register("approvals", ApprovalViewSet, basename="approval")

urlpatterns = router.urls
