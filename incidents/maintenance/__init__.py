"""Maintenance windows: while one covers a service, its incidents open but nobody is paged
(`windows` for writes, `selectors` for reads, with their pages and API)."""
