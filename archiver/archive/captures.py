"""The ``captures`` table: one row per WARC record (:mod:`archiver.capture.warc` writes them in batches).

Each function takes a connection: the crawl's (a sqlite-utils ``Database``: every function that writes) or a
read-only ``sqlite3`` connection whose rows are ``sqlite3.Row`` (:class:`archiver.archive.readonly.ReadOnlyArchive`).
"""

from __future__ import annotations

import json

from .rows import insert_rows

TABLE = "captures"


# -- written during a crawl ------------------------------------------------------


def add_captures(db, rows: list[dict]) -> None:
    """Store a batch of rows (all with the same columns) in one transaction."""
    with db.atomic():
        insert_rows(db, TABLE, rows)


def revisit_original(db, payload_digest: str) -> dict | None:
    """The first archived response with this payload: what a revisit record names (URL, date, record id)."""
    found = db.execute(
        "SELECT url, warc_date, record_id FROM captures WHERE payload_digest = ? AND record_type = 'response' "
        "ORDER BY id LIMIT 1", [payload_digest]).fetchone()
    return {"url": found[0], "warc_date": found[1], "record_id": found[2]} if found else None


def earlier_capture(db, url: str) -> dict | None:
    """The last 200 capture of ``url``, followed to the response that holds its payload (a revisit's original):
    what the revisit record of a 304 refers to (URL, WARC date, record id, payload digest)."""
    found = db.execute(
        "SELECT record_type, url, warc_date, record_id, payload_digest, refers_to FROM captures WHERE url = ? "
        "AND status = 200 AND record_type IN ('response', 'revisit') ORDER BY id DESC LIMIT 1", [url]).fetchone()
    if found is None:
        return None
    if found[0] == "revisit":
        found = db.execute(
            "SELECT record_type, url, warc_date, record_id, payload_digest FROM captures WHERE record_type = "
            "'response' AND (record_id = ? OR payload_digest = ?) ORDER BY record_id = ? DESC, id LIMIT 1",
            [found[5], found[4], found[5]]).fetchone()
        if found is None:
            return None
    return {"url": found[1], "warc_date": found[2], "record_id": found[3], "payload_digest": found[4],
            "record_type": "response"}


def recorded_locations(db, rows: list[dict]) -> set[tuple[str, int]]:
    """Which of these records (WARC file, offset) have a row already (a cluster's batch redelivered to its
    writer)."""
    spans: dict[str, list[int]] = {}
    for row in rows:
        spans.setdefault(row["warc_file"], []).append(row["offset"])
    found = set()
    for warc_file, offsets in spans.items():
        found.update((warc_file, offset) for (offset,) in db.execute(
            "SELECT offset FROM captures WHERE warc_file = ? AND offset BETWEEN ? AND ?",
            [warc_file, min(offsets), max(offsets)]))
    return found


def count_run_captures(db, run_id: int | None) -> int:
    """The number of records a crawl run wrote."""
    return db.execute("SELECT count(*) FROM captures WHERE run_id = ?", [run_id]).fetchone()[0]


def restore_pointers(db, articles: list[dict]) -> None:
    """Articles just saved whose row points at no capture (a repair found theirs lost, and they were archived
    again unchanged): their row points at this capture (in the caller's transaction)."""
    db.conn.executemany("UPDATE articles SET warc_file = ?, warc_offset = ? WHERE url = ? AND warc_file IS NULL",
                        [(article["warc_file"], article["warc_offset"], article["url"]) for article in articles
                         if article.get("warc_file")])


# -- repair (archiver.capture.repair) -------------------------------------------------


