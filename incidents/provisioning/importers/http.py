"""A small JSON-over-HTTP client for the importers: the vendor's auth header, pagination
helpers and HTTP 429 handled by waiting as Retry-After asks, a bounded number of times."""

from __future__ import annotations

import time
from urllib.parse import urljoin

import requests

MAX_RETRIES = 5
# A Retry-After longer than this is not waited for: the import fails with a clear message.
MAX_WAIT_SECONDS = 120


class ImportHttpError(RuntimeError):
    pass


class Client:
    def __init__(self, base_url: str, headers: dict, *, sleep=time.sleep, timeout: float = 30):
        self.base_url = base_url.rstrip("/") + "/"
        self.headers = {"Accept": "application/json", **headers}
        self.sleep = sleep
        self.timeout = timeout
        self.session = requests.Session()

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path.lstrip("/")) if "://" not in path else path

    def get(self, path: str, params: dict | None = None) -> dict:
        url = self.url(path)
        for attempt in range(MAX_RETRIES + 1):
            try:
                response = self.session.get(
                    url, params=params, headers=self.headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                raise ImportHttpError(f"GET {url}: {exc}") from None
            if response.status_code != 429:
                break
            wait = _retry_after(response.headers.get("Retry-After"))
            if attempt == MAX_RETRIES or wait > MAX_WAIT_SECONDS:
                raise ImportHttpError(
                    f"GET {url}: still rate limited (HTTP 429) after {attempt + 1} attempt(s)"
                )
            self.sleep(wait)
        if response.status_code >= 400:
            raise ImportHttpError(f"GET {url}: HTTP {response.status_code}: {response.text[:300]}")
        try:
            return response.json()
        except ValueError:
            raise ImportHttpError(f"GET {url}: the answer is not JSON") from None

    def offset_pages(self, path: str, key: str, *, limit: int = 100, params=None) -> list[dict]:
        """PagerDuty's classic pagination: offset/limit, `more` says whether to go on."""
        items, offset = [], 0
        while True:
            page = self.get(path, {**(params or {}), "offset": offset, "limit": limit})
            found = page.get(key) or []
            items.extend(found)
            if not page.get("more") or not found:
                return items
            offset += len(found)

    def next_pages(self, path: str, params=None, *, next_of, items_of) -> list[dict]:
        """Pagination by a link to the next page (Opsgenie's paging.next, OnCall's next)."""
        items, url, query = [], path, params
        seen = set()
        while url and url not in seen:
            seen.add(url)
            page = self.get(url, query)
            items.extend(items_of(page) or [])
            url, query = next_of(page), None
        return items


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0  # an HTTP date: wait a little rather than parse it
