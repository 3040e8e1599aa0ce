"""The project's timestamps: UTC, to the second, in ISO 8601 (what every ``*_at``, ``first_seen`` and
``started`` column of the archive holds). A module of its own, so that the spider, the crawl and the
archive read one clock without importing one another.

``ARCHIVER_NOW`` (an ISO 8601 time, e.g. ``2026-11-02T08:00:00+00:00``) stops the clock there: for tests and
benchmarks of what is due when (revisits), never for real crawls.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone


def utc_now() -> str:
    return now().isoformat()


def now() -> datetime:
    """The current time (UTC, to the second), or ``ARCHIVER_NOW`` when set."""
    fixed = os.environ.get("ARCHIVER_NOW")
    if fixed:
        moment = datetime.fromisoformat(fixed)
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


def utc_after(seconds: int, start: str | None = None) -> str:
    """``seconds`` after ``start`` (an ISO 8601 time; now when None), in the same form as :func:`utc_now`."""
    moment = datetime.fromisoformat(start) if start else now()
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return (moment.astimezone(timezone.utc) + timedelta(seconds=seconds)).replace(microsecond=0).isoformat()
