"""TwiML, the XML Twilio follows: a text to send back, or what a call says and which keys
it waits for. Pure: plain values in, XML out, built with the twilio package's own builders
(which escape the text)."""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

# Seconds a call waits for a key after it stops speaking.
KEY_TIMEOUT = 6
NO_KEY = "No key was pressed. Goodbye."


def message(text: str) -> str:
    """An answer to a text message: one text back, or none for an empty `text`."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)


def ask(script: str, *, action: str, again: str = "Again. ") -> str:
    """Say `script` and wait for one key (posted to `action`); once more if none came."""
    response = VoiceResponse()
    for prefix in ("", again):
        gather = response.gather(num_digits=1, action=action, method="POST", timeout=KEY_TIMEOUT)
        gather.say(prefix + script)
    response.say(NO_KEY)
    response.hangup()
    return str(response)


def say(text: str, *, times: int = 1) -> str:
    """Say `text` (`times` times, with a pause between) and hang up."""
    response = VoiceResponse()
    for n in range(times):
        if n:
            response.pause(length=1)
        response.say(text)
    response.hangup()
    return str(response)


def hangup() -> str:
    """End the call at once, saying nothing (a machine answered)."""
    response = VoiceResponse()
    response.hangup()
    return str(response)
