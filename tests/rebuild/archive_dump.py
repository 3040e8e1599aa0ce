"""Row dumps of an archive for comparing two of them: ids and crawl-time columns left out, every row keyed by its
article's URL."""

from __future__ import annotations

import sqlite3

# Columns that say when or by which run a row was written, not what the archive holds.
CRAWL_TIME = {"id", "article_id", "fetched_at", "first_seen", "last_seen", "run_id", "superseded_at",
              "superseded_by_run"}
TABLES = ("articles", "images", "documents", "url_aliases", "article_versions", "captures")
# How a listing showed an article: which of the listings that show it a crawl took first depends on the order
# its extraction workers finished pages in (compared by listing_entries instead).
LISTING_ENTRY = {"listing_title", "listing_date", "listing_url"}


def listing_entries(db) -> dict[str, tuple]:
    """Article URL -> its listing entry (title, date, listing URL), for the articles that have one."""
    with sqlite3.connect(db) as conn:
        return {url: entry for url, *entry in conn.execute(
            "SELECT url, listing_title, listing_date, listing_url FROM articles WHERE listing_title IS NOT NULL")}


def dump(db) -> dict[str, list[tuple]]:
    """{table: sorted rows} of the archive's articles, images, documents, aliases and versions (listing entries
    apart)."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        urls = dict(conn.execute("SELECT id, url FROM articles"))
        dumped = {}
        for table in TABLES:
            rows = []
            for row in conn.execute(f"SELECT * FROM {table}"):
                kept = {key: row[key] for key in row.keys() if key not in CRAWL_TIME | LISTING_ENTRY}
                if "article_id" in row.keys():
                    kept["article_url"] = urls[row["article_id"]]
                rows.append(tuple(sorted(kept.items(), key=lambda item: item[0])))
            dumped[table] = sorted(rows, key=repr)
    return dumped


def differences(first, second, limit: int = 5) -> dict[str, tuple[list, list]]:
    """Per table, up to ``limit`` rows only in the first dump and only in the second."""
    found = {}
    for table in TABLES:
        a, b = set(first[table]), set(second[table])
        if a != b:
            found[table] = (sorted(a - b, key=repr)[:limit], sorted(b - a, key=repr)[:limit])
    return found


def described(found: dict[str, tuple[list, list]]) -> list[str]:
    """Differences, one line each: a table, a row's URL, and the columns that differ (or the row missing)."""
    lines = []
    for table, (only_first, only_second) in found.items():
        second = {dict(row).get("url") or dict(row).get("article_url"): dict(row) for row in only_second}
        for row in map(dict, only_first):
            key = row.get("url") or row.get("article_url")
            other = second.get(key)
            if other is None:
                lines.append(f"{table} {key}: only in the first")
            else:
                lines.append(f"{table} {key}: " + ", ".join(f"{column} {row[column]!r} != {other.get(column)!r}"
                                                            for column in row if row[column] != other.get(column)))
    return lines
