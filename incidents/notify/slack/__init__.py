"""Slack: a DM to each paged person and a post in a service's channel, with Acknowledge
and Resolve buttons; the messages are redrawn in place whenever the incident changes,
wherever that happened; button presses come back signed (docs/paging.md, Slack).

- `client`: the Web API through slack_sdk, failures sorted into permanent and passing
- `blocks` (pure): what a message about an incident, or a bundle of them, looks like
- `drawing`: what a message shows now, read from the database (a DM's bundle, the links
  still usable)
- `payload` (pure): a button press, from the form body Slack POSTs
- `messages`: posting, remembering and redrawing messages; the timeline's follower; the
  auditor (stale messages, lost channel posts); failed channel posts noted on the timeline
- `interactions`: a verified button press -> acknowledge, resolve or link an account
- `linking`: proving a Slack account is a user's (the verification of a slack contact method)
- `views`: POST /hooks/slack/interactions

The transport (incidents.notify.transports.slack) posts the DMs through `messages`.
Tests: incidents/tests/notify/test_slack_*.py, against a local stand-in for Slack
(incidents/tests/slack_support.py).
"""
