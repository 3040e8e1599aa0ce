"""The archive's schema: every table and column, created or migrated on open.

Migration only ever adds: new tables, new columns, new indexes. Columns are
never renamed or dropped, so an older archive opens in a newer archiver and
the queries analysts wrote keep working. The README documents each table.
"""

from __future__ import annotations

import sqlite_utils

SCHEMA_VERSION = 2

ARTICLES = {
    "id": int,
    "url": str,  # canonical absolute URL, unique
    "title": str,
    "published": str,  # ISO 8601 date or datetime; NULL when the page shows none
    "date_missing": int,  # 1 when no date could be found on the page
    "text": str,  # clean body text, paragraphs separated by a blank line
    "language": str,
    "section": str,
    "section_url": str,
    "section_title": str,
    "description": str,
    "author": str,
    "content_hash": str,  # SHA-256 of title, published and text
    "image_count": int,
    "extractor": str,
    "fetched_at": str,  # when the current content was fetched (UTC, ISO 8601)
    "first_seen": str,
    "last_seen": str,
    "run_id": int,  # the crawl run that wrote the current content
    "status": str,  # "live", or "gone" once the site answers 404/410 for it
    "listing_title": str,  # the article's entry in a listing, to notice edits without fetching it
    "listing_date": str,
    "listing_url": str,  # the first page of that listing
    "warc_file": str,  # provenance: the WARC file holding the response the article was extracted from
    "warc_offset": int,  # and the offset of its response record in that file
}
IMAGES = {"id": int, "article_id": int, "src": str, "alt": str, "caption": str, "position": int,
          # the downloaded file (archiver.capture.media): content-addressed, NULL when it could not be fetched
          "sha256": str, "path": str, "bytes": int, "content_type": str, "fetched_at": str}
# Documents (PDF, DOC...) linked from articles, downloaded like images (archiver.capture.media).
DOCUMENTS = {"id": int, "article_id": int, "url": str, "text": str, "position": int,
             "sha256": str, "path": str, "bytes": int, "content_type": str, "fetched_at": str}
# One row per WARC record written (archiver.capture.warc): the WARC index, queryable.
CAPTURES = {
    "id": int,
    "url": str,  # WARC-Target-URI
    "warc_date": str,  # WARC-Date (UTC, microseconds)
    "record_type": str,  # warcinfo, request, response, revisit
    "status": int,  # HTTP status of a response or revisit
    "content_type": str,  # the HTTP Content-Type of a response
    "payload_digest": str,  # WARC-Payload-Digest (sha1:BASE32)
    "block_digest": str,  # WARC-Block-Digest
    "warc_file": str,  # file name in the WARC directory
    "offset": int,  # of the record's gzip member in that file
    "length": int,  # of the gzip member
    "record_id": str,  # WARC-Record-ID
    "refers_to": str,  # a revisit's WARC-Refers-To (the original response's record id)
    "run_id": int,
}
URL_ALIASES = {"url": str, "article_id": int, "first_seen": str}
ARTICLE_VERSIONS = {
    "id": int,
    "article_id": int,
    "title": str,
    "published": str,
    "text": str,
    "content_hash": str,
    "fetched_at": str,  # when this (now superseded) content was fetched
    "run_id": int,  # the run that had written it
    "superseded_at": str,
    "superseded_by_run": int,
    "warc_file": str,
    "warc_offset": int,
}
CRAWL_RUNS = {
    "id": int,
    "started": str,
    "finished": str,
    "status": str,  # running, finished, interrupted, failed
    "mode": str,  # incremental, complete (after an interrupted run) or full
    "seeds": str,  # JSON list
    "pid": int,
    "requests": int,
    "responses_2xx": int,
    "responses_3xx": int,
    "responses_4xx": int,
    "responses_5xx": int,
    "articles_new": int,
    "articles_updated": int,
    "articles_unchanged": int,
    "articles_gone": int,
    "errors": int,
    "items_dropped": str,  # JSON {reason: count}
    "coverage": str,  # JSON {field: share of extracted articles with it}
    "degraded": str,  # why the run is degraded, or NULL
    "finish_reason": str,  # Scrapy's reason: finished, shutdown, ...
    "exit_code": int,
    "warc_bytes": int,  # WARC bytes written (compressed)
    "media_bytes": int,  # media bytes stored (new files only)
}
PAGES = {
    "url": str,  # canonical URL
    "kind": str,  # article, listing, other, error
    "state": str,  # seen (scheduled), fetched, stored (article archived)
    "http_status": int,
    "etag": str,
    "last_modified": str,
    "fetched_at": str,
    "run_id": int,  # the last run that touched it
}
REMOVALS = {
    "id": int,
    "article_id": int,
    "url": str,
    "reason": str,  # "HTTP 404", "HTTP 410", "vanished from listing"
    "http_status": int,
    "run_id": int,
    "seen_at": str,
}


# Each article's Snowball stems (archiver.archive.stemming), for the search of archiver.archive.explore: written by the crawl
# with the article it was made from; explore stems what no crawl did and indexes the table (article_search_fts).
ARTICLE_SEARCH = {
    "article_id": int,
    "language": str,
    "stems": str,  # the title's stems, a newline, the text's
    "content_hash": str,  # the article's content_hash the stems were made from
    "stemmer": str,  # archiver.archive.stemming.STEMMER_VERSION
}


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the tables and indexes, or add what an older archive lacks."""
    _table(db, "articles", ARTICLES, pk="id", not_null={"url"})
    _table(db, "images", IMAGES, pk="id", foreign_keys=[("article_id", "articles", "id")])
    _table(db, "url_aliases", URL_ALIASES, pk="url", foreign_keys=[("article_id", "articles", "id")])
    _table(db, "crawl_runs", CRAWL_RUNS, pk="id")
    _table(db, "article_versions", ARTICLE_VERSIONS, pk="id",
           foreign_keys=[("article_id", "articles", "id"), ("run_id", "crawl_runs", "id")])
    _table(db, "pages", PAGES, pk="url")
    _table(db, "removals", REMOVALS, pk="id",
           foreign_keys=[("article_id", "articles", "id"), ("run_id", "crawl_runs", "id")])
    _table(db, "documents", DOCUMENTS, pk="id", foreign_keys=[("article_id", "articles", "id")])
    _table(db, "captures", CAPTURES, pk="id")
    _table(db, "article_search", ARTICLE_SEARCH, pk="article_id", foreign_keys=[("article_id", "articles", "id")])
    db["documents"].create_index(["article_id", "position"], if_not_exists=True)
    db["documents"].create_index(["url"], if_not_exists=True)
    db["images"].create_index(["src"], if_not_exists=True)  # media already downloaded (archiver.capture.media)
    for columns in (["payload_digest"], ["url"], ["warc_file", "offset"]):
        db["captures"].create_index(columns, if_not_exists=True)
    db["articles"].create_index(["url"], unique=True, if_not_exists=True)
    db["articles"].create_index(["content_hash"], if_not_exists=True)
    for column in ("published", "section", "language", "run_id"):
        db["articles"].create_index([column], if_not_exists=True)
    db["images"].create_index(["article_id", "position"], if_not_exists=True)
    db["article_versions"].create_index(["article_id"], if_not_exists=True)
    db["pages"].create_index(["state"], if_not_exists=True)
    db["removals"].create_index(["article_id"], if_not_exists=True)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _table(db, name: str, columns: dict, **options) -> None:
    table = db[name]
    if not table.exists():
        table.create(columns, **options)
        return
    existing = {column.name for column in table.columns}
    for column, kind in columns.items():
        if column not in existing:
            table.add_column(column, kind)
