"""Slack: a DM to each paged person and a post in a service's channel, with Acknowledge
and Resolve buttons; the messages are redrawn in place whenever the incident changes,
wherever that happened; button presses come back signed (docs/paging.md, Slack).

- `client`: the Web API through slack_sdk, failures sorted into permanent and passing
- `blocks` (pure): what a message about an incident looks like (Block Kit)
- `payload` (pure): a button press, from the form body Slack POSTs
- `messages`: posting, remembering and redrawing messages; the timeline's follower
- `interactions`: a verified button press -> acknowledge, resolve or link an account
- `linking`: proving a Slack account is a user's (the verification of a slack contact method)
- `views`: POST /hooks/slack/interactions

The transport (incidents.notify.transports.slack) posts the DMs through `messages`.
Tests: incidents/tests/notify/test_slack_*.py, against a local stand-in for Slack
(incidents/tests/slack_support.py).
"""
