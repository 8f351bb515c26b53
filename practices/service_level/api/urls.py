from rest_framework.routers import SimpleRouter

from .views import TimerViewSet

router = SimpleRouter()
router.register("sla-timers", TimerViewSet, basename="sla-timer")

urlpatterns = router.urls
