from rest_framework.routers import SimpleRouter

from .views import (
    AttributeDefinitionViewSet,
    CIClassViewSet,
    ConfigurationItemViewSet,
    DataSourceViewSet,
    ImportViewSet,
    RelationshipTypeViewSet,
    RelationshipViewSet,
)

router = SimpleRouter()
router.register("ci-classes", CIClassViewSet, basename="ci-class")
router.register("ci-attributes", AttributeDefinitionViewSet, basename="ci-attribute")
router.register("cis", ConfigurationItemViewSet, basename="ci")
router.register("relationships", RelationshipViewSet, basename="relationship")
router.register("relationship-types", RelationshipTypeViewSet, basename="relationship-type")
router.register("data-sources", DataSourceViewSet, basename="data-source")
router.register("imports", ImportViewSet, basename="ci-import")

urlpatterns = router.urls
