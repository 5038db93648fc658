"""Template tags that let the paging partials (_notifications, _escalation_warnings,
_maintenance_active) fetch their own data, so any page can include them."""

from django import template

from incidents.escalation import selectors as escalation_selectors
from incidents.maintenance import selectors
from incidents.notify import selectors as notify_selectors

register = template.Library()


@register.simple_tag
def notifications_of(incident):
    return notify_selectors.notifications_for(incident)


@register.simple_tag
def escalation_warnings_for(user):
    return escalation_selectors.escalation_warnings(user)


@register.simple_tag
def active_maintenance_for(user):
    return selectors.active_maintenance(user)
