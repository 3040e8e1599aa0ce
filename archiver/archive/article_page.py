"""What an article's page in Datasette shows, read from the archive: body, images, translations, versions, capture.

Plain functions of a read-only ``sqlite3`` connection (the Datasette plugin runs them in its SQL threads):
:func:`article` gathers one article's page, :func:`diff_html` shows what an edit changed, paragraph by paragraph
and word by word. Links are made by the caller (``links``), so this module knows nothing of Datasette's URLs.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Callable

from markupsafe import Markup, escape

# Tables an archive has (a database without them is not an archive: its row pages stay Datasette's own).
ARCHIVE_TABLES = {"articles", "images", "crawl_runs"}


@dataclass(frozen=True)
class Links:
    """How the page links to things: made by the plugin from Datasette's URLs and settings."""
    article: Callable[[int], str]  # an article's page
    media: Callable[[str, int], str]  # a downloaded image or document (table, row id)
    capture: Callable[[int], str] | None = None  # the raw capture of an article (``archiver show``)
    replay: Callable[[str, str], str] | None = None  # a replay of (url, 14-digit timestamp), when configured


def is_archive(conn: sqlite3.Connection) -> bool:
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return ARCHIVE_TABLES <= tables


def has_articles(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT EXISTS (SELECT 1 FROM articles)").fetchone()[0] == 1


def paragraphs(text: str | None) -> list[str]:
    """The body's paragraphs: the archive stores one per line, a blank line between them."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _rows(conn: sqlite3.Connection, sql: str, *params) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _table_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def article(conn: sqlite3.Connection, article_id: int, database_path: str | None, links: Links) -> dict | None:
    """Everything the article page shows, or None when there is no such article (or this is not an archive)."""
    if not is_archive(conn):
        return None
    found = _rows(conn, "SELECT * FROM articles WHERE id = ?", article_id)
    if not found:
        return None
    row = found[0]
    page = {"row": row, "paragraphs": paragraphs(row["text"]), "lead": _lead(row),
            "images": _media(conn, "images", article_id, links),
            "documents": _media(conn, "documents", article_id, links) if _table_exists(conn, "documents") else [],
            "translations": _translations(conn, article_id, links),
            "versions": _versions(conn, article_id, row),
            "removals": _rows(conn, "SELECT seen_at, reason, http_status, run_id FROM removals "
                                    "WHERE article_id = ? ORDER BY id", article_id)
            if _table_exists(conn, "removals") else [],
            "aliases": [url for (url,) in conn.execute("SELECT url FROM url_aliases WHERE article_id = ? "
                                                       "ORDER BY first_seen", [article_id])]
            if _table_exists(conn, "url_aliases") else [],
            "capture": _capture(conn, row, database_path, links)}
    return page


def _lead(row: dict) -> str | None:
    """The description, unless the body begins with it (sites often repeat their first sentence there)."""
    description = (row.get("description") or "").strip()
    if not description or (row.get("text") or "").lstrip().startswith(description.rstrip(".…")):
        return None
    return description


def _media(conn: sqlite3.Connection, table: str, article_id: int, links: Links) -> list[dict]:
    """An article's images (or documents), in order, each with a link to its downloaded file when there is one."""
    url = "src" if table == "images" else "url"
    rows = _rows(conn, f"SELECT * FROM {table} WHERE article_id = ? ORDER BY position, id", article_id)
    for row in rows:
        row["url"] = row.get(url)
        row["local"] = links.media(table, row["id"]) if row.get("path") and row.get("sha256") else None
    return rows


def _translations(conn: sqlite3.Connection, article_id: int, links: Links) -> list[dict]:
    if not _table_exists(conn, "translations"):
        return []
    rows = _rows(conn, "SELECT t.translation_id AS id, a.language, a.title, t.method FROM translations t "
                       "JOIN articles a ON a.id = t.translation_id WHERE t.article_id = ? ORDER BY a.language",
                 article_id)
    for row in rows:
        row["href"] = links.article(row["id"])
    return rows


def _versions(conn: sqlite3.Connection, article_id: int, current: dict) -> list[dict]:
    """The contents edits replaced, newest first, each with its differences from the current content."""
    rows = _rows(conn, "SELECT id, title, published, text, superseded_at, superseded_by_run FROM article_versions "
                       "WHERE article_id = ? ORDER BY superseded_at DESC, id DESC", article_id)
    for row in rows:
        row["title_changed"] = row["title"] != current["title"]
        row["published_changed"] = row["published"] != current["published"]
        row["diff"] = diff_html(row["text"], current["text"])
    return rows


def _capture(conn: sqlite3.Connection, row: dict, database_path: str | None, links: Links) -> dict | None:
    """Where the article's response is stored, how to print it, and its replay when a replay URL is configured."""
    if not row.get("warc_file"):
        return None
    capture = {"warc_file": row["warc_file"], "warc_offset": row["warc_offset"], "url": row["url"], "date": None,
               "command": f"archiver show {row['id']}" + (f" --db {database_path}" if database_path else ""),
               "raw": links.capture(row["id"]) if links.capture else None, "replay": None}
    if _table_exists(conn, "captures"):
        found = conn.execute("SELECT url, warc_date FROM captures WHERE warc_file = ? AND offset = ?",
                             [row["warc_file"], row["warc_offset"]]).fetchone()
        if found:
            capture["url"], capture["date"] = found
    if links.replay and capture["date"]:
        capture["replay"] = links.replay(capture["url"], re.sub(r"\D", "", capture["date"])[:14])
    return capture


# -- a readable diff ------------------------------------------------------------------------------


def diff_html(old: str | None, new: str | None, context: int = 1) -> Markup:
    """What changed from ``old`` to ``new``: changed paragraphs with their words marked (``<del>``, ``<ins>``),
    ``context`` unchanged paragraphs around each change, the other unchanged ones counted."""
    before, after = paragraphs(old), paragraphs(new)
    parts: list[str] = []
    opcodes = SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            parts.extend(_unchanged(before[i1:i2], context, first=index == 0, last=index == len(opcodes) - 1))
        else:  # paragraphs replaced pairwise get their words compared; the rest were removed or added
            paired = min(i2 - i1, j2 - j1)
            parts.extend(f'<p class="changed">{_word_diff(a, b)}</p>'
                         for a, b in zip(before[i1:i1 + paired], after[j1:j1 + paired]))
            parts.extend(f'<p class="removed"><del>{escape(p)}</del></p>' for p in before[i1 + paired:i2])
            parts.extend(f'<p class="added"><ins>{escape(p)}</ins></p>' for p in after[j1 + paired:j2])
    return Markup("\n".join(parts) or '<p class="unchanged-note">The text is the same.</p>')


def _unchanged(same: list[str], context: int, first: bool, last: bool) -> list[str]:
    """Unchanged paragraphs: those next to a change shown, the others counted."""
    keep_head = 0 if first else context
    keep_tail = 0 if last else context
    if len(same) <= keep_head + keep_tail + 1:
        return [f'<p class="same">{escape(p)}</p>' for p in same]
    hidden = len(same) - keep_head - keep_tail
    note = f'<p class="unchanged-note">({hidden} unchanged paragraph{"s" if hidden != 1 else ""})</p>'
    return ([f'<p class="same">{escape(p)}</p>' for p in same[:keep_head]] + [note]
            + [f'<p class="same">{escape(p)}</p>' for p in same[len(same) - keep_tail:]])


def _word_diff(old: str, new: str) -> str:
    a, b = re.findall(r"\S+|\s+", old), re.findall(r"\S+|\s+", new)
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(str(escape("".join(a[i1:i2]))))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return "".join(out)
