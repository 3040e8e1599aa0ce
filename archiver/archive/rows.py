"""Plain prepared inserts into the archive's existing tables."""

from __future__ import annotations

from functools import lru_cache

import sqlite_utils


@lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    names = ", ".join(f"[{column}]" for column in columns)
    return f"INSERT INTO [{table}] ({names}) VALUES ({', '.join('?' * len(columns))})"


def insert_row(db: sqlite_utils.Database, table: str, row: dict) -> int:
    """Insert one row into an existing table; returns its rowid.

    A plain prepared ``INSERT``: the schema is sqlite-utils' (created or
    migrated on open) and these rows hold only scalars, so ``Table.insert``'s
    per-row column checks and JSON conversion are not needed on the crawl's
    hot path (they cost more than SQLite's own work there).
    """
    return db.execute(_insert_sql(table, tuple(row)), list(row.values())).lastrowid


def insert_rows(db: sqlite_utils.Database, table: str, rows: list[dict]) -> None:
    """Insert rows that all have the same columns, in one ``executemany``."""
    if rows:
        db.conn.executemany(_insert_sql(table, tuple(rows[0])), [list(row.values()) for row in rows])
