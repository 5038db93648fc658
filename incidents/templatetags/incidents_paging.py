"""Template tags that let the paging partials (_notifications, _escalation_warnings,
_maintenance_active) fetch their own data, so any page can include them."""

from django import template

from incidents import selectors_paging

register = template.Library()


@register.simple_tag
def notifications_of(incident):
    return selectors_paging.notifications_for(incident)


@register.simple_tag
def escalation_warnings_for(user):
    return selectors_paging.escalation_warnings(user)


@register.simple_tag
def active_maintenance_for(user):
    return selectors_paging.active_maintenance(user)
