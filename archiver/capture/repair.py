"""Repair of WARC files a crawl did not finish: torn tails, records no row lists, rows that point at nothing.

A run killed (``kill -9``, a power loss) or stopped by a full disk can leave, at the end of its last WARC
file, a partial gzip member (a torn tail) and whole records whose ``captures`` rows it never committed;
archives written before captures were made durable also have rows pointing past the end of a file. For
each WARC file checked:

- every ``captures`` row is read back (its gzip member whole, its digests, its record id); a row whose
  record does not read back is deleted, and the articles that pointed at it (or at a revisit that stood
  for it) point at no capture and are marked to be fetched again by the next run
  (:func:`archiver.archive.crawl_state.mark_for_refetch`); a version's pointer is cleared;
- past the last record that reads back, each whole record is indexed (a row, a CDXJ line); a partial
  member at the end of the file (or zero bytes) is truncated; other unreadable bytes are left for
  ``archiver verify`` to report;
- the CDXJ lines of the file are made those of its rows.

A run starting after runs that died or failed checks their files (:func:`repair_after_dead_runs`);
``archiver verify --repair`` checks every file (:func:`repair_archive`). Both hold the archive's lock.
"""

from __future__ import annotations

import io
import logging
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from ..archive import captures
from ..archive.crawl_state import mark_for_refetch
from .index import capture_row, reindex_cdxj

logger = logging.getLogger(__name__)

CHUNK = 1 << 20
WARC_GLOB = "*.warc.gz"
# The run a file belongs to, as its warcinfo record says (archiver.capture.warc).
WARCINFO_RUN = re.compile(rb"archiver crawl run (\d+) of")


@dataclass
class Repairs:
    """What a check repaired: one line each (``lines``), what it could not (``unrepaired``), and counts."""

    lines: list[str] = field(default_factory=list)
    unrepaired: list[str] = field(default_factory=list)
    files: int = 0
    truncated: int = 0  # bytes of torn tails
    indexed: int = 0  # records no row listed
    removed: int = 0  # rows of records that did not read back
    refetch: int = 0  # articles to fetch again

    def __bool__(self) -> bool:
        return bool(self.lines)

    def summary(self) -> str:
        return (f"{self.files} WARC files checked: {self.truncated} bytes of torn tails truncated, {self.indexed} "
                f"records indexed, {self.removed} captures rows of lost records removed, {self.refetch} articles "
                "to fetch again")


# -- reading records back ---------------------------------------------------------


def parse_member(member: bytes):
    """The one WARC record a gzip member holds, fully read and its digests checked: (record, payload)."""
    records = []
    for record in ArchiveIterator(io.BytesIO(member), check_digests=True):
        payload = record.raw_stream.read()
        records.append((record, payload))
    if len(records) != 1:
        raise ValueError(f"{len(records)} records where one was expected")
    return records[0]


def read_member(path: Path, offset: int, length: int):
    """The one WARC record stored at ``offset`` (a gzip member of ``length`` bytes), fully read and checked."""
    with open(path, "rb") as file:
        file.seek(offset)
        member = file.read(length)
    if len(member) != length:
        raise ValueError(f"file ends {length - len(member)} bytes before the record's end")
    return parse_member(member)


def row_problem(path: Path, row: dict) -> str | None:
    """Why a captures row's record does not read back as that record; None when it does."""
    try:
        record, _ = read_member(path, row["offset"], row["length"])
    except Exception as error:  # noqa: BLE001 - any unreadable record is lost, whatever the reader says
        return f"unreadable ({type(error).__name__}: {error})"
    if record.digest_checker.passed is False:
        return "its digests do not match"
    if record.rec_headers.get_header("WARC-Record-ID") != row["record_id"] or record.rec_type != row["record_type"]:
        return "the file holds another record there"
    return None


class TornTail(Exception):
    """The file ends inside a gzip member, or in zero bytes, from ``offset``."""

    def __init__(self, offset: int):
        super().__init__(offset)
        self.offset = offset


def whole_members(file, offset: int):
    """(offset, bytes) of each whole gzip member from ``offset`` to the end of the file. Raises
    :class:`TornTail` where the file ends inside one (then maybe zero bytes), or in zero bytes; ``zlib.error``
    at other bad bytes."""
    file.seek(offset)
    data = b""
    while True:
        if not data:
            data = file.read(CHUNK)
            if not data:
                return
        start, parts, inflater = offset, [], zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            while True:
                inflater.decompress(data)
                if inflater.eof:
                    used = len(data) - len(inflater.unused_data)
                    parts.append(data[:used])
                    offset, data = offset + used, inflater.unused_data
                    break
                parts.append(data)
                offset += len(data)
                data = file.read(CHUNK)
                if not data:
                    raise TornTail(start)
        except zlib.error:
            file.seek(start)
            if ends_inside_a_member(file.read()):
                raise TornTail(start) from None
            raise
        yield start, b"".join(parts)


def ends_inside_a_member(rest: bytes) -> bool:
    """Whether ``rest`` (the bytes from where a member failed to inflate to the end of the file) is a partial
    member, or nothing, followed by zero bytes only: blocks a crash left allocated and never written."""
    written = rest.rstrip(b"\0")
    if not written:
        return True
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        inflater.decompress(written)
    except zlib.error:
        return False
    return not inflater.eof


# -- repairing --------------------------------------------------------------------


