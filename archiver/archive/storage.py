"""The SQLite archive, through sqlite-utils.

One row per article in ``articles`` (unique canonical URL, so one row per
(URL, published date) too), its images in ``images``, every other URL that
led to the same article in ``url_aliases``, and the content an edit replaced
in ``article_versions``. The schema (:mod:`archiver.archive.schema`) is created or
migrated when an :class:`Archive` is opened; writes happen in batches, one
transaction per batch, an article always together with its images, its
previous version and its crawl state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from . import captures
from .rows import insert_row, insert_rows
from ..clock import utc_now
from .crawl_state import mark_stored  # the one writer of pages
from .schema import ARTICLES, ensure_schema
from .stemming import STEMMER_VERSION

logger = logging.getLogger(__name__)
# A downloaded image's or document's file (archiver.capture.media), stored with its row.
MEDIA_COLUMNS = ("sha256", "path", "bytes", "content_type", "fetched_at")


@dataclass
class SaveCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    aliased: int = 0


class Archive:
    """An archive database. ``Archive("data/archive.db").save([article_dict, ...])``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(str(path))
        self.db.execute("PRAGMA busy_timeout = 30000")
        if str(path) != ":memory:":
            self.db.enable_wal()
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA foreign_keys = ON")
        ensure_schema(self.db)

    def close(self) -> None:
        self.db.close()

    def save(self, articles: list[dict], run_id: int | None = None) -> SaveCounts:
        """Store a batch of extracted articles in one transaction; returns what happened.

        Idempotent: saving the same article again only updates ``last_seen``.
        """
        counts = SaveCounts()
        with self.db.atomic():
            for article in articles:
                outcome = self._save_one(article, run_id)
                setattr(counts, outcome, getattr(counts, outcome) + 1)
                self._mark_stored(article, run_id)
        return counts

    def _save_one(self, article: dict, run_id: int | None) -> str:
        now = article.get("fetched_at") or utc_now()
        row = self._article_row(article, run_id)
        existing = self.article_id_for(article["url"])
        if existing is None:
            duplicate = self._same_content(row)
            if duplicate is not None:
                self.add_alias(article["url"], duplicate, now)
                self.db.execute("UPDATE articles SET last_seen = ? WHERE id = ?", [now, duplicate])
                return "aliased"
            row.update(first_seen=now, last_seen=now)
            article_id = insert_row(self.db, "articles", row)
            self._write_images(article_id, article.get("images") or [])
            self._write_documents(article_id, article.get("documents") or [])
            self._write_search_stems(article_id, article)
            outcome = "new"
        else:
            article_id = existing
            stored = self.db.execute("SELECT content_hash, published FROM articles WHERE id = ?",
                                     [article_id]).fetchone()
            if stored[0] == row["content_hash"]:
                self.db.execute("UPDATE articles SET last_seen = ?, status = 'live' WHERE id = ?", [now, article_id])
                self._update_listing_entry(article_id, article)
                outcome = "unchanged"
            else:
                if stored[1] != row["published"]:
                    logger.warning("Publication date of %s changed from %s to %s; the old one is kept as a version",
                                   article["url"], stored[1], row["published"])
                self._replace_content(article_id, article, row, now, run_id)
                outcome = "updated"
        for other in article.get("aliases") or ():
            if other != article["url"]:
                self.add_alias(other, article_id, now)
        return outcome

    @staticmethod
    def _article_row(article: dict, run_id: int | None) -> dict:
        """The ``articles`` row of an extracted article, but for its id and sightings."""
        row = {k: article.get(k) for k in ARTICLES if k not in ("id", "first_seen", "last_seen", "status")}
        row.update(date_missing=int(not article.get("published")), image_count=len(article.get("images") or ()),
                   run_id=run_id, status="live")
        return row

    def _replace_content(self, article_id: int, article: dict, row: dict, now: str, run_id: int | None,
                         reason: str | None = None, last_seen: str | None = None) -> None:
        """The article's new content (``row``, its images, documents and stems), the old one kept as a version."""
        self._keep_version(article_id, now, run_id, reason)
        row = {**row, "last_seen": last_seen or now}
        row.pop("url")
        if not row.get("listing_title"):
            for column in ("listing_title", "listing_date", "listing_url"):
                row.pop(column)
        self.db["articles"].update(article_id, row)
        self._write_images(article_id, article.get("images") or [])
        self._write_documents(article_id, article.get("documents") or [])
        self._write_search_stems(article_id, article)

    def _keep_version(self, article_id: int, now: str, run_id: int | None, reason: str | None = None) -> None:
        """Copy the article's current content to ``article_versions`` before it is replaced (``reason``:
        ``re-extracted`` by a rebuild, None for an edit)."""
        self.db.execute(
            "INSERT INTO article_versions (article_id, title, published, text, content_hash, fetched_at, run_id,"
            " superseded_at, superseded_by_run, warc_file, warc_offset, reason) SELECT id, title, published, text,"
            " content_hash, fetched_at, run_id, ?, ?, warc_file, warc_offset, ? FROM articles WHERE id = ?",
            [now, run_id, reason, article_id])

    def reextract(self, article_id: int, article: dict, run_id: int | None) -> None:
        """A rebuild read the capture of an archived article anew and extracted other content: that content
        replaces the stored one, kept as a version with the reason ``re-extracted`` (in the caller's
        transaction). Its sightings and status stay the crawl's."""
        last_seen, status = self.db.execute("SELECT last_seen, status FROM articles WHERE id = ?",
                                            [article_id]).fetchone()
        row = {**self._article_row(article, run_id), "status": status}
        self._replace_content(article_id, article, row, utc_now(), run_id, reason="re-extracted", last_seen=last_seen)

    def _update_listing_entry(self, article_id: int, article: dict) -> None:
        if article.get("listing_title"):
            self.db.execute("UPDATE articles SET listing_title = ?, listing_date = ?, listing_url = ? WHERE id = ?",
                            [article["listing_title"], article.get("listing_date"), article.get("listing_url"),
                             article_id])

    def _mark_stored(self, article: dict, run_id: int | None) -> None:
        """The crawl state of every URL that led here: stored (same transaction as the article)."""

        mark_stored(self.db, {article["url"], *(article.get("aliases") or ())}, article.get("status") or 200,
                    article.get("fetched_at"), run_id)

    def article_id_for(self, url: str) -> int | None:
        """The article stored under ``url``, directly or as an alias."""
        found = self.db.execute("SELECT id FROM articles WHERE url = ?", [url]).fetchone() or \
            self.db.execute("SELECT article_id FROM url_aliases WHERE url = ?", [url]).fetchone()
        return found[0] if found else None

    def _same_content(self, row: dict) -> int | None:
        """An article already stored with identical content under another URL."""
        found = self.db.execute(
            "SELECT id FROM articles WHERE content_hash = ? AND coalesce(language, '') = coalesce(?, '') LIMIT 1",
            [row["content_hash"], row.get("language")],
        ).fetchone()
        return found[0] if found else None

    def add_alias(self, url: str, article_id: int, now: str) -> None:
        """``url`` leads to the article too (kept once, with when it was first seen)."""
        self.db.execute(
            "INSERT OR IGNORE INTO url_aliases (url, article_id, first_seen) VALUES (?, ?, ?)",
            [url, article_id, now],
        )

    def _write_images(self, article_id: int, images: list[dict]) -> None:
        self.db.execute("DELETE FROM images WHERE article_id = ?", [article_id])
        rows = [
            {"article_id": article_id, "src": image["src"], "alt": image.get("alt") or "",
             "caption": image.get("caption"), "position": position,
             **{key: image.get(key) for key in MEDIA_COLUMNS}}
            for position, image in enumerate(images)
        ]
        insert_rows(self.db, "images", rows)

    def _write_documents(self, article_id: int, documents: list[dict]) -> None:
        """The documents an article links to, with their downloaded files (archiver.capture.media)."""
        self.db.execute("DELETE FROM documents WHERE article_id = ?", [article_id])
        rows = [{"article_id": article_id, "url": document["url"], "text": document.get("text") or "",
                 "position": position, **{key: document.get(key) for key in MEDIA_COLUMNS}}
                for position, document in enumerate(documents)]
        insert_rows(self.db, "documents", rows)

    def _write_search_stems(self, article_id: int, article: dict) -> None:
        """The article's search stems (``search_stems``, made from this very title and text), if it has them;
        else :func:`archiver.archive.explore.refresh` makes them."""
        stems = article.get("search_stems")
        if stems is None:
            return
        self.db.execute(
            "INSERT INTO article_search (article_id, language, stems, content_hash, stemmer) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(article_id) DO UPDATE SET language = excluded.language, stems = excluded.stems,"
            " content_hash = excluded.content_hash, stemmer = excluded.stemmer",
            [article_id, article.get("language"), stems, article.get("content_hash"), STEMMER_VERSION])

    def count(self, table: str = "articles") -> int:
        return self.db[table].count

    # -- media files and WARC captures (archiver.capture) -------------------

    def downloaded_files(self, url: str) -> Iterator[dict]:
        """The files earlier runs downloaded from ``url``: the newest image row's, then the newest
        document row's (each read only when the one before it is not taken), as dicts of MEDIA_COLUMNS."""
        for table, column in (("images", "src"), ("documents", "url")):
            row = self.db.execute(
                f"SELECT {', '.join(MEDIA_COLUMNS)} FROM {table} WHERE {column} = ? "
                "AND sha256 IS NOT NULL ORDER BY id DESC LIMIT 1", [url]).fetchone()
            if row:
                yield dict(zip(MEDIA_COLUMNS, row))

    def add_captures(self, rows: list[dict]) -> None:
        """A batch of ``captures`` rows (one per WARC record), in one transaction."""
        captures.add_captures(self.db, rows)

    def revisit_original(self, payload_digest: str) -> dict | None:
        """The first archived response with this payload (URL, WARC date, record id), or None."""
        return captures.revisit_original(self.db, payload_digest)

    def earlier_capture(self, url: str) -> dict | None:
        """The last 200 capture of ``url`` (its payload's response record), or None: what a 304 refers to."""
        return captures.earlier_capture(self.db, url)

    def count_captures(self, run_id: int | None) -> int:
        """The number of WARC records a crawl run wrote."""
        return captures.count_run_captures(self.db, run_id)
