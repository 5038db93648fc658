"""The page behind an acknowledge or resolve link in a message: /a/<token>/, no login.

GET (and HEAD) show the incident's current state and a button, and change nothing: mail
scanners and link previews fetch every link in a message. POST acts as the link's
recipient, authorised by the token alone (incidents.notify.links.link_use).

Why this view is exempt from CSRF: CSRF protection stops another site from riding on a
credential the browser sends by itself (the session cookie). Here nothing ambient is used:
the POST acts as the token's recipient whoever is signed in or not, and the only credential
is the unguessable token in the URL, which a forging site would have to know already (and
with it, it could simply POST). The check would add nothing but would refuse the person who
opens the link in a browser without our CSRF cookie (a phone's mail app, a private window).

The answer is never cached, never indexed, and sends no Referer onward (the token is in
this page's URL). Statuses: 200 ready or done, 404 unknown, 410 used or expired, 403 the
recipient may no longer act, 409 the incident moved past the action.
"""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from incidents.notify import links
from incidents.notify.message import incident_url


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def action_link(request, token: str):
    if request.method == "POST":
        outcome = links.link_use(token=token)
    else:
        outcome = links.link_check(token=token)
    incident = outcome.incident
    response = render(
        request,
        "incidents/action_link.html",
        {
            "outcome": outcome,
            "incident": incident,
            "incident_url": incident_url(incident) if incident else "",
            "action_label": "Acknowledge" if outcome.action == "acknowledge" else "Resolve",
        },
        status=outcome.status,
    )
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
