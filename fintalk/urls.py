from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from api.health import LivenessView, ReadinessView
from api.metrics import metrics
from web.views import chat_page

urlpatterns = [
    path("", chat_page, name="chat-page"),
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
    path("healthz", LivenessView.as_view(), name="healthz"),
    path("readyz", ReadinessView.as_view(), name="readyz"),
    path("api/docs", SpectacularSwaggerView.as_view(url="/api/schema"), name="swagger-ui"),
    path("api/redoc", SpectacularRedocView.as_view(url="/api/schema", template_name="web/redoc.html"), name="redoc"),
    path("api/", include("api.urls")),
    path("v1/", include("api.urls")),
]

handler404 = "api.errors.handler404"
handler500 = "api.errors.handler500"
