from __future__ import annotations

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from incidents import selectors


@login_required
@require_GET
def dashboard(request):
    open_incidents = sorted(
        selectors.open_incidents(request.user), key=lambda i: (i.service.name, -i.pk)
    )
    by_service = [
        (service, list(items))
        for service, items in groupby(open_incidents, key=lambda i: i.service)
    ]
    return render(
        request,
        "metrics/dashboard.html",
        {
            "open_by_service": by_service,
            "open_count": len(open_incidents),
            "resolved": selectors.recently_resolved(request.user),
        },
    )
