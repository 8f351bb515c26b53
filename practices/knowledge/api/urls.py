from rest_framework.routers import SimpleRouter

from .views import ArticleViewSet, KnowledgeCategoryViewSet

router = SimpleRouter()
router.register("articles", ArticleViewSet, basename="article")
router.register("knowledge-categories", KnowledgeCategoryViewSet, basename="knowledge-category")

urlpatterns = router.urls
