from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import health
from core import views as core_views
from incidents.urls import hook_urlpatterns

urlpatterns = [
    *hook_urlpatterns,
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # The admin signs in through the throttled page (core.signin_guard), not its own form.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="login", query_string=True),
        name="admin-login",
    ),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("core.urls")),
    path("accounts/login/", core_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Forgotten passwords: Django's views (the names are theirs), our templates.
    path("accounts/password-reset/", core_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("", include("incidents.urls")),
    path("", include("metrics.urls")),
    path("", include("oncall.urls")),
]

# A URL under /api/ that matches no pattern answers 404 in JSON, as the API's views do.
handler404 = "core.api_errors.page_not_found"

if settings.PAGERLINE_BENCH_VIEWS:
    # First, like the webhooks: the bare view must not pay more URL matching than they do.
    urlpatterns.insert(0, path("bench/bare", health.bench_bare))
