from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self) -> None:
        # Lower packages tell higher ones through registries filled here, so imports run
        # one way (docs/architecture.md): the timeline does not import escalation.
        from incidents.escalation import runs
        from incidents.notify import pages, sending
        from incidents.notify.slack import messages as slack_messages
        from incidents.timeline import events

        events.follow(runs.escalation_follow)
        events.follow(pages.pages_follow)
        sending.follow_permanent_failures(pages.pages_failed)
        events.follow(slack_messages.slack_follow)
