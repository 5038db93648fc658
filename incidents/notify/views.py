"""HTML pages for a person's paging: their contact methods (add, test, verify, delete),
notification preferences, notification rules and test page, and for managers the circuit
breakers of outbound endpoints."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import FieldErrors
from incidents.models import Channel, ContactMethod, NotificationRule, Urgency
from incidents.notify import contacts, rules_changes, sending, verification
from incidents.notify import selectors as notify_selectors
from incidents.notify.forms import (
    CodeForm,
    ContactMethodForm,
    NotificationRuleForm,
    PreferencesForm,
    TestPageForm,
)
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


# --- notification rules and the test page -----------------------------------------------------


def _rules_page(request, *, form=None, status=200):
    """The rules as two lists (high, low urgency); `form`: a refused add form, shown with
    its errors in the list it was sent from."""
    user = request.user
    methods = list(notify_selectors.contact_methods_of(user))
    usable = set(sending.usable_methods(user_ids=[user.pk]).values_list("pk", flat=True))
    rules = list(notify_selectors.notification_rules_of(user))
    lists = []
    for urgency, label in Urgency.choices:
        mine = [r for r in rules if r.urgency == urgency]
        refused = form is not None and form.data.get("urgency") == urgency
        lists.append(
            {
                "urgency": urgency,
                "label": label,
                "rules": [
                    {
                        "rule": r,
                        "when": rules_changes.delay_label(r.delay_seconds),
                        "usable": r.contact_method_id in usable,
                    }
                    for r in mine
                ],
                "unused": mine and not any(r.contact_method_id in usable for r in mine),
                "form": form
                if refused
                else NotificationRuleForm(methods=methods, initial={"urgency": urgency}),
            }
        )
    context = {
        "lists": lists,
        "methods": methods,
        "fallback": [m for m in methods if m.pk in usable],
        "test_form": TestPageForm(),
    }
    return render(request, "incidents/notification_rules.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def notification_rules(request):
    """GET: the page. POST: add a rule ("after N minutes, this method")."""
    if request.method == "GET":
        return _rules_page(request)
    methods = list(notify_selectors.contact_methods_of(request.user))
    form = NotificationRuleForm(request.POST, methods=methods)
    if form.is_valid():
        data = form.cleaned_data
        try:
            rule = rules_changes.notification_rule_create(
                user=request.user,
                urgency=data["urgency"],
                delay_seconds=data["delay_minutes"] * 60,
                contact_method_id=data["contact_method"],
            )
        except FieldErrors as exc:
            # The service speaks in seconds; the form in minutes.
            if "delay_seconds" in exc.errors:
                exc.errors["delay_minutes"] = exc.errors.pop("delay_seconds")
            exc.add_to_form(form)
        else:
            messages.success(
                request,
                f"{rule.get_urgency_display()}: {rules_changes.delay_label(rule.delay_seconds)}"
                f" {rule.contact_method.get_kind_display()} {rule.contact_method.address}.",
            )
            return redirect("notification-rules")
    return _rules_page(request, form=form, status=400)


def _my_rule(request, rule_id: int) -> NotificationRule:
    rule = notify_selectors.notification_rules_of(request.user).filter(pk=rule_id).first()
    if rule is None:
        raise Http404("no such notification rule")
    return rule


@login_required
@require_POST
def notification_rule_delete(request, notification_rule_id: int):
    rule = _my_rule(request, notification_rule_id)
    rules_changes.notification_rule_delete(actor=request.user, rule=rule)
    messages.success(request, "Rule removed.")
    return redirect("notification-rules")


@login_required
@require_POST
def test_page(request):
    """Run the user's own rules with a test message (see rules_changes.user_test_page)."""
    form = TestPageForm(request.POST)
    urgency = form.cleaned_data["urgency"] if form.is_valid() else Urgency.HIGH
    try:
        rows = rules_changes.user_test_page(user=request.user, urgency=urgency)
    except contacts.TestTooSoon as exc:
        messages.error(request, str(exc))
        return redirect("notification-rules")
    except FieldErrors as exc:
        messages.error(request, " ".join(text for _, text in exc.flat()))
        return redirect("notification-rules")
    last = max(row.next_attempt_at for row in rows) - min(row.created_at for row in rows)
    later = f"; the last {rules_changes.delay_label(int(last.total_seconds()))}" if last else ""
    messages.success(
        request,
        f"Test page sent: {len(rows)} message{'s' if len(rows) != 1 else ''}{later}. "
        "Each shows under Recent notifications on the contact methods page.",
    )
    return redirect("notification-rules")
