from rest_framework.routers import SimpleRouter

from .views import AssetViewSet, ContractViewSet, LicenceViewSet, SupplierViewSet

router = SimpleRouter()
router.register("assets", AssetViewSet, basename="asset")
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("contracts", ContractViewSet, basename="contract")
router.register("licences", LicenceViewSet, basename="licence")

urlpatterns = router.urls