def repair_after_dead_runs(archive, warc_dir: Path, dead_runs: list[int]) -> Repairs | None:
    """At a run's start, after runs that died or failed (``dead_runs``): their WARC files, and any file no row
    lists, checked and repaired; logged. None when there was nothing to check."""
    if not dead_runs or not Path(warc_dir).is_dir():
        return None
    names = captures.captured_files(archive.db, dead_runs) | unlisted_files(archive.db, warc_dir)
    repairs = repair_files(archive.db, warc_dir, names)
    runs = ", ".join(map(str, dead_runs))
    for line in repairs.lines:
        logger.info("WARC repair: %s", line)
    for line in repairs.unrepaired:
        logger.warning("WARC not repaired: %s", line)
    if repairs:
        logger.warning("WARC files of runs %s (which did not finish) repaired: %s", runs, repairs.summary())
    else:
        logger.info("WARC files of runs %s (which did not finish) checked: every record reads back", runs)
    return repairs


def repair_archive(db, warc_dir: Path) -> Repairs:
    """Every WARC file of the archive (and in ``warc_dir``) checked and repaired (``archiver verify --repair``)."""
    names = captures.captured_files(db) | set(files_on_disk(warc_dir))
    return repair_files(db, warc_dir, names)


def files_on_disk(warc_dir: Path) -> list[str]:
    return sorted(path.name for path in Path(warc_dir).glob(WARC_GLOB)) if Path(warc_dir).is_dir() else []


def unlisted_files(db, warc_dir: Path) -> set[str]:
    """WARC files no captures row lists (a run died before it committed any)."""
    return set(files_on_disk(warc_dir)) - captures.captured_files(db)


def repair_files(db, warc_dir: Path, names) -> Repairs:
    repairs, lost, found, checked = Repairs(), [], [], []
    for name in sorted(names):
        path = Path(warc_dir) / name
        if not path.is_file():
            continue  # a missing file is not repaired: archiver verify reports it
        checked.append(name)
        file_lost, file_found = check_file(db, path, repairs)
        lost += file_lost
        found += file_found
    repairs.files = len(checked)
    with db.atomic():
        if lost:
            forget(db, lost, repairs)
        if found:
            captures.add_captures(db, found)
        rows = [row for name in checked for row in captures.rows_of_file(db, name)]
        if checked and reindex_cdxj(Path(warc_dir) / "index.cdxj", set(checked), rows):
            repairs.lines.append("index.cdxj: the lines of the files checked made those of their captures rows")
    return repairs


def check_file(db, path: Path, repairs: Repairs) -> tuple[list[dict], list[dict]]:
    """One file: the rows whose record does not read back, and rows for the whole records past the last one
    that does (a torn tail truncated on the way)."""
    lost, end = [], 0
    rows = captures.rows_of_file(db, path.name)
    for row in rows:
        problem = row_problem(path, row)
        if problem:
            lost.append(row)
            repairs.lines.append(f"{path.name}@{row['offset']} {row['record_type']} {row['url']}: {problem}; "
                                 "its captures row removed")
        else:
            end = max(end, row["offset"] + row["length"])
    found = tail_records(path, end, rows[0]["run_id"] if rows else None, repairs)
    if len(lost) == len(rows) and not found and path.stat().st_size == 0:
        path.unlink()  # its run died before a record of it reached the disk
        repairs.lines.append(f"{path.name}: empty, removed")
    repairs.removed += len(lost)
    repairs.indexed += len(found)
    return lost, found


def tail_records(path: Path, start: int, run_id: int | None, repairs: Repairs) -> list[dict]:
    """Rows for the whole records from ``start`` on (none of which a row lists); a torn tail truncated."""
    found, position = [], start
    with open(path, "r+b") as file:
        try:
            for offset, member in whole_members(file, start):
                record, payload = parse_member(member)
                if record.digest_checker.passed is False:
                    raise ValueError("digests do not match")
                if run_id is None and record.rec_type == "warcinfo":
                    run = WARCINFO_RUN.search(payload)
                    run_id = int(run.group(1)) if run else None
                found.append(capture_row(record, path.name, offset, len(member)))
                position = offset + len(member)
        except TornTail as torn:
            size = file.seek(0, os.SEEK_END)
            file.truncate(torn.offset)
            file.flush()
            os.fsync(file.fileno())
            repairs.truncated += size - torn.offset
            repairs.lines.append(f"{path.name}: a torn tail of {size - torn.offset} bytes at {torn.offset} "
                                 "(a partial record) truncated")
        except Exception as error:  # noqa: BLE001 - bad bytes that are not a tail are left as they are
            repairs.unrepaired.append(f"{path.name}: unreadable bytes from offset {position} on, not a torn tail: "
                                      f"left as they are ({type(error).__name__}: {error})")
    for row in found:
        row["run_id"] = run_id
    if found:
        repairs.lines.append(f"{path.name}: {len(found)} whole records no captures row listed indexed "
                             f"(offsets {found[0]['offset']} to {found[-1]['offset']})")
    return found


def forget(db, lost: list[dict], repairs: Repairs) -> None:
    """Rows of lost records deleted; their articles marked to be fetched again."""
    articles, versions = captures.forget_captures(db, lost)
    mark_for_refetch(db, [url for _, url in articles])
    repairs.refetch += len(articles)
    for article_id, url in articles:
        repairs.lines.append(f"article {article_id} {url}: its capture is lost; the next run fetches it again")
    for version in versions:
        repairs.lines.append(f"article version {version}: its capture is lost (an earlier version: not fetched "
                             "again)")
