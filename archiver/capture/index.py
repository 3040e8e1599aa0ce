"""The index of the WARC records: ``captures`` rows and CDXJ lines, written in batches once their bytes are on disk.

Every record a crawl writes (:mod:`archiver.capture.warc`) gets a row in the archive's ``captures`` table and,
for responses and revisits, a line in the CDXJ index ``index.cdxj`` next to the WARC files (pywb reads it,
sorted). A batch of rows is committed only after the WARC bytes they point at are flushed and fsync'd
(``before_write``): a crash never leaves a row pointing at bytes that are not in the file. The CDXJ lines
follow the rows; a run that dies between the two leaves lines missing, which the next run's check of the
dead run's files puts back (:mod:`archiver.capture.repair`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

CAPTURE_FLUSH_EVERY = 200  # captures rows and CDXJ lines written per batch


NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def cdx_timestamp(date: str) -> str:
    return "".join(c for c in date if c.isdigit())[:14]


class PendingCaptures:
    """Rows of WARC records waiting for their batch, and the lookups revisit records need: the response holding a
    payload (``original``) and a URL's last 200 capture (``earlier_capture``), this batch's first, else those
    already written (:meth:`stored_original`, :meth:`stored_capture`). ``flush`` writes the batch: into the archive
    in one process (:class:`CaptureIndex`), into the item stream on a cluster worker
    (:class:`archiver.cluster.capture.CaptureLog`)."""

    def __init__(self):
        self.pending: list[dict] = []
        self.pending_digests: dict[str, dict] = {}
        self.pending_ok: dict[str, dict] = {}  # URL -> this batch's last 200 capture of it

    def add(self, row: dict) -> None:
        self.pending.append(row)
        if row["record_type"] == "response" and row.get("payload_digest"):
            self.pending_digests.setdefault(row["payload_digest"], row)
        if row["record_type"] in ("response", "revisit") and row.get("status") == 200:
            self.pending_ok[row["url"]] = row
        if len(self.pending) >= CAPTURE_FLUSH_EVERY:
            self.flush()

    def take(self) -> tuple[list[dict], dict[str, dict], dict[str, dict]]:
        """The batch (rows, first response of each digest, last 200 capture of each URL), emptied."""
        batch = (self.pending, self.pending_digests, self.pending_ok)
        self.pending, self.pending_digests, self.pending_ok = [], {}, {}
        return batch

    def original(self, payload_digest: str) -> dict | None:
        """A response with this payload (this batch's first, else one written already)."""
        row = self.pending_digests.get(payload_digest)
        return row if row is not None else self.stored_original(payload_digest)

    def as_response(self, row: dict) -> dict | None:
        """A 200 capture followed to the response record that holds its payload."""
        if row["record_type"] == "response":
            return row
        return self.original(row["payload_digest"]) if row.get("payload_digest") else None

    def earlier_capture(self, url: str) -> dict | None:
        """The last 200 capture of ``url``, followed to the response record that holds its payload: what a 304's
        revisit record refers to. None when there is none."""
        row = self.pending_ok.get(url)
        return self.as_response(row) if row is not None else self.stored_capture(url)

    def stored_original(self, payload_digest: str) -> dict | None:
        raise NotImplementedError

    def stored_capture(self, url: str) -> dict | None:
        raise NotImplementedError

    def flush(self) -> None:
        raise NotImplementedError


class CaptureIndex(PendingCaptures):
    """The ``captures`` table and the CDXJ index, written in batches; the payload-digest lookup for revisits.

    ``archive``: the run's :class:`~archiver.archive.storage.Archive`; ``before_write``: what makes the WARC
    bytes of the pending rows durable (:meth:`archiver.capture.warc.WarcFiles.sync`), called before each batch.
    """

    def __init__(self, cdxj_path: Path, run_id: int | None, archive, before_write: Callable[[], None]):
        super().__init__()
        self.cdxj_path, self.run_id = Path(cdxj_path), run_id
        self.archive = archive
        self.before_write = before_write

    def add(self, row: dict) -> None:
        row["run_id"] = self.run_id
        super().add(row)

    def stored_original(self, payload_digest: str) -> dict | None:
        return self.archive.revisit_original(payload_digest)

    def stored_capture(self, url: str) -> dict | None:
        return self.archive.earlier_capture(url)

    def flush(self) -> None:
        """The pending rows, once the bytes they point at are on disk; then their CDXJ lines."""
        if not self.pending:
            return
        self.before_write()
        self.archive.add_captures(self.pending)
        append_cdxj(self.cdxj_path, self.pending)
        self.take()


def capture_row(record, warc_file: str, offset: int, length: int) -> dict:
    """The ``captures`` row of a warcio record stored at ``offset`` in ``warc_file`` (``length`` bytes)."""
    headers = record.rec_headers
    http = record.http_headers
    status = None
    if http is not None and record.rec_type in ("response", "revisit"):
        code = http.get_statuscode()
        status = int(code) if code and code.isdigit() else None
    elif headers.get_header("WARC-Profile") == NOT_MODIFIED_PROFILE:
        status = 304  # the 304's headers are in the metadata record beside it (archiver.capture.warc)
    return {
        "url": headers.get_header("WARC-Target-URI") or headers.get_header("WARC-Filename"),
        "warc_date": headers.get_header("WARC-Date"),
        "record_type": record.rec_type,
        "status": status,
        "content_type": http.get_header("Content-Type") if http is not None and record.rec_type != "request"
        else None,
        "payload_digest": headers.get_header("WARC-Payload-Digest"),
        "block_digest": headers.get_header("WARC-Block-Digest"),
        "warc_file": warc_file,
        "offset": offset,
        "length": length,
        "record_id": headers.get_header("WARC-Record-ID"),
        "refers_to": headers.get_header("WARC-Refers-To"),
    }


def surt_key(url: str) -> str:
    import surt

    try:
        return surt.surt(url)
    except Exception:  # an unparseable URL still gets a line
        return url


def cdxj_line(row: dict) -> str:
    fields = {"url": row["url"], "mime": "warc/revisit" if row["record_type"] == "revisit" else
              (row.get("content_type") or "unk").split(";")[0].strip() or "unk",
              "status": str(row["status"]) if row.get("status") is not None else "-",
              "digest": row.get("payload_digest") or "-", "length": str(row["length"]),
              "offset": str(row["offset"]), "filename": row["warc_file"]}
    return f"{surt_key(row['url'])} {cdx_timestamp(row['warc_date'])} {json.dumps(fields, ensure_ascii=False)}"


def indexed(row) -> bool:
    """Whether a record has a CDXJ line: responses and revisits do, but a 304 stored as a plain response (one
    with no earlier capture to refer to): replay would show its empty body as the page."""
    if row["record_type"] == "response" and row["status"] == 304:
        return False
    return row["record_type"] in ("response", "revisit")


def append_cdxj(path: Path, rows) -> None:
    lines = [cdxj_line(row) for row in rows if indexed(row)]
    if lines:
        try:
            with open(path, "a", encoding="utf-8") as index:
                index.write("".join(line + "\n" for line in lines))
        except OSError as error:  # a failed write names the file (a full disk, say)
            raise OSError(error.errno, error.strerror, str(path)) from error


def line_file(line: str) -> str | None:
    """The WARC file a CDXJ line names (its JSON ends with it)."""
    try:
        return json.loads(line.split(" ", 2)[2])["filename"]
    except (IndexError, KeyError, ValueError):
        return None


def write_cdxj(path: Path, lines, fsync: bool = True) -> int:
    """The CDXJ index, sorted (pywb binary-searches it) and without duplicates, replacing ``path`` whole;
    returns its number of lines."""
    lines = sorted(set(lines) - {""})
    temporary = path.with_suffix(".cdxj.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as out:
            out.write("".join(line + "\n" for line in lines))
            if fsync:
                out.flush()
                os.fsync(out.fileno())  # never a renamed empty index after a power loss
        os.replace(temporary, path)
    except OSError as error:  # a failed write names the file (a full disk, say), and leaves the index as it was
        temporary.unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(path)) from error
    return len(lines)


def sort_cdxj(path: Path, fsync: bool = True) -> int:
    """Sort the CDXJ index in place; returns its number of lines."""
    if not path.exists():
        return 0
    return write_cdxj(path, path.read_text(encoding="utf-8").splitlines(), fsync)


def reindex_cdxj(path: Path, files: set[str], rows) -> bool:
    """The CDXJ lines of the WARC ``files`` made those of their ``rows`` (every captures row of those files):
    lines of rows removed go, lines a dead run never appended come. Returns whether the index changed."""
    current = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    # A line naming no file is a torn tail (a write a full disk or a kill cut short): it goes too.
    kept = [line for line in current if line_file(line) not in (None, *files)]
    wanted = [cdxj_line(row) for row in rows if indexed(row)]
    if set(current) - {""} == set(kept) | set(wanted):
        return False
    write_cdxj(path, kept + wanted)
    return True
