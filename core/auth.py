"""DRF authentication with personal API tokens: `Authorization: Bearer pl_…`."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from core.services import TOKEN_PREFIX, api_token_authenticate


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip().startswith(TOKEN_PREFIX):
            return None
        token = api_token_authenticate(value.strip())
        if token is None:
            raise exceptions.AuthenticationFailed("invalid or revoked API token")
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
