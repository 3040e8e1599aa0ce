"""Reading WARC files record by record, streamed: any WARC/1.0 or 1.1 file, gzip per record or not.

:func:`read_records` yields each HTTP response and revisit record's headers (:class:`Capture`), in file order,
with the means to read its payload then and there (``Capture.own_payload``, decoded from its Content-Encoding as a
crawl's response body is); :func:`page_at` reads one record again from its :class:`Place`. A revisit's payload
is its original's (:class:`Originals` finds it, by ``WARC-Refers-To``, by target URI and date, or by payload
digest) and is read again from that record. Nothing but the record at hand is held: memory does not grow with a
file's size.

Input that cannot be read raises :class:`BadInput` with one line: a path that does not exist, a file that is
not a WARC, a record that is damaged.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParserException

WARC_SUFFIXES = (".warc", ".warc.gz", ".warc.gzip")
# Past this many redirects a chain is a loop (Scrapy's REDIRECT_MAX_TIMES is 20).
MAX_REDIRECTS = 20


class BadInput(Exception):
    """Input the rebuild cannot read: ``str(error)`` is the one line to print, ``exit_code`` the exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


NO_INPUT, DAMAGED = 66, 65  # sysexits: EX_NOINPUT (missing, not a WARC), EX_DATAERR (a damaged record)


class DamagedData(Exception):
    """Bytes of a WARC file that do not read as a record should."""


class _StrictReader(DecompressingBufferedReader):
    """warcio's reader, but a gzip member that stops decompressing partway is an error (warcio writes a line to
    stderr and reads on, as if the record had ended there)."""

    def _decompress(self, data):
        if self.decompressor and data and self.num_block_read:
            try:
                return self.decompressor.decompress(data)
            except zlib.error as error:
                raise DamagedData(f"gzip data: {error}") from None
        return super()._decompress(data)


class StrictArchiveIterator(ArchiveIterator):
    """warcio's iterator over a WARC file's records, which raises :class:`DamagedData` where warcio would write a
    warning and read on: a gzip member damaged partway, a record that does not end where its length says."""

    def __init__(self, fileobj, **options):
        super().__init__(fileobj, **options)
        self.reader = _StrictReader(self.fh, block_size=self.reader.block_size)

    def read_to_end(self, record=None):
        super().read_to_end(record)
        stream = getattr(self.record, "raw_stream", None)
        if getattr(stream, "limit", 0) > 0:  # fewer bytes than the record's Content-Length
            raise DamagedData("the file ends inside a record (cut short)")

    def _consume_blanklines(self):
        empty_size, first_line = 0, True
        while True:
            line = self.reader.readline()
            if not line:
                if not getattr(self.reader.decompressor, "eof", True):  # the gzip member has no end
                    raise DamagedData("the file ends inside a record (cut short)")
                return None, empty_size
            if line.rstrip() and not first_line:
                return line, empty_size
            if line.rstrip():
                raise DamagedData("a record does not end where its Content-Length says")
            empty_size += len(line)
            first_line = False


def warc_paths(inputs: list[str | Path]) -> list[Path]:
    """The WARC files to read, in capture order: each file as given, each directory's WARC files by name
    (a crawl's file names start with their time)."""
    paths: list[Path] = []
    for given in map(Path, inputs):
        if given.is_dir():
            found = sorted(path for path in given.iterdir() if path.name.lower().endswith(WARC_SUFFIXES))
            if not found:
                raise BadInput(f"no WARC files (*.warc, *.warc.gz) in {given}", NO_INPUT)
            paths += found
        elif given.is_file():
            paths.append(given)
        else:
            raise BadInput(f"no such file or directory: {given}", NO_INPUT)
    return paths


