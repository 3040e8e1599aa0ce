"""Reads of the crawl state in bulk, for the snapshot a cluster's writer publishes to its workers
(:mod:`archiver.cluster.state`): what :class:`~archiver.archive.crawl_state.CrawlState` reads one URL at a time."""

from __future__ import annotations


def all_validators(db) -> dict[str, tuple[str | None, str | None]]:
    """Every page's ``ETag`` and ``Last-Modified``, where it has one (what conditional requests send)."""
    rows = db.execute("SELECT url, etag, last_modified FROM pages WHERE etag IS NOT NULL OR last_modified IS NOT NULL")
    return {url: (etag, last_modified) for url, etag, last_modified in rows}


def answered_listings(db) -> list[str]:
    """Listing pages that answered, with a page or "not modified" (what a run reads again, before the profile's
    filter: :meth:`CrawlState.listing_roots`)."""
    return [url for (url,) in db.execute("SELECT url FROM pages WHERE kind = 'listing' AND http_status IN (200, 304)")]


def article_fetch_times(db) -> dict[str, tuple[str | None, str | None]]:
    """Every archived article's last fetch: ``fetched_at`` of its content and ``last_seen`` (what change signals
    compare a sitemap's or feed's date with)."""
    return {url: (fetched_at, last_seen) for url, fetched_at, last_seen in
            db.execute("SELECT url, fetched_at, last_seen FROM articles")}


def sitemap_reads(db) -> dict[str, str]:
    """Sitemap files read whole before -> when."""
    return dict(db.execute("SELECT url, fetched_at FROM pages WHERE kind = 'sitemap' AND http_status = 200"
                           " AND fetched_at IS NOT NULL"))


def local_copy(articles: dict[str, tuple], aliases: dict[str, set[str]], sitemaps: dict[str, str]):
    """An in-memory database with what the crawl's change signals read of ``articles``, ``url_aliases`` and
    ``pages`` (:mod:`archiver.crawl.change_signals`), for a process that has no archive (a cluster worker)."""
    import sqlite_utils

    db = sqlite_utils.Database(memory=True)
    db.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, url TEXT UNIQUE, fetched_at TEXT, last_seen TEXT)")
    db.execute("CREATE TABLE url_aliases (url TEXT PRIMARY KEY, article_id INTEGER)")
    db.execute("CREATE TABLE pages (url TEXT PRIMARY KEY, kind TEXT, http_status INTEGER, fetched_at TEXT,"
               " next_revisit TEXT)")
    db.conn.executemany("INSERT INTO articles (url, fetched_at, last_seen) VALUES (?, ?, ?)",
                        [(url, *times) for url, times in articles.items()])
    db.conn.executemany("INSERT INTO pages (url, kind) VALUES (?, 'article')", [(url,) for url in articles])
    db.conn.executemany("INSERT OR IGNORE INTO url_aliases (url, article_id) SELECT ?, id FROM articles WHERE url = ?",
                        [(alias, url) for url, urls in aliases.items() for alias in urls])
    db.conn.executemany("INSERT OR REPLACE INTO pages (url, kind, http_status, fetched_at) VALUES (?, 'sitemap', 200,"
                        " ?)", list(sitemaps.items()))
    return db


def revisit_schedule(db) -> dict[str, str]:
    """Every live archived article's next check (what makes it due, read against the clock of the round that
    reads it: :func:`archiver.archive.revisits.due_articles` in bulk)."""
    return dict(db.execute("SELECT pages.url, pages.next_revisit FROM pages JOIN articles ON articles.url = pages.url"
                           " WHERE articles.status = 'live' AND pages.next_revisit IS NOT NULL"))
