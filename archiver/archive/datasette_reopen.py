"""A database file replaced under a running Datasette is read anew (used by :mod:`archiver.archive.datasette_plugin`).

Datasette opens each database once per SQL thread and keeps the connection. A connection reads the file it
opened, even after that file is deleted: ``archiver demo`` deletes ``data/demo.db`` and writes a new one, and
Datasette would go on showing the old rows until restarted. Here each query first compares the file's identity
(device and inode) with the one its connection opened, and opens a new connection when the file was replaced.
Rows written to the same file (a crawl adding to the archive) need none of this: they show at once.
"""

from __future__ import annotations

import os


def file_identity(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:  # deleted and not written again yet: the open connection still reads the old file
        return None
    return status.st_dev, status.st_ino


def reopen_when_replaced(datasette, database) -> bool:
    """Wrap ``database.execute_fn`` so a connection to a replaced file is swapped for a new one.

    Relies on Datasette 0.64/0.65 internals (the per-thread ``connections`` of ``datasette.database`` and
    ``Datasette._prepare_connection``); with any other layout it does nothing and returns False
    (restarting Datasette then shows a re-created database).
    """
    from datasette import database as module

    threads = getattr(module, "connections", None)
    prepare = getattr(datasette, "_prepare_connection", None)
    if threads is None or prepare is None or not hasattr(database, "_read_connection"):
        return False
    original = database.execute_fn
    opened_on: dict[int, tuple[int, int] | None] = {}  # id(connection): the file it opened

    def fresh_connection(stale):
        connection = database.connect()
        prepare(connection, database.name)
        if getattr(threads, database.name, None) is stale:
            setattr(threads, database.name, connection)
        if database._read_connection is stale:  # Datasette without SQL threads (num_sql_threads 0)
            database._read_connection = connection
        stale.close()
        return connection

    async def execute_fn(fn):
        def checked(connection):
            now = file_identity(database.path)
            if opened_on.setdefault(id(connection), now) not in (now, None) and now is not None:
                del opened_on[id(connection)]
                connection = fresh_connection(connection)
                opened_on[id(connection)] = now
            return fn(connection)

        return await original(checked)

    database.execute_fn = execute_fn
    return True
