"""What SMS and phone calls say: a page as one short text message with the reply codes that
act on it (`#123 CRIT checkout: InstanceDown. Reply 123a ack, 123r resolve`), a bundle of
pages as one message, the sentences a call reads, and the answers to replies.

Pure: plain values in, text out (tests: incidents/tests/notify/test_phone_text.py). A text
is kept within one SMS where it can be: 160 characters of the GSM 7-bit alphabet, after
typographic quotes, dashes and ellipses are replaced by their plain forms; a title that
still needs other characters (Cyrillic, emoji) makes the message UCS-2, where two
segments (134 characters) are allowed instead. The title is shortened, never the codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# GSM 03.38: the basic alphabet (one septet each) and the extension table (two each).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
# Typographic quotes, primes, dashes, the minus sign and the ellipsis, no-break space, tab and
# bullet: their plain GSM forms.
_PLAIN = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u2032", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u2033", '"'),
        **dict.fromkeys("\u2012\u2013\u2014\u2212", "-"),
        "\u2026": "...",
        "\u00a0": " ",
        "\t": " ",
        "\u2022": "*",
    }
)
GSM_LIMIT = 160  # septets: one GSM-7 message
UCS2_LIMIT = 134  # UTF-16 code units: two UCS-2 segments of 67
PLAIN_LIMIT = 320  # a verification code or test message, in characters
ELLIPSIS = "..."

SEVERITY_CODES = {"critical": "CRIT", "error": "ERR", "warning": "WARN", "info": "INFO"}


@dataclass(frozen=True)
class Page:
    """One incident as a message names it."""

    incident_id: int
    severity: str
    service: str
    title: str


# --- the alphabet -----------------------------------------------------------------------------


def plain(text: str) -> str:
    """`text` with typographic characters replaced by GSM ones and whitespace collapsed
    (titles and names come from alerts: newlines and runs of spaces cost characters)."""
    return " ".join(text.translate(_PLAIN).split())


def is_gsm(text: str) -> bool:
    return all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text)


def units(text: str, *, gsm: bool) -> int:
    """How much of a message `text` uses: septets in GSM-7, UTF-16 code units in UCS-2."""
    if gsm:
        return sum(2 if c in _GSM_EXTENDED else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, budget: int, *, gsm: bool) -> str:
    """`text` shortened (ending in ...) to use at most `budget` units."""
    if units(text, gsm=gsm) <= budget:
        return text
    room = budget - len(ELLIPSIS)
    kept = ""
    for c in text:
        if units(kept + c, gsm=gsm) > room:
            break
        kept += c
    return kept.rstrip() + ELLIPSIS if room > 0 else ""


def _fit(before: str, flexible: str, after: str) -> str:
    """before + flexible + after within one message, shortening only `flexible` (our own
    `before` and `after` are plain already)."""
    flexible = plain(flexible)
    gsm = is_gsm(before + flexible + after)
    limit = GSM_LIMIT if gsm else UCS2_LIMIT
    budget = limit - units(before + after, gsm=gsm)
    short = _cut(flexible, max(budget, 0), gsm=gsm)
    if short != flexible and after.startswith("."):
        after = after[1:]  # "title... Reply", not "title.... Reply"
    return before + short + after


def severity_code(severity: str) -> str:
    return SEVERITY_CODES.get(severity, severity[:4].upper())


# --- SMS --------------------------------------------------------------------------------------


def page_sms(page: Page) -> str:
    """`#123 CRIT checkout: InstanceDown. Reply 123a ack, 123r resolve`"""
    n = page.incident_id
    return _fit(
        f"#{n} {severity_code(page.severity)} ",
        f"{page.service}: {page.title}",
        f". Reply {n}a ack, {n}r resolve",
    )


def _services(pages: Sequence[Page], shown: int = 3) -> str:
    names = list(dict.fromkeys(p.service for p in pages))
    more = f" +{len(names) - shown}" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def bundle_sms(pages: Sequence[Page]) -> str:
    """Several pages in one message (a storm): `7 new incidents on checkout, payments:
    #12 Disk full; #13 ...; +3 more. Reply aa ack all, rr resolve all`. Each listed id
    also takes its own code (12a)."""
    if len(pages) == 1:
        return page_sms(pages[0])
    pages = sorted(pages, key=lambda p: p.incident_id)
    services = _cut(plain(_services(pages)), 60, gsm=False)
    head = f"{len(pages)} new incidents on {services}: "
    tail = ". Reply aa ack all, rr resolve all"
    items = [_cut(plain(f"#{p.incident_id} {p.title}"), 24, gsm=False) for p in pages]
    gsm = is_gsm(head + "".join(items) + tail)
    limit = GSM_LIMIT if gsm else UCS2_LIMIT
    listed: list[str] = []
    for index, item in enumerate(items):
        left = len(items) - index - 1
        more = f"; +{left} more" if left else ""
        if units(head + "; ".join([*listed, item]) + more + tail, gsm=gsm) > limit:
            break
        listed.append(item)
    if not listed:
        return _fit(head, ", ".join(f"#{p.incident_id}" for p in pages), tail)
    left = len(items) - len(listed)
    return head + "; ".join(listed) + (f"; +{left} more" if left else "") + tail


def plain_sms(text: str) -> str:
    """A message that is not a page (a verification code, a test): its text, plainly."""
    return _cut(plain(text), PLAIN_LIMIT, gsm=False)


# --- calls ------------------------------------------------------------------------------------

SEVERITY_WORDS = {"critical": "critical", "error": "error", "warning": "warning", "info": "info"}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _spoken(page: Page) -> str:
    title = _cut(plain(page.title), 200, gsm=False)
    severity = SEVERITY_WORDS.get(page.severity, page.severity)
    return f"incident {page.incident_id}, {severity}, on {plain(page.service)}: {title}."


def _read(pages: Sequence[Page], intro: str) -> str:
    if len(pages) == 1:
        return f"{intro}{_sentence(_spoken(pages[0]))} Press 4 to acknowledge, 6 to resolve."
    first = " ".join(_sentence(_spoken(p)) for p in pages[:3])
    more = f" And {len(pages) - 3} more." if len(pages) > 3 else ""
    return f"{intro}{first}{more} Press 4 to acknowledge all of them, 6 to resolve all of them."


def call_script(pages: Sequence[Page]) -> str:
    """What a call about one page (or a bundle) says before it asks for a key."""
    pages = sorted(pages, key=lambda p: p.incident_id)
    if len(pages) == 1:
        return _read(pages, "This is Pagerline. ")
    return _read(pages, f"This is Pagerline. {len(pages)} new incidents on {_services(pages)}. ")


def callback_script(pages: Sequence[Page]) -> str:
    """What a call to Pagerline's number says to a person with open pages."""
    pages = sorted(pages, key=lambda p: p.incident_id)
    noun = "page" if len(pages) == 1 else "pages"
    return _read(pages, f"This is Pagerline. You have {len(pages)} open {noun}. ")


