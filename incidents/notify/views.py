"""HTML pages for a person's paging: their contact methods (add, test, verify, delete),
notification preferences, and for managers the circuit breakers of outbound endpoints."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import FieldErrors
from incidents.models import Channel, ContactMethod
from incidents.notify import contacts, verification
from incidents.notify import selectors as notify_selectors
from incidents.notify.forms import CodeForm, ContactMethodForm, PreferencesForm
from oncall import selectors
from oncall import services as oncall_services
from oncall.forms import ProfileForm
from oncall.selectors import profile_time_zone


@login_required
@require_GET
def circuit_breakers(request):
    if not (request.user.is_staff or selectors.managed_teams(request.user).exists()):
        raise PermissionDenied("managers only")
    return render(
        request,
        "incidents/circuit_breakers.html",
        {"breakers": list(notify_selectors.circuit_breakers())},
    )


# (from incidents.notify.views)


def _mine(request, method_id: int) -> ContactMethod:
    method = notify_selectors.contact_methods_of(request.user).filter(pk=method_id).first()
    if method is None:
        raise Http404("no such contact method")
    return method


def _page(request, *, form=None, zone_form=None, created=None, status=200):
    zone = profile_time_zone(request.user)
    context = {
        "methods": list(notify_selectors.contact_methods_of(request.user)),
        "form": form or ContactMethodForm(),
        "zone_form": zone_form or ProfileForm(initial={"time_zone": zone}),
        "time_zone": zone,
        "created": created,
        "created_secret": created.secret if created and created.kind == Channel.WEBHOOK else "",
        "recent": notify_selectors.recent_notifications_of(request.user),
    }
    return render(request, "incidents/contact_methods.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def contact_methods(request):
    """GET: the page. POST: add a method; the answer shows a webhook's secret, once."""
    if request.method == "GET":
        return _page(request)
    form = ContactMethodForm(request.POST)
    if form.is_valid():
        try:
            method = contacts.contact_method_create(user=request.user, **form.cleaned_data)
        except FieldErrors as exc:
            exc.add_to_form(form)
        else:
            return _page(request, created=method)
    return _page(request, form=form, status=400)


@login_required
@require_POST
def contact_method_update(request, method_id: int):
    method = _mine(request, method_id)
    form = PreferencesForm(request.POST)
    form.is_valid()  # unchecked boxes are simply absent: every value parses
    contacts.contact_method_update(actor=request.user, method=method, **form.cleaned_data)
    state = "on" if method.enabled else "off"
    messages.success(request, f"{method.get_kind_display()} {method.address}: saved ({state}).")
    return redirect("contact-methods")


@login_required
@require_POST
def contact_method_test(request, method_id: int):
    method = _mine(request, method_id)
    try:
        row = contacts.contact_method_test(method=method)
    except contacts.TestTooSoon as exc:
        messages.error(request, str(exc))
        return redirect("contact-methods")
    if row.status == "sent":
        messages.success(request, f"Test sent to {method.address}.")
    else:
        messages.error(request, f"Test to {method.address} failed: {row.error}")
    return redirect("contact-methods")


@login_required
@require_POST
def contact_method_verify(request, method_id: int):
    method = _mine(request, method_id)
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            verification.verification_check(method=method, code=form.cleaned_data["code"])
        except FieldErrors as exc:
            messages.error(request, f"{method.address}: {' '.join(text for _, text in exc.flat())}")
        else:
            messages.success(request, f"{method.address} is verified: it will receive pages.")
    else:
        messages.error(request, f"{method.address}: enter the six digits of the code.")
    return redirect("contact-methods")


@login_required
@require_POST
def contact_method_send_code(request, method_id: int):
    method = _mine(request, method_id)
    try:
        verification.verification_send(method=method)
    except verification.CodeTooSoon as exc:
        messages.error(request, str(exc))
    except FieldErrors as exc:
        messages.error(request, " ".join(text for _, text in exc.flat()))
    else:
        messages.success(request, f"A new code is on its way to {method.address}.")
    return redirect("contact-methods")


@login_required
@require_POST
def contact_method_delete(request, method_id: int):
    method = _mine(request, method_id)
    label = f"{method.get_kind_display()} {method.address}"
    contacts.contact_method_delete(actor=request.user, method=method)
    messages.success(request, f"{label} removed.")
    return redirect("contact-methods")


@login_required
@require_POST
def time_zone(request):
    form = ProfileForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a time zone from the list (an IANA name).")
        return _page(request, zone_form=form, status=400)
    try:
        oncall_services.profile_update(user=request.user, time_zone=form.cleaned_data["time_zone"])
    except FieldErrors as exc:
        form.add_error("time_zone", str(exc))
        return _page(request, zone_form=form, status=400)
    messages.success(request, f"Time zone set to {form.cleaned_data['time_zone']}.")
    return redirect("contact-methods")
