from rest_framework.routers import SimpleRouter

from .views import KnownErrorViewSet, ProblemTrendViewSet, ProblemViewSet

router = SimpleRouter()
router.register("problems", ProblemViewSet, basename="problem")
router.register("known-errors", KnownErrorViewSet, basename="known-error")
router.register("problem-trends", ProblemTrendViewSet, basename="problem-trend")

urlpatterns = router.urls