def _dicts(cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def rows_of_file(db, warc_file: str) -> list[dict]:
    """The rows of one WARC file, in the order of its records."""
    return _dicts(db.execute("SELECT * FROM captures WHERE warc_file = ? ORDER BY offset", [warc_file]))


def captured_files(db, run_ids: list[int] | None = None) -> set[str]:
    """The WARC files the rows name: every one, or those the runs ``run_ids`` wrote."""
    if run_ids is None:
        return {name for (name,) in db.execute("SELECT DISTINCT warc_file FROM captures")}
    marks = ", ".join("?" * len(run_ids))
    return {name for (name,) in db.execute(f"SELECT DISTINCT warc_file FROM captures WHERE run_id IN ({marks})",
                                           list(run_ids))}


def forget_captures(db, rows: list[dict]) -> tuple[list[tuple[int, str]], list[int]]:
    """Rows of records that cannot be read back, deleted; the articles and versions that pointed at them (or
    at a revisit of them that now stands for nothing) point at no capture. Returns those articles
    (id, URL) and versions (id), in one transaction."""
    articles: dict[int, str] = {}
    versions: set[int] = set()
    with db.atomic():
        db.conn.executemany("DELETE FROM captures WHERE id = ?", [(row["id"],) for row in rows])
        lost = rows + _orphaned_revisits(db, [row["record_id"] for row in rows if row.get("record_id")])
        by_file: dict[str, set[int]] = {}
        for row in lost:
            by_file.setdefault(row["warc_file"], set()).add(row["offset"])
        for warc_file, offsets in by_file.items():
            for article_id, offset, url in db.execute(
                    "SELECT id, warc_offset, url FROM articles WHERE warc_file = ?", [warc_file]):
                if offset in offsets:
                    articles[article_id] = url
            versions.update(version for version, offset in db.execute(
                "SELECT id, warc_offset FROM article_versions WHERE warc_file = ?", [warc_file]) if offset in offsets)
        db.conn.executemany("UPDATE articles SET warc_file = NULL, warc_offset = NULL WHERE id = ?",
                            [(article_id,) for article_id in articles])
        db.conn.executemany("UPDATE article_versions SET warc_file = NULL, warc_offset = NULL WHERE id = ?",
                            [(version,) for version in versions])
    return sorted(articles.items()), sorted(versions)


def _orphaned_revisits(db, record_ids: list[str]) -> list[dict]:
    """Revisit rows that referred to one of ``record_ids`` (deleted) and stand for no response any more."""
    if not record_ids:
        return []
    revisits = _dicts(db.execute("SELECT * FROM captures WHERE record_type = 'revisit' AND refers_to IN "
                                 "(SELECT value FROM json_each(?))", [json.dumps(record_ids)]))
    return [revisit for revisit in revisits if revisited_response(db, revisit) is None]


# -- read back (verify, show) ---------------------------------------------------------


def captures_in_file_order(conn) -> list:
    """Every row, by WARC file and offset: the order of the records in the files."""
    return conn.execute("SELECT * FROM captures ORDER BY warc_file, offset").fetchall()


def archived_pages(conn) -> list:
    """(URL, title, WARC date) of every article with a capture, by capture date: a WACZ's page list."""
    return conn.execute(
        "SELECT a.url, a.title, c.warc_date FROM articles a JOIN captures c ON c.warc_file = a.warc_file "
        "AND c.offset = a.warc_offset ORDER BY c.warc_date, a.id").fetchall()


def captured_responses(conn) -> set[tuple[str, int]]:
    """(WARC file, offset) of every response and revisit record: what an article may point at."""
    return {(row[0], row[1]) for row in conn.execute(
        "SELECT warc_file, offset FROM captures WHERE record_type IN ('response', 'revisit')")}


def capture_at(conn, warc_file: str, offset: int):
    """The row of the record stored at ``offset`` in ``warc_file``, or None."""
    return conn.execute("SELECT * FROM captures WHERE warc_file = ? AND offset = ?", [warc_file, offset]).fetchone()


def revisited_response(conn, revisit):
    """The response row a revisit row stands for: the one it refers to, else the first with its payload."""
    return conn.execute("SELECT * FROM captures WHERE record_id = ? AND record_type = 'response'",
                        [revisit["refers_to"]]).fetchone() or conn.execute(
        "SELECT * FROM captures WHERE payload_digest = ? AND record_type = 'response' ORDER BY id LIMIT 1",
        [revisit["payload_digest"]]).fetchone()
