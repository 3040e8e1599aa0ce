"""Change signals: a sitemap's ``<lastmod>`` or a feed item's ``updated`` against when an archived article was
last fetched. The articles they show changed since are made due at once (:func:`~archiver.archive.revisits.make_due`).
And when each sitemap file was last read whole (its ``pages`` row, kind ``sitemap``, written by the crawl state), so
that an index's ``<lastmod>`` older than that spares reading it again.
"""

from __future__ import annotations

from datetime import datetime, timezone

from .revisits import make_due

CHUNK = 500  # URLs a query


def moment(text: str | None) -> datetime | None:
    """An ISO 8601 date or time in UTC (a date alone: its midnight); None when unreadable."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def changed_since_fetched(db, signalled: dict[str, str]) -> list[str]:
    """Of ``signalled`` (article URL -> when a sitemap or feed says it last changed), the archived articles
    fetched before that time, made due now; in the order given."""
    urls = list(signalled)
    fetched: dict[str, str] = {}
    for start in range(0, len(urls), CHUNK):
        chunk = urls[start:start + CHUNK]
        marks = ",".join("?" * len(chunk))
        # The last fetch: of the current content, or a later one that found it unchanged (304, same hash).
        fetched.update((url, max(filter(None, (fetched_at, last_seen)), default=None)) for url, fetched_at, last_seen
                       in db.execute(f"SELECT url, fetched_at, last_seen FROM articles WHERE url IN ({marks})", chunk))
    changed = []
    for url in urls:
        said, last = moment(signalled[url]), moment(fetched.get(url))
        if said is not None and last is not None and said > last:
            changed.append(url)
    if changed:
        make_due(db, changed)
    return changed


def sitemaps_read(db, urls) -> dict[str, str]:
    """Sitemap file URL -> when a run last read it whole (only those read before)."""
    urls, found = list(urls), {}
    for start in range(0, len(urls), CHUNK):
        chunk = urls[start:start + CHUNK]
        marks = ",".join("?" * len(chunk))
        found.update(db.execute(f"SELECT url, fetched_at FROM pages WHERE kind = 'sitemap' AND http_status = 200"
                                f" AND fetched_at IS NOT NULL AND url IN ({marks})", chunk))
    return found
