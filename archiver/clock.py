"""The project's timestamps: UTC, to the second, in ISO 8601 (what every ``*_at``, ``first_seen`` and
``started`` column of the archive holds). A module of its own, so that the spider, the crawl and the
archive read one clock without importing one another."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