@dataclass
class Capture:
    """One HTTP response or revisit record: where it is, and its WARC and HTTP headers."""

    path: Path
    offset: int
    record_type: str  # response or revisit
    url: str
    date: str
    status: int
    content_type: str
    location: str
    record_id: str
    payload_digest: str
    refers_to: tuple[str, str, str]  # a revisit's WARC-Refers-To, -Target-URI, -Date
    record: object = None  # the warcio record, while the iterator is on it
    referer: str = ""  # a request record's Referer: the page whose link was followed
    concurrent_to: str = ""  # WARC-Concurrent-To: a request's response, or a response's request (wget's way)

    @property
    def warc_file(self) -> str:
        return self.path.name

    @property
    def is_html_page(self) -> bool:
        """An answer the crawl reads as a page: 2xx, HTML by its Content-Type (or with none)."""
        kind = self.content_type.lower()
        return 200 <= self.status < 300 and (not kind or "html" in kind)

    def own_payload(self) -> bytes:
        """A response record's payload, decoded from its transfer and content encodings (as a crawl reads it)."""
        try:
            return self.record.content_stream().read()
        except DamagedData as error:
            raise BadInput(f"damaged WARC record in {self.path} at byte {self.offset}: {error}", DAMAGED) from None
        except (zlib.error, OSError, ValueError):  # a body that does not decode as declared: as it was sent
            return self.record.raw_stream.read()


class Place(NamedTuple):
    """Where an HTML page's record is (and, for a revisit, its payload: its original response record's place)."""

    path: Path
    offset: int
    original: tuple[Path, int] | None = None


def read_records(path: Path, index: Callable | None = None) -> Iterator[Capture]:
    """The HTTP response, revisit and request records of one WARC file, in order. Raises :class:`BadInput`.
    ``index``, if given, is called with every record (of any type), once read: ``index(record, file name,
    offset, length)``."""
    records = None
    try:
        with path.open("rb") as stream:
            records = StrictArchiveIterator(stream, arc2warc=True)
            seen = False
            for record in records:
                seen = True
                capture = _capture(path, records.offset, record)
                if capture is not None:
                    yield capture
                if index is not None:
                    records.read_to_end()
                    index(record, path.name, *records.member_info)
            if not seen:
                raise BadInput(f"not a WARC file (empty): {path}", NO_INPUT)
            if records.offset < path.stat().st_size:  # the start of a record, cut short
                raise DamagedData("the file ends inside a record (cut short)")
    except (BadInput, GeneratorExit):
        raise
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror or error}", NO_INPUT) from None
    except Exception as error:  # warcio meets damaged bytes with many kinds of exception
        raise _damaged(path, records, error) from None


def _damaged(path: Path, records, error: Exception) -> BadInput:
    where = getattr(records, "offset", 0) or 0
    reason = (str(error).splitlines() or [type(error).__name__])[0]
    if isinstance(error, ArchiveLoadFailed) and "Unknown archive format" in reason and where == 0:
        return BadInput(f"not a WARC file: {path}", NO_INPUT)
    return BadInput(f"damaged WARC record in {path} near byte {where}: {reason}", DAMAGED)


NOT_MODIFIED = "server-not-modified"  # the end of a revisit profile's URI: a 304, no payload


def _capture(path: Path, offset: int, record) -> Capture | None:
    if record.rec_type not in ("response", "revisit", "request"):
        return None
    http, warc = record.http_headers, record.rec_headers
    if http is None:  # no HTTP block: a 304's revisit (its headers may be in a metadata record), or not HTTP
        if record.rec_type != "revisit" or not (warc.get_header("WARC-Profile") or "").endswith(NOT_MODIFIED):
            return None
        http = StatusAndHeaders("304 Not Modified", [], protocol="HTTP/1.1")
    if record.rec_type == "request":
        return Capture(path=path, offset=offset, record_type="request", url=warc.get_header("WARC-Target-URI") or "",
                       date=warc.get_header("WARC-Date") or "", status=0, content_type="", location="",
                       record_id=warc.get_header("WARC-Record-ID") or "", payload_digest="", refers_to=("", "", ""),
                       referer=http.get_header("Referer") or "",
                       concurrent_to=warc.get_header("WARC-Concurrent-To") or "")
    try:
        status = int(http.get_statuscode() or 0)
    except ValueError:
        status = 0
    return Capture(path=path, offset=offset, record_type=record.rec_type, url=warc.get_header("WARC-Target-URI") or "",
                   date=warc.get_header("WARC-Date") or "", status=status,
                   content_type=http.get_header("Content-Type") or "", location=http.get_header("Location") or "",
                   record_id=warc.get_header("WARC-Record-ID") or "",
                   payload_digest=warc.get_header("WARC-Payload-Digest") or "",
                   refers_to=(warc.get_header("WARC-Refers-To") or "", warc.get_header("WARC-Refers-To-Target-URI")
                              or "", warc.get_header("WARC-Refers-To-Date") or ""),
                   record=record, concurrent_to=warc.get_header("WARC-Concurrent-To") or "")