def call_handled(incident_ids: Sequence[int]) -> str:
    """A call answered after everyone it was about was taken care of."""
    numbers = ", ".join(str(n) for n in sorted(incident_ids))
    noun = "Incident" if len(incident_ids) == 1 else "Incidents"
    verb = "has" if len(incident_ids) == 1 else "have"
    return f"This is Pagerline. {noun} {numbers} {verb} been taken care of already. Goodbye."


CALL_GONE = "This is Pagerline. This call is no longer needed. Goodbye."
CALL_NOBODY = "This is Pagerline. This number is not set up to answer pages. Goodbye."
CALL_NOTHING_OPEN = "This is Pagerline. You have no open pages. Goodbye."
KEYS = "Press 4 to acknowledge, 6 to resolve."


def spoken_digits(text: str) -> str:
    """A code read digit by digit ("1 2 3 4") rather than as one number."""
    out = []
    for index, c in enumerate(text):
        out.append(c)
        if c.isdigit() and index + 1 < len(text) and text[index + 1].isdigit():
            out.append(" ")
    return "".join(out)


# --- answers to replies -----------------------------------------------------------------------

HELP = (
    "Pagerline: reply 123a to acknowledge #123, 123r to resolve it, aa to acknowledge all "
    "your open pages, rr to resolve them all. STOP ends texts."
)
UNKNOWN = "Unknown code. Reply 123a to ack #123, 123r to resolve, aa/rr for all, help for more."
NOBODY = "This number is not set up to answer Pagerline pages."
STARTED = "Pagerline texts are back on."

# (action, outcome) -> answer; {n} is the incident's number, {service} its service.
_OUTCOMES = {
    "done": {
        "acknowledge": "Acknowledged #{n} ({service})",
        "resolve": "Resolved #{n} ({service})",
    },
    "already_acknowledged": "#{n} is already acknowledged",
    "already_resolved": "#{n} is already resolved",
    "not_found": "No incident #{n} that you can see",
    "not_allowed": "You may not respond to #{n} ({service})",
}
_VERBS = {"acknowledge": ("Acknowledged", "acknowledge"), "resolve": ("Resolved", "resolve")}
_PROBLEMS = {
    "already_acknowledged": "already acknowledged",
    "already_resolved": "already resolved",
    "not_found": "not found",
    "not_allowed": "not allowed",
}


@dataclass(frozen=True)
class Outcome:
    """What one action on one incident came to: done, already_acknowledged,
    already_resolved, not_found or not_allowed."""

    incident_id: int
    service: str
    result: str


def outcome_sms(action: str, outcome: Outcome) -> str:
    text = _OUTCOMES[outcome.result]
    if isinstance(text, dict):
        text = text[action]
    return _cut(plain(text.format(n=outcome.incident_id, service=outcome.service)), 160, gsm=False)


def outcomes_sms(action: str, outcomes: Sequence[Outcome]) -> str:
    """The answer to aa / rr: `Acknowledged 3: #12 #13 #15` (and what could not be)."""
    done_word, verb = _VERBS[action]
    if not outcomes:
        return f"Nothing to {verb}: none of your pages is open."
    done = [f"#{o.incident_id}" for o in outcomes if o.result == "done"]
    text = f"{done_word} {len(done)}: {' '.join(done)}" if done else f"Nothing {done_word.lower()}"
    failed = [o for o in outcomes if o.result != "done"]
    if failed:
        text += "; not " + ", ".join(f"#{o.incident_id} ({_PROBLEMS[o.result]})" for o in failed)
    return _cut(text, 320, gsm=False)


def outcome_spoken(action: str, outcomes: Sequence[Outcome]) -> str:
    """What a call says after a key was pressed."""
    done_word, verb = _VERBS[action]
    done = [o for o in outcomes if o.result == "done"]
    if not outcomes:
        return f"There is nothing to {verb}. Goodbye."
    if not done:
        reasons = {_PROBLEMS[o.result] for o in outcomes}
        return f"Nothing was {done_word.lower()}: {', '.join(sorted(reasons))}. Goodbye."
    numbers = ", ".join(str(o.incident_id) for o in done)
    noun = "Incident" if len(done) == 1 else "Incidents"
    return f"{noun} {numbers} {done_word.lower()}. Goodbye."
