"""An existing archive, opened read-only: never created, migrated or written (``archiver verify``, ``show``, ``demo``).

Rows are ``sqlite3.Row`` (by column name or position). The tables and columns are checked before they are
read: an archive made by an older version may lack some.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from . import captures

# A first look into an archive, for a user to paste (``archiver demo`` prints it).
NEWEST_ARTICLES_QUERY = "select published, language, title from articles order by published desc"


class ReadOnlyArchive:
    """``ReadOnlyArchive("data/archive.db")``: the archive's reads, on a connection that cannot write."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        self.conn.row_factory = sqlite3.Row

    def close(self) -> None:
        self.conn.close()

    # -- what the archive holds --------------------------------------------------

    def tables(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def columns(self, table: str) -> set[str]:
        return {row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")}

    # -- articles ---------------------------------------------------------------

    def count_articles(self) -> int:
        return self.conn.execute("select count(*) from articles").fetchone()[0]

    def articles_by_language(self) -> list:
        """(language, number of articles) pairs."""
        return self.conn.execute("select language, count(*) from articles group by language").fetchall()

    def article_by_id(self, article_id: int):
        return self.conn.execute("SELECT * FROM articles WHERE id = ?", [article_id]).fetchone()

    def article_by_url(self, url: str):
        """The article stored under ``url``, else the one ``url`` is an alias of; or None."""
        return self.conn.execute("SELECT * FROM articles WHERE url = ?", [url]).fetchone() or self.conn.execute(
            "SELECT articles.* FROM url_aliases JOIN articles ON articles.id = url_aliases.article_id "
            "WHERE url_aliases.url = ?", [url]).fetchone()

    def capture_positions(self, table: str):
        """(id, WARC file, offset) of each row of ``table`` (articles, article_versions) that has a capture."""
        return self.conn.execute(f"SELECT id, warc_file, warc_offset FROM {table} WHERE warc_file IS NOT NULL")

    # -- media files ---------------------------------------------------------------

    def media_files(self, table: str, url_column: str):
        """(id, URL, SHA-256, path, bytes) of each row of ``table`` (images, documents) with a downloaded file."""
        return self.conn.execute(
            f"SELECT id, {url_column}, sha256, path, bytes FROM {table} WHERE sha256 IS NOT NULL")

    # -- WARC captures ------------------------------------------------------------

    def captures_in_file_order(self) -> list:
        return captures.captures_in_file_order(self.conn)

    def archived_pages(self) -> list:
        return captures.archived_pages(self.conn)

    def captured_responses(self) -> set[tuple[str, int]]:
        return captures.captured_responses(self.conn)

    def capture_at(self, warc_file: str, offset: int):
        return captures.capture_at(self.conn, warc_file, offset)

    def revisited_response(self, revisit):
        return captures.revisited_response(self.conn, revisit)
