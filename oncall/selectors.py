from __future__ import annotations

from django.db.models import QuerySet

from oncall.models import Team


def teams_for(user) -> QuerySet[Team]:
    """Teams a user may see: their own, or all of them for staff."""
    if not user.is_authenticated:
        return Team.objects.none()
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user)
