"""What texts and calls say (incidents.notify.phone_text): pure, no database."""

from __future__ import annotations

import pytest

from incidents.notify import phone_text
from incidents.notify.phone_text import Outcome, Page

CYRILLIC = "\u041a\u0430\u0441\u0441\u0430"  # a word that needs UCS-2


def page(n=123, title="InstanceDown", service="checkout", severity="critical"):
    return Page(incident_id=n, severity=severity, service=service, title=title)


def test_a_page_is_one_short_text_with_its_codes():
    assert phone_text.page_sms(page()) == (
        "#123 CRIT checkout: InstanceDown. Reply 123a ack, 123r resolve"
    )


@pytest.mark.parametrize(
    ("severity", "code"),
    [("critical", "CRIT"), ("error", "ERR"), ("warning", "WARN"), ("info", "INFO")],
)
def test_severities_are_abbreviated(severity, code):
    assert phone_text.page_sms(page(severity=severity)).startswith(f"#123 {code} ")


def test_a_long_title_is_shortened_to_one_message_and_the_codes_stay():
    text = phone_text.page_sms(page(n=987654, title="Disk almost full on db-7 " * 20))
    assert len(text) == 160 or len(text) == 159
    assert text.endswith("... Reply 987654a ack, 987654r resolve")
    assert phone_text.is_gsm(text)


def test_typographic_characters_become_plain_gsm_ones():
    # Typographic quotes, an en dash, an apostrophe and an ellipsis.
    title = "\u201cCheckout\u201d \u2013 it\u2019s down\u2026\tagain"
    text = phone_text.page_sms(page(title=title))
    assert 'checkout: "Checkout" - it\'s down... again.' in text
    assert phone_text.is_gsm(text)


def test_a_title_that_needs_unicode_fits_two_ucs2_segments():
    text = phone_text.page_sms(page(service=CYRILLIC, title=f"{CYRILLIC} " * 40))
    assert not phone_text.is_gsm(text)
    assert phone_text.units(text, gsm=False) <= 134
    assert text.endswith("Reply 123a ack, 123r resolve")


def test_gsm_extension_characters_count_twice():
    assert phone_text.units("[x]", gsm=True) == 5
    title = "{" * 200
    text = phone_text.page_sms(page(title=title))
    assert phone_text.units(text, gsm=True) <= 160


def test_a_bundle_names_the_services_the_incidents_and_the_codes_for_all():
    pages = [page(n, f"Alert {n}", ["checkout", "payments"][n % 2]) for n in range(10, 17)]
    text = phone_text.bundle_sms(pages)
    assert text.startswith("7 new incidents on checkout, payments: #10 Alert 10; #11 Alert 11")
    assert text.endswith("Reply aa ack all, rr resolve all")
    assert len(text) <= 160


def test_a_big_bundle_says_how_many_more():
    pages = [page(n, "Something is wrong with the database") for n in range(1000, 1050)]
    text = phone_text.bundle_sms(pages)
    assert "more. Reply aa ack all, rr resolve all" in text
    assert text.startswith("50 new incidents on checkout: #1000 ")
    assert len(text) <= 160


def test_a_bundle_of_one_is_a_page():
    assert phone_text.bundle_sms([page()]) == phone_text.page_sms(page())


def test_a_plain_text_is_kept_whole_when_short():
    assert phone_text.plain_sms("Your Pagerline code is 482913") == "Your Pagerline code is 482913"
    assert len(phone_text.plain_sms("x" * 1000)) == phone_text.PLAIN_LIMIT


def test_a_call_reads_the_incident_and_the_keys():
    assert phone_text.call_script([page(title="Checkout is down")]) == (
        "This is Pagerline. Incident 123, critical, on checkout: Checkout is down. "
        "Press 4 to acknowledge, 6 to resolve."
    )


def test_a_call_about_many_reads_three_and_counts_the_rest():
    pages = [page(n, f"Alert {n}") for n in range(1, 6)]
    script = phone_text.call_script(pages)
    assert script.startswith("This is Pagerline. 5 new incidents on checkout. Incident 1,")
    assert "Incident 3," in script and "Incident 4," not in script
    assert "And 2 more. Press 4 to acknowledge all of them, 6 to resolve all of them." in script


def test_codes_are_read_digit_by_digit():
    assert phone_text.spoken_digits("Code 482913, 2 tries") == "Code 4 8 2 9 1 3, 2 tries"


@pytest.mark.parametrize(
    ("action", "result", "answer"),
    [
        ("acknowledge", "done", "Acknowledged #123 (checkout)"),
        ("resolve", "done", "Resolved #123 (checkout)"),
        ("acknowledge", "already_acknowledged", "#123 is already acknowledged"),
        ("resolve", "already_resolved", "#123 is already resolved"),
        ("acknowledge", "not_found", "No incident #123 that you can see"),
        ("acknowledge", "not_allowed", "You may not respond to #123 (checkout)"),
    ],
)
def test_answers_to_a_code(action, result, answer):
    assert phone_text.outcome_sms(action, Outcome(123, "checkout", result)) == answer


def test_answers_to_all():
    outcomes = [
        Outcome(12, "checkout", "done"),
        Outcome(13, "checkout", "done"),
        Outcome(14, "payments", "already_acknowledged"),
    ]
    assert phone_text.outcomes_sms("acknowledge", outcomes) == (
        "Acknowledged 2: #12 #13; not #14 (already acknowledged)"
    )
    assert (
        phone_text.outcomes_sms("resolve", []) == "Nothing to resolve: none of your pages is open."
    )
    assert phone_text.outcome_spoken("acknowledge", outcomes[:1]) == (
        "Incident 12 acknowledged. Goodbye."
    )


def test_fixed_answers_fit_one_text():
    for text in (phone_text.HELP, phone_text.UNKNOWN, phone_text.NOBODY, phone_text.STARTED):
        assert phone_text.is_gsm(text) and len(text) <= 160
