"""When each archived article is checked again: an adaptive revisit schedule, kept in ``pages``.

Heritrix's adaptive revisiting, for articles: each archived article has an interval (``revisit_interval``)
and a next check (``next_revisit``). A check that finds the article unchanged (``304 Not Modified``, or the same
content hash) doubles its interval, one that finds it changed halves it, within the policy's bounds. A new
article starts short, at a share of its age (a twentieth by default): young articles are the ones corrected and
updated, so one archived on the day it appeared is checked within hours, and again every day or two while it is
young, and one archived five years after it appeared waits months. An incremental run requests the articles
that are due, the longest overdue first, up to its budget (:mod:`archiver.crawl.bookkeeping`). A sitemap's
``<lastmod>`` or a feed's ``updated`` newer than the last fetch makes an article due at once (:func:`make_due`).

Plain SQL and plain values: the crawl passes its settings in (:class:`RevisitPolicy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ..clock import utc_after, utc_now

HOUR, DAY = 3600, 86400
# The articles a due check may pick: archived and live (their page "stored", or "fetched" by a later run: a 304).
_DUE = "FROM pages JOIN articles ON articles.url = pages.url WHERE articles.status = 'live' AND pages.next_revisit <= ?"


@dataclass(frozen=True)
class RevisitPolicy:
    initial: int = DAY  # seconds: a new article's first interval when its age is unknown (no date)
    minimum: int = HOUR
    maximum: int = 90 * DAY
    age_share: float = 0.05  # a new article's first interval, as a share of its age when archived

    def first(self, fetched_at: str | None, published: str | None) -> int:
        """A new article's interval: ``age_share`` of its age when archived, within the bounds (``initial``
        when it has no date)."""
        age = _seconds_between(published, fetched_at)
        return self.bounded(age * self.age_share if age is not None else self.initial)

    def after(self, interval: int | None, changed: bool) -> int:
        """The interval after a check: halved when the article changed, doubled when it did not."""
        interval = interval or self.initial
        return self.bounded(interval // 2 if changed else interval * 2)

    def bounded(self, interval: int) -> int:
        return max(self.minimum, min(self.maximum, int(interval)))


def _seconds_between(start: str | None, end: str | None) -> int | None:
    """Seconds from ``start`` (a date or datetime) to ``end`` (a UTC time); None when either is missing or bad."""
    if not start or not end:
        return None
    try:
        begin, finish = datetime.fromisoformat(start), datetime.fromisoformat(end)
    except ValueError:
        return None
    begin = begin if begin.tzinfo else begin.replace(tzinfo=timezone.utc)
    finish = finish if finish.tzinfo else finish.replace(tzinfo=timezone.utc)
    return max(0, int((finish - begin).total_seconds()))


def due_articles(db, limit: int | None = None, now: str | None = None) -> list[str]:
    """The archived articles due for a check, the longest overdue first (at most ``limit``)."""
    sql = f"SELECT pages.url {_DUE} ORDER BY pages.next_revisit, pages.url"
    rows = db.execute(sql + (" LIMIT ?" if limit is not None else ""),
                      [now or utc_now(), *([limit] if limit is not None else [])])
    return [url for (url,) in rows]


def count_due(db, now: str | None = None) -> int:
    return db.execute(f"SELECT count(*) {_DUE}", [now or utc_now()]).fetchone()[0]


def make_due(db, urls) -> int:
    """Archived articles due now (a sitemap or feed says they changed since they were fetched): an incremental
    run checks them first. ``urls``: canonical article URLs or their aliases. Returns how many
    articles were made due (an article already due keeps its place)."""
    now = utc_now()
    made = 0
    with db.atomic():
        for url in urls:
            made += db.execute(
                "UPDATE pages SET next_revisit = ? WHERE (next_revisit IS NULL OR next_revisit"
                " > ?) AND url IN (SELECT url FROM articles WHERE url = ? UNION SELECT articles.url FROM url_aliases"
                " JOIN articles ON articles.id = url_aliases.article_id WHERE url_aliases.url = ?)",
                [now, now, url, url]).rowcount
    return made


def schedule_checked(db, outcomes: dict[str, bool | None], policy: RevisitPolicy) -> None:
    """Articles this run fetched or checked: ``{url: changed}`` (``None``: archived for the first time, whose
    ``published`` decides its first interval). Their next check is an interval from now. An article found
    unchanged again less than ``policy.minimum`` after it was scheduled (fetched twice in one run, under two
    URLs) keeps its schedule: that second look says nothing about how often it changes."""
    now = utc_now()
    rows = []
    for url, changed in outcomes.items():
        found = db.execute("SELECT pages.revisit_interval, pages.next_revisit, articles.published FROM pages"
                           " JOIN articles ON articles.url = pages.url WHERE pages.url = ?", [url]).fetchone()
        if found is None:
            continue
        interval, next_revisit, published = found
        if changed is False and _scheduled_lately(interval, next_revisit, now, policy.minimum):
            continue
        interval = policy.first(now, published) if changed is None or interval is None else \
            policy.after(interval, changed)
        rows.append((interval, utc_after(interval, now), url))
    db.conn.executemany("UPDATE pages SET revisit_interval = ?, next_revisit = ? WHERE url = ?", rows)


def _scheduled_lately(interval: int | None, next_revisit: str | None, now: str, within: int) -> bool:
    """Whether the schedule ``(interval, next_revisit)`` was set less than ``within`` seconds before ``now``."""
    if not interval or not next_revisit:
        return False
    since = _seconds_between(utc_after(-interval, next_revisit), now)
    return since is not None and since < within


def schedule_unscheduled(db, policy: RevisitPolicy) -> int:
    """Archived articles without a schedule (archived before revisits existed): a first interval from when
    they were fetched. Returns how many."""
    rows = db.execute("SELECT pages.url, coalesce(articles.fetched_at, pages.fetched_at), articles.published FROM"
                      " pages JOIN articles ON articles.url = pages.url WHERE pages.next_revisit IS NULL").fetchall()
    updates = []
    for url, fetched_at, published in rows:
        interval = policy.first(fetched_at, published)
        updates.append((interval, utc_after(interval, fetched_at or utc_now()), url))
    with db.atomic():
        db.conn.executemany("UPDATE pages SET revisit_interval = ?, next_revisit = ? WHERE url = ?", updates)
    return len(updates)
