from django.contrib import admin
from django.urls import include, path

from api.health import LivenessView, ReadinessView
from api.metrics import metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
    path("healthz", LivenessView.as_view(), name="healthz"),
    path("readyz", ReadinessView.as_view(), name="readyz"),
    path("api/", include("api.urls")),
    path("v1/", include("api.urls")),
]

handler404 = "api.errors.handler404"
handler500 = "api.errors.handler500"
