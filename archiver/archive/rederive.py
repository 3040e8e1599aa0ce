"""The archive's side of ``archiver rebuild``: articles re-derived from WARC captures, written in batches.

An article the archive did not hold before the rebuild is saved as a crawl saves it
(:meth:`archiver.archive.storage.Archive.save`: new, an edit of an earlier capture, unchanged, or stored under
another URL). An article it held is compared only on the capture its row points at (another capture of it is
older or newer content, not a better reading of this one): the same content leaves it untouched, other content
replaces it, the old one kept as a version with the reason ``re-extracted``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..clock import utc_now
from .crawl_state import mark_stored


@dataclass
class RebuildCounts:
    new: int = 0
    updated: int = 0  # a later capture of an article this rebuild wrote, with other content (an edit)
    unchanged: int = 0
    aliased: int = 0
    re_extracted: int = 0
    other_capture: int = 0  # a capture of an archived article other than the one its row points at

    def add(self, other) -> None:
        for name in (field.name for field in fields(self)):
            if hasattr(other, name):
                setattr(self, name, getattr(self, name) + getattr(other, name))


def last_article_id(archive) -> int:
    """The highest article id so far: the articles above it are the rebuild's own."""
    return archive.db.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]


def save_rederived(archive, articles: list[dict], run_id: int, before: int) -> RebuildCounts:
    """Store a batch of re-derived articles (rows as the crawl's pipeline makes them, with ``warc_file`` and
    ``warc_offset``) in one transaction. ``before``: :func:`last_article_id` when the rebuild started."""
    counts = RebuildCounts()
    fresh: list[dict] = []
    with archive.db.atomic():
        for article in articles:
            held = _held_article(archive, article["url"], before)
            if held is None:
                fresh.append(article)
                continue
            article_id, content_hash, warc_file, warc_offset = held
            if warc_file is not None and (warc_file, warc_offset) != (article.get("warc_file"),
                                                                      article.get("warc_offset")):
                counts.other_capture += 1
            elif content_hash == article["content_hash"]:
                counts.unchanged += 1
            else:
                archive.reextract(article_id, article, run_id)
                mark_stored(archive.db, [article["url"]], article.get("status") or 200, article.get("fetched_at"),
                            run_id)
                counts.re_extracted += 1
            for alias in article.get("aliases") or ():
                if archive.article_id_for(alias) is None:
                    archive.add_alias(alias, article_id, article.get("fetched_at") or utc_now())
        if fresh:
            counts.add(archive.save(fresh, run_id=run_id))
    return counts


def _held_article(archive, url: str, before: int) -> tuple | None:
    """(id, content hash, WARC file, offset) of the article held under ``url`` (or an alias) before the rebuild."""
    article_id = archive.article_id_for(url)
    if article_id is None or article_id > before:
        return None
    return (article_id, *archive.db.execute("SELECT content_hash, warc_file, warc_offset FROM articles WHERE id = ?",
                                            [article_id]).fetchone())


def alias_redirects(archive, redirects: dict[str, str]) -> int:
    """Redirect sources (source -> final target) whose target is an archived article and that lead to no
    article yet: its aliases. Returns how many were added."""
    added = 0
    with archive.db.atomic():
        for source, target in redirects.items():
            article_id = archive.article_id_for(target)
            if article_id is not None and archive.article_id_for(source) is None:
                archive.add_alias(source, article_id, utc_now())
                added += 1
    return added


def fill_listing_entries(archive, entries: dict[str, tuple], after: int) -> int:
    """Articles this rebuild wrote (id above ``after``) without a listing entry get the first listing entry the
    WARC files show for them (``entries``: URL -> (title, date, listing URL)). Returns how many."""
    rows = [(title, date, listing, url, after) for url, (title, date, listing) in entries.items()]
    with archive.db.atomic():
        before = archive.db.conn.total_changes
        archive.db.conn.executemany("UPDATE articles SET listing_title = ?, listing_date = ?, listing_url = ? "
                                    "WHERE url = ? AND id > ? AND listing_title IS NULL", rows)
        return archive.db.conn.total_changes - before


def name_sections(archive, titles: dict[str, str], after: int) -> int:
    """Articles this rebuild wrote (id above ``after``) without a section title take the one their section's
    listing page shows (``titles``: section URL -> title), as a crawl's do at its end. Returns how many."""
    named = 0
    with archive.db.atomic():
        for section_url, title in titles.items():
            named += archive.db.execute(
                "UPDATE articles SET section_title = ? WHERE section_url = ? AND coalesce(section_title, '') = ''"
                " AND id > ?", [title, section_url, after]).rowcount
    return named