class Originals:
    """Where each response record is, to read a revisit's payload from its original.

    Kept for every response record of every file, so kept small: keys are hashes of the record id, target and
    date, digest (a few bytes where the strings take a hundred), a place is the file's number and the offset.
    """

    def __init__(self):
        self.files: list[Path] = []
        self.numbers: dict[Path, int] = {}
        self.by_id: dict[int, tuple[int, int]] = {}
        self.by_target: dict[int, tuple[int, int]] = {}
        self.by_digest: dict[int, tuple[int, int]] = {}

    def note(self, capture: Capture) -> None:
        """A response record: a revisit may name it."""
        number = self.numbers.get(capture.path)
        if number is None:
            number = self.numbers[capture.path] = len(self.files)
            self.files.append(capture.path)
        where = (number, capture.offset)
        if capture.record_id:
            self.by_id[hash(capture.record_id)] = where
        self.by_target.setdefault(hash((capture.url, capture.date)), where)
        if capture.payload_digest:
            self.by_digest.setdefault(hash(capture.payload_digest), where)

    def of(self, revisit: Capture) -> tuple[Path, int] | None:
        """The response record (file, offset) a revisit stands for, or None when none was read."""
        record_id, uri, date = revisit.refers_to
        where = ((record_id and self.by_id.get(hash(record_id))) or self.by_target.get(hash((uri, date)))
                 or (revisit.payload_digest and self.by_digest.get(hash(revisit.payload_digest))))
        return (self.files[where[0]], where[1]) if where else None


def payload_at(path: Path, offset: int) -> bytes:
    """The decoded payload of the response record at ``offset`` in ``path``."""
    with _capture_at(path, offset) as capture:
        if capture is not None and capture.record_type == "response":
            return capture.own_payload()
    raise BadInput(f"damaged WARC record in {path} at byte {offset}: no response record there", DAMAGED)


def page_at(place: Place) -> tuple[Capture, bytes]:
    """The headers of the response or revisit record at ``place`` (the record let go) and its decoded payload:
    its own, or its original's (a revisit's)."""
    with _capture_at(place.path, place.offset) as capture:
        if capture is not None:
            body = capture.own_payload() if place.original is None else payload_at(*place.original)
            capture.record = None
            return capture, body
    raise BadInput(f"damaged WARC record in {place.path} at byte {place.offset}: no record there", DAMAGED)


@contextmanager
def _capture_at(path: Path, offset: int) -> Iterator[Capture | None]:
    """The record at ``offset`` in ``path`` (None if it is no HTTP record), while the reader is on it. The reader is
    closed after: warcio's iterator and its generator refer to each other, and would keep its buffers until the
    next garbage collection (an extraction worker reads thousands of records one by one)."""
    with path.open("rb") as stream:
        stream.seek(offset)
        records = StrictArchiveIterator(stream, arc2warc=True)
        try:
            try:
                record = next(records, None)
                capture = None if record is None else _capture(path, records.offset, record)
            except (ArchiveLoadFailed, DamagedData, zlib.error, EOFError, StatusAndHeadersParserException,
                    ValueError) as error:
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise BadInput(f"damaged WARC record in {path}: {reason}", DAMAGED) from None
            yield capture
        finally:
            records.the_iter.close()
            records.close()
