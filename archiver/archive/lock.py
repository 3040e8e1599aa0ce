"""One crawl per archive at a time: an advisory lock beside the database.

``fcntl.flock`` locks belong to the open file, so the kernel releases them
when the process dies however it dies (``kill -9`` included): a lock left
by a killed crawl never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class ArchiveLocked(Exception):
    """Another live process holds the archive's lock."""


class ArchiveLock:
    def __init__(self, db_path: str | Path):
        # Beside the archive's real path: the same archive reached through a symlink (to it, or to a folder
        # above it) takes the same lock.
        self.path = Path(f"{os.path.realpath(db_path)}.lock")
        self._file = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ArchiveLocked(f"{self.path} is held by {holder}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
