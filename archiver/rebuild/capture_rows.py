"""The ``captures`` rows of the records a rebuild reads: those the archive lacks (all of them in a new archive;
those of files no crawl of it wrote in an existing one), so that ``archiver show`` and ``archiver verify`` find
the records the articles point at.

The first pass reads every record but writes nothing to the archive (a damaged file must leave it untouched):
it spools the rows to a temporary file, a batch at a time; the second pass writes them in step with the
articles, a batch now and then, so that the rebuild's process never stops feeding the extraction workers for
long. Memory holds one batch.
"""

from __future__ import annotations

import pickle
import tempfile

from ..archive.captures import recorded_locations
from ..capture.index import capture_row


class CaptureRows:
    BATCH = 1000

    def __init__(self):
        self.spool = tempfile.TemporaryFile(prefix="archiver-rebuild-captures-")
        self.rows: list[dict] = []
        self.spooled = 0  # batches in the spool
        self.written = 0  # batches taken from it
        self.added = 0  # rows written to the archive

    def add(self, record, warc_file: str, offset: int, length: int) -> None:
        """A record read (the first pass's ``index``)."""
        self.rows.append(capture_row(record, warc_file, offset, length))
        if len(self.rows) >= self.BATCH:
            self._spool()

    def _spool(self) -> None:
        if self.rows:
            pickle.dump(self.rows, self.spool, pickle.HIGHEST_PROTOCOL)
            self.spooled += 1
            self.rows = []

    def start_writing(self) -> None:
        """The first pass is over: the rows are read back from the start."""
        self._spool()
        self.spool.seek(0)

    def write_due(self, archive, run_id: int, share: float) -> None:
        """Write the spooled batches up to ``share`` (0 to 1) of them, each row with the rebuild's ``run_id``."""
        while self.written < self.spooled and self.written < share * self.spooled:
            rows = [{**row, "run_id": run_id} for row in pickle.load(self.spool)]
            self.written += 1
            known = recorded_locations(archive.db, rows)
            rows = [row for row in rows if (row["warc_file"], row["offset"]) not in known]
            if rows:
                archive.add_captures(rows)
                self.added += len(rows)

    def close(self) -> None:
        self.spool.close()
