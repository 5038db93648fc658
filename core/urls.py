from django.urls import path

from core import api, views

urlpatterns = [
    path("setup/first-admin/", views.first_admin, name="first-admin"),
    path("account/tokens/", views.tokens, name="api-tokens"),
    path("account/tokens/<int:token_id>/revoke", views.token_revoke, name="api-token-revoke"),
    path("api/v1/me/", api.Me.as_view(), name="api-me"),
    path("api/v1/tokens/", api.ApiTokenList.as_view(), name="api-token-list"),
    path("api/v1/tokens/<int:token_id>/", api.ApiTokenDetail.as_view(), name="api-token-detail"),
]
