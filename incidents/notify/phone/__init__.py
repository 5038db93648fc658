"""SMS and voice coming back from Twilio: replies to pages, keys pressed in calls, calls to
Pagerline's number and delivery status callbacks (docs/paging.md, Twilio). Outbound texts
and calls are the sms and voice transports (incidents.notify.transports)."""
