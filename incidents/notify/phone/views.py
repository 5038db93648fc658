"""Twilio's requests to Pagerline (URLs under /hooks/twilio/, docs/paging.md): texts to the
number, calls to it, the TwiML and keys of Pagerline's own calls, and status callbacks.

Every request must carry a valid X-Twilio-Signature: HMAC-SHA1 with TWILIO_AUTH_TOKEN of
the URL Twilio called and the form fields, checked with twilio's RequestValidator. The URL
is the public one, PAGERLINE_BASE_URL + the path (what Twilio was given), or the request's
own absolute URL (which behind a proxy is right only with PAGERLINE_BEHIND_PROXY). Unsigned,
wrongly signed, or no auth token configured: 403 and nothing done. Thin: the work is in
texts, calls and status.
"""

from __future__ import annotations

import functools
import logging
import re

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from core.text import NUL_MESSAGE, has_nul
from incidents.notify.phone import calls, status, texts, twiml

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
_SID = re.compile(r"[A-Za-z0-9]{2,64}")  # SM..., MM..., CA...: 34 characters today


def signed_by_twilio(request) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not token or not signature:
        return False
    validator = RequestValidator(token)
    path = request.get_full_path()
    urls = dict.fromkeys([settings.PAGERLINE_BASE_URL + path, request.build_absolute_uri(path)])
    return any(validator.validate(url, request.POST, signature) for url in urls)


def twilio_hook(view):
    """POST only, signed by Twilio, else 403; the view gets the form fields."""

    @csrf_exempt
    @require_POST
    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        if not signed_by_twilio(request):
            log.warning("refused a Twilio request without a valid signature: %s", request.path)
            return HttpResponseForbidden("invalid or missing X-Twilio-Signature\n")
        if has_nul(list(request.POST.lists())):
            return HttpResponseBadRequest(f"{NUL_MESSAGE}\n")
        return view(request, request.POST, *args, **kwargs)

    return checked


def _xml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


def _sid(form, name: str) -> str | None:
    value = form.get(name, "")
    return value if _SID.fullmatch(value) else None


def _missing(name: str) -> HttpResponse:
    return HttpResponseBadRequest(f"missing or invalid {name}\n")


@twilio_hook
def sms_inbound(request, form):
    """The number's messaging webhook ("A message comes in")."""
    sid = _sid(form, "MessageSid")
    if sid is None:
        return _missing("MessageSid")
    answer = texts.sms_receive(
        message_sid=sid,
        sender=form.get("From", ""),
        body=form.get("Body", ""),
        now=timezone.now(),
    )
    return _xml(twiml.message(answer))


@twilio_hook
def call_answered(request, form, notification_id: int):
    """The TwiML of one of Pagerline's calls (its Url); AnsweredBy says whether a person
    or a machine picked up (the call is placed with answering-machine detection)."""
    return _xml(
        calls.call_answered(
            notification_id=notification_id,
            answered_by=form.get("AnsweredBy", ""),
            now=timezone.now(),
        )
    )


@twilio_hook
def call_keys(request, form, notification_id: int):
    sid = _sid(form, "CallSid")
    if sid is None:
        return _missing("CallSid")
    return _xml(
        calls.call_keys(
            notification_id=notification_id,
            call_sid=sid,
            called=form.get("To", ""),
            digits=form.get("Digits", ""),
            now=timezone.now(),
        )
    )


@twilio_hook
def callback_answered(request, form):
    """The number's voice webhook ("A call comes in")."""
    return _xml(calls.callback_answered(caller=form.get("From", "")))


@twilio_hook
def callback_keys(request, form):
    sid = _sid(form, "CallSid")
    if sid is None:
        return _missing("CallSid")
    return _xml(
        calls.callback_keys(
            call_sid=sid,
            caller=form.get("From", ""),
            digits=form.get("Digits", ""),
            now=timezone.now(),
        )
    )


@twilio_hook
def status_callback(request, form):
    """Message and call status callbacks (the StatusCallback of each one sent)."""
    sid = _sid(form, "MessageSid") or _sid(form, "CallSid")
    value = form.get("MessageStatus") or form.get("SmsStatus") or form.get("CallStatus")
    if sid is None or not value:
        return _missing("MessageSid or CallSid and its status")
    status.delivery_status_record(
        sid=sid, status=value, answered_by=form.get("AnsweredBy", ""), now=timezone.now()
    )
    return HttpResponse(status=204)
