"""One page shape for every list the API answers (issue #13): {"count", "next", "previous",
"results"}, `?page=` and `?page_size=` (default 50, at most 1000) on every list, so a
client pages services, incidents or a schedule's shifts the same way.

Generic views get `Pagination` from REST_FRAMEWORK's DEFAULT_PAGINATION_CLASS; a plain
APIView whose GET answers a list mixes in `PaginatedList`, which gives it the two methods a
GenericAPIView has, so every list view reads alike:

    page = self.paginate_queryset(items)  # a queryset, or a list computed in memory
    return self.get_paginated_response([render(item) for item in page])

Page a queryset in a stable order (a unique field last), or a row can show on two pages.
drf-spectacular documents the envelope and the parameters of a view with a
`pagination_class` whose GET response is `many=True` (core/openapi.py).
tests/test_api_lists.py walks every API URL and holds each list to this.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


class Pagination(PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_size_query_description = f"results per page (default {PAGE_SIZE}, at most {MAX_PAGE_SIZE})"


class PaginatedList:
    """For a plain APIView whose GET answers a list: pages it as a GenericAPIView would."""

    pagination_class = Pagination

    def paginate_queryset(self, items: QuerySet | Sequence) -> list:
        self._paginator = self.pagination_class()
        return self._paginator.paginate_queryset(items, self.request, view=self)

    def get_paginated_response(self, data: list) -> Response:
        return self._paginator.get_paginated_response(data)
