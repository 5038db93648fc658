"""POST /hooks/slack/interactions: the Slack app's interactivity request URL. Checked
before anything is read: Slack's signature over the raw body and a timestamp within five
minutes (403 otherwise); then the press is parsed (400 if malformed), handled, and
answered with an empty 200 within Slack's three seconds. The message itself is redrawn by
a task (incidents.notify.slack.messages); a refusal goes back through the press's
response_url as a note only the presser sees."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from incidents.notify.slack import client, interactions, payload


def _refuse(status: int, detail: str, **headers) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status, headers=headers)


@csrf_exempt
def interactions_hook(request):
    if request.method != "POST":
        return _refuse(405, "use POST", Allow="POST")
    body = request.body
    if not interactions.signature_valid(
        body=body,
        timestamp=request.headers.get("X-Slack-Request-Timestamp"),
        signature=request.headers.get("X-Slack-Signature"),
    ):
        return _refuse(403, "missing or wrong Slack signature, or a stale timestamp")
    try:
        press = payload.parse(body)
    except payload.Malformed as exc:
        return _refuse(400, str(exc))
    if press is not None:
        reply = interactions.press_handle(press=press)
        if reply is not None:
            client.respond(press.response_url, reply.body())
    return HttpResponse(status=200)
