"""DRF authentication with personal API tokens: `Authorization: Bearer pl_…`.

Failed token attempts are throttled per client address like failed sign-ins
(core.signin_guard): past the limit the address gets 429 with Retry-After for the cool-down,
whatever token it sends, while every other address goes on as before."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from core import signin_guard
from core.services import TOKEN_PREFIX, api_token_authenticate


class TokenGuessing(exceptions.Throttled):
    default_detail = "Too many failed API token attempts from this address."
    extra_detail_singular = extra_detail_plural = "Try again in {wait} seconds."


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip().startswith(TOKEN_PREFIX):
            return None
        address = signin_guard.client_address(request)
        wait = signin_guard.API_TOKEN.blocked_for(address=address)
        if wait:
            raise TokenGuessing(wait=wait)
        token = api_token_authenticate(value.strip())
        if token is None:
            wait = signin_guard.API_TOKEN.record(address=address)
            if wait:
                raise TokenGuessing(wait=wait)
            raise exceptions.AuthenticationFailed("invalid or revoked API token")
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
