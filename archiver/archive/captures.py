"""The ``captures`` table: one row per WARC record (:mod:`archiver.capture.warc` writes them in batches).

Each function takes a connection: the crawl's (a sqlite-utils ``Database``) or a read-only ``sqlite3``
connection whose rows are ``sqlite3.Row`` (:class:`archiver.archive.readonly.ReadOnlyArchive`).
"""

from __future__ import annotations

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


def count_run_captures(db, run_id: int | None) -> int:
    """The number of records a crawl run wrote."""
    return db.execute("SELECT count(*) FROM captures WHERE run_id = ?", [run_id]).fetchone()[0]


# -- read back (verify, show) ---------------------------------------------------------


def captures_in_file_order(conn) -> list:
    """Every row, by WARC file and offset: the order of the records in the files."""
    return conn.execute("SELECT * FROM captures ORDER BY warc_file, offset").fetchall()


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
