from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core import services, signin_guard
from core.errors import FieldErrors
from core.fields import form_text
from core.first_run import FirstRunClosed, first_admin_create, first_run_open
from core.forms import FirstAdminForm
from core.models import ApiToken

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


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


@require_http_methods(["GET", "POST"])
def first_admin(request):
    """The first administrator of an empty installation; gone (404) once anyone exists."""
    if not first_run_open():
        raise Http404("Pagerline is set up already; sign in, or ask an administrator.")
    form = FirstAdminForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                user = first_admin_create(**form.cleaned_data)
            except FieldErrors as exc:
                exc.add_to_form(form)
            except FirstRunClosed:
                raise Http404("Another administrator was created just now; sign in.") from None
            else:
                login(request, user, backend=MODEL_BACKEND)
                messages.success(
                    request, f"Welcome, {user.get_username()}. You are the administrator."
                )
                return redirect("dashboard")
        return render(request, "core/first_admin.html", {"form": form}, status=400)
    return render(request, "core/first_admin.html", {"form": form})


def _throttled(view, seconds: int):
    """The form again, saying why and for how long (429: the client should wait)."""
    form = view.get_form_class()(initial={"username": view.request.POST.get("username", "")})
    context = view.get_context_data(form=form)
    context["throttled_minutes"] = signin_guard.minutes(seconds)
    response = view.render_to_response(context, status=429)
    response["Retry-After"] = str(seconds)
    return response


class SignInView(auth_views.LoginView):
    """Django's sign-in, throttled per client address and per account from that address
    (core.signin_guard): a refused address never stops the account elsewhere."""

    def post(self, request, *args, **kwargs):
        self.address = signin_guard.client_address(request)
        self.username = request.POST.get("username", "")[:150]
        wait = signin_guard.signin_blocked_for(address=self.address, username=self.username)
        if wait:
            return _throttled(self, wait)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        signin_guard.signin_succeeded(address=self.address, username=self.username)
        return super().form_valid(form)

    def form_invalid(self, form):
        wait = signin_guard.signin_failed(address=self.address, username=self.username)
        if wait:
            return _throttled(self, wait)
        return super().form_invalid(form)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by email, with the link built on PAGERLINE_BASE_URL (never on the Host
    header a request claims) and sent through the configured EMAIL_URL backend. Requests are
    throttled per client address: each one sends an email to someone."""

    email_template_name = "registration/password_reset_email.txt"

    def post(self, request, *args, **kwargs):
        address = signin_guard.client_address(request)
        wait = signin_guard.PASSWORD_RESET.blocked_for(address=address)
        if wait:
            return _throttled(self, wait)
        signin_guard.PASSWORD_RESET.record(address=address)
        return super().post(request, *args, **kwargs)

    @property
    def extra_email_context(self):
        return {"base_url": settings.PAGERLINE_BASE_URL}
