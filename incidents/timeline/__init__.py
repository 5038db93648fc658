"""The incident and its append-only timeline: one function per event type (`events`), the
incident row as a projection of its events (`projection`), describing events for people
(`describe`), responder actions (`actions`), the one deliberate way to delete events
(`removal`), drills attached to incidents (`drills`), and the incident pages and API.
Followers (escalation) register with `events.follow`."""
