"""From a webhook to incidents: the webhook endpoints (`webhooks`, `views`), one parser per
sender (`sources/`), storing a body (`store`, with `group_commit` for concurrent webhooks
on PostgreSQL), waking a worker (`kick`), draining deliveries (`drain`), routing events
to services (`routing`), applying them to incidents (`apply`), and heartbeats.
See docs/architecture.md, "The path of an alert"."""
