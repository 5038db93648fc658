from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core import services
from core.fields import form_text
from core.models import ApiToken


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    """Personal API tokens: the new token's value is shown on this response only."""
    created = None
    if request.method == "POST":
        try:
            _token, created = services.api_token_create(
                user=request.user, name=form_text(request.POST, "name")
            )
        except ValueError as exc:
            messages.error(request, str(exc))
    return render(
        request,
        "core/tokens.html",
        {"tokens": ApiToken.objects.filter(user=request.user), "created": created},
    )


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.api_token_revoke(token=token)
    messages.info(request, f"Token {token.name} revoked.")
    return redirect("api-tokens")
