from rest_framework.routers import SimpleRouter

from .views import CatalogueCategoryViewSet, CatalogueItemViewSet

router = SimpleRouter()
router.register("catalogue/categories", CatalogueCategoryViewSet, basename="catalogue-category")
router.register("catalogue/items", CatalogueItemViewSet, basename="catalogue-item")

urlpatterns = router.urls
