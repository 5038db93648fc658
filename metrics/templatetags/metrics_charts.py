"""`{% chart figure %}`: a plotly figure (from metrics.charts) as a placeholder and its JSON in
a `<script type="application/json" data-chart>` that static/js/charts.js draws."""

import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

# The same escapes as Django's json_script: the JSON cannot close the script element.
_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag
def chart(figure: dict | None, label: str = ""):
    if not figure:
        return ""
    data = json.dumps(figure, cls=DjangoJSONEncoder).translate(_ESCAPES)
    return format_html(
        '<figure class="chart" aria-label="{}"><div class="chart-plot"></div>'
        '<script type="application/json" data-chart>{}</script></figure>',
        label or figure.get("layout", {}).get("title", {}).get("text", "chart"),
        mark_safe(data),  # noqa: S308 - escaped above exactly as json_script does
    )
