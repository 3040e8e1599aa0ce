"""The SQLite archive, through sqlite-utils.

One row per article in ``articles`` (unique canonical URL, so one row per
(URL, published date) too), its images in ``images``, and every other URL
that led to the same article in ``url_aliases``. The schema is created or
migrated when an :class:`Archive` is opened; writes happen in batches, one
transaction per batch, an article always together with its images.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

SCHEMA_VERSION = 1

ARTICLE_COLUMNS = {
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
    "fetched_at": str,  # when this content was fetched (UTC, ISO 8601)
    "first_seen": str,
    "last_seen": str,
}
IMAGE_COLUMNS = {"id": int, "article_id": int, "src": str, "alt": str, "caption": str, "position": int}
ALIAS_COLUMNS = {"url": str, "article_id": int, "first_seen": str}


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


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

    def save(self, articles: list[dict]) -> SaveCounts:
        """Store a batch of extracted articles in one transaction; returns what happened."""
        counts = SaveCounts()
        with self.db.atomic():
            for article in articles:
                outcome = self._save_one(article)
                setattr(counts, outcome, getattr(counts, outcome) + 1)
        return counts

    def _save_one(self, article: dict) -> str:
        now = article.get("fetched_at") or utc_now()
        row = {k: article.get(k) for k in ARTICLE_COLUMNS if k not in ("id", "first_seen", "last_seen")}
        row["date_missing"] = int(not article.get("published"))
        row["image_count"] = len(article.get("images") or ())
        existing = self.article_id_for(article["url"])
        if existing is None:
            duplicate = self._same_content(row)
            if duplicate is not None:
                self._alias(article["url"], duplicate, now)
                self.db.execute("UPDATE articles SET last_seen = ? WHERE id = ?", [now, duplicate])
                return "aliased"
            row.update(first_seen=now, last_seen=now)
            article_id = self.db["articles"].insert(row).last_pk
            self._write_images(article_id, article.get("images") or [])
            outcome = "new"
        else:
            article_id = existing
            stored_hash = self.db.execute("SELECT content_hash FROM articles WHERE id = ?", [article_id]).fetchone()[0]
            if stored_hash == row["content_hash"]:
                self.db.execute("UPDATE articles SET last_seen = ? WHERE id = ?", [now, article_id])
                outcome = "unchanged"
            else:
                row.pop("url")
                row["last_seen"] = now
                self.db["articles"].update(article_id, row)
                self._write_images(article_id, article.get("images") or [])
                outcome = "updated"
        for other in article.get("aliases") or ():
            if other != article["url"]:
                self._alias(other, article_id, now)
        return outcome

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

    def _alias(self, url: str, article_id: int, now: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO url_aliases (url, article_id, first_seen) VALUES (?, ?, ?)",
            [url, article_id, now],
        )

    def _write_images(self, article_id: int, images: list[dict]) -> None:
        self.db.execute("DELETE FROM images WHERE article_id = ?", [article_id])
        rows = [
            {"article_id": article_id, "src": image["src"], "alt": image.get("alt") or "",
             "caption": image.get("caption"), "position": position}
            for position, image in enumerate(images)
        ]
        if rows:
            self.db["images"].insert_all(rows)

    def count(self, table: str = "articles") -> int:
        return self.db[table].count


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the tables and indexes, or add what an older archive lacks."""
    _table(db, "articles", ARTICLE_COLUMNS, pk="id", not_null={"url"})
    _table(db, "images", IMAGE_COLUMNS, pk="id", foreign_keys=[("article_id", "articles", "id")])
    _table(db, "url_aliases", ALIAS_COLUMNS, pk="url", foreign_keys=[("article_id", "articles", "id")])
    db["articles"].create_index(["url"], unique=True, if_not_exists=True)
    db["articles"].create_index(["content_hash"], if_not_exists=True)
    for column in ("published", "section", "language"):
        db["articles"].create_index([column], if_not_exists=True)
    db["images"].create_index(["article_id", "position"], if_not_exists=True)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _table(db, name: str, columns: dict, **options) -> None:
    table = db[name]
    if not table.exists():
        table.create(columns, **options)
        return
    # Migration: add the columns a newer version of archiver knows of.
    existing = {column.name for column in table.columns}
    for column, kind in columns.items():
        if column not in existing:
            table.add_column(column, kind)
