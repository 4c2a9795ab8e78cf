from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("v1/", include("api.urls")),
]

handler404 = "api.errors.handler404"
handler500 = "api.errors.handler500"
