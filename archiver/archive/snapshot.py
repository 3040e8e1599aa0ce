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
