"""Escalation policies (`policies`, validated by `policy_input`), the plan frozen onto an
incident when it opens (`plan`), and running escalations (`runs`): stored ETAs, an
auditor for lost tasks, each step fired once. Follows the timeline (`runs.escalation_follow`)."""
