"""What every page's navigation needs beyond the user: the teams whose weekly reports the
"Drills and reports" menu links."""

from __future__ import annotations

from oncall.selectors import teams_for

# A staff member sees every team; the menu stays a menu.
NAV_TEAMS = 20


def navigation(request) -> dict:
    user = getattr(request, "user", None)

    def nav_teams() -> list[tuple[str, str]]:
        # A callable, so the template calls it (one small query) only where a signed-in
        # user's menu is drawn, not on the login page or a JSON error.
        if user is None or not user.is_authenticated:
            return []
        return list(teams_for(user).order_by("name").values_list("slug", "name")[:NAV_TEAMS])

    return {"nav_teams": nav_teams}
