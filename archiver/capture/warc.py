"""WARC capture: every HTTP exchange of a crawl, as it came off the wire, in WARC/1.1 files.

:class:`WarcCaptureMiddleware` is the downloader middleware closest to the
downloader (``DOWNLOADER_MIDDLEWARES`` 950): it sees each response before
HttpCompressionMiddleware decompresses its body and before RedirectMiddleware,
RetryMiddleware or the spider act on it, and each request after every other
middleware has set its headers. Pages, robots.txt, media, redirects, 304s and
errors (404, 500, each 503 a retry follows) are all written, as a ``request``
and a ``response`` record (gzip per record), or a ``revisit`` record when a
payload with the same digest is already archived.

:class:`WarcFiles` writes and rotates the files (``PREFIX-TIMESTAMP-SERIAL.warc.gz``,
each opening with a ``warcinfo`` record); every record also gets a row in the
archive's ``captures`` table and, for responses and revisits, a line in the
CDXJ index ``index.cdxj`` next to the WARC files (sorted when the crawl ends).
The archive row of an article points at its response record
(``response.meta["warc_record"]`` = ``(warc_file, offset)``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import socket
import struct
import zlib
from datetime import datetime, timezone
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from .. import PROJECT_URL, __version__
from ..archive.storage import Archive
from ..crawl.runs import ArchiveRun

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
GZIP_LEVEL = 6  # warcio's default is 9: several times slower for a few per cent
CAPTURE_FLUSH_EVERY = 200  # captures rows and CDXJ lines written per batch


def sha1_digest(data: bytes) -> str:
    """A WARC digest: ``sha1:`` and the base32 SHA-1, as warcio, wget, Heritrix and pywb write it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    """WARC/1.1 dates carry microseconds."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cdx_timestamp(date: str) -> str:
    return "".join(c for c in date if c.isdigit())[:14]


def default_dir(settings, name: str, setting: str) -> Path:
    """``WARC_DIR`` / ``MEDIA_DIR``, or ``warc/`` / ``media/`` next to the archive database."""
    configured = settings.get(setting)
    if configured:
        return Path(configured)
    return Path(settings.get("ARCHIVE_DB") or "data/archive.db").parent / name


# Payloads deflate cannot shrink: bodies sent with a Content-Encoding, and formats compressed already.
# Deflating one costs CPU for nothing: 492 response records of gzip-encoded replica pages (3,789 bytes each
# on average) took 113 µs and 3,706 bytes each deflated whole; 44 µs and 3,565 bytes with the head (WARC and
# HTTP headers) deflated and the payload stored.
COMPRESSED_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "video/", "audio/",
                    "application/zip", "application/gzip", "application/x-gzip")
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"  # deflate, no name, no time, Unix: as zlib writes it


def already_compressed(http_headers: StatusAndHeaders) -> bool:
    """Whether a response's body is compressed already: a Content-Encoding other than identity, or a type
    in COMPRESSED_TYPES."""
    encoding = (http_headers.get_header("Content-Encoding") or "").strip().lower()
    if encoding not in ("", "identity"):
        return True
    content_type = (http_headers.get_header("Content-Type") or "").split(";", 1)[0].strip().lower()
    return content_type.startswith(COMPRESSED_TYPES)


def _gzip_member(data: bytes, stored_tail: int = 0) -> bytes:
    """``data`` as one gzip member, its last ``stored_tail`` bytes stored rather than deflated.

    The deflated head and the stored tail are two raw deflate streams that make one: the first is
    flushed to a byte boundary without a final block (Z_SYNC_FLUSH), the second is stored blocks, which
    refer to nothing before them. Any gzip reader sees an ordinary member.
    """
    stored_tail = min(max(stored_tail, 0), len(data))
    if not stored_tail:
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        return compressor.compress(data) + compressor.flush()
    view, split = memoryview(data), len(data) - stored_tail
    head = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    tail = zlib.compressobj(0, zlib.DEFLATED, -zlib.MAX_WBITS)
    return b"".join((GZIP_HEADER, head.compress(view[:split]), head.flush(zlib.Z_SYNC_FLUSH),
                     tail.compress(view[split:]), tail.flush(),
                     struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)))


class WarcFiles:
    """WARC files of one crawl: ``DIR/PREFIX-TIMESTAMP-SERIAL.warc.gz``, rotated at ``max_size`` bytes."""

    def __init__(self, directory: Path, prefix: str, max_size: int, info: dict):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix, self.max_size, self.info = prefix, max(1, max_size), info
        self.started = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")[:17]
        self.serial = 0
        self.file = None
        self.name: str | None = None
        self.builder = WARCWriter(BytesIO(), gzip=False, warc_version=WARC_VERSION)
        self.bytes_written = 0

    def _open(self, on_record) -> None:
        while True:
            self.name = f"{self.prefix}-{self.started}-{self.serial:05d}.warc.gz"
            self.serial += 1
            path = self.directory / self.name
            if not path.exists():
                break
        self.file = open(path, "xb", buffering=1024 * 1024)
        record = self.builder.create_warcinfo_record(self.name, self.info)
        self._append(record, on_record)

    def write(self, record, on_record=None, stored_payload: int = 0) -> tuple[str, int, int]:
        """Append one record (gzip member); returns (file name, offset, compressed length).
        ``stored_payload``: the length of a payload that is compressed already (stored, not deflated)."""
        if self.file is None or self.file.tell() >= self.max_size:
            self.close()
            self._open(on_record)
        return self._append(record, on_record, stored_payload)

    def _append(self, record, on_record, stored_payload: int = 0) -> tuple[str, int, int]:
        buffer = BytesIO()
        self.builder._write_warc_record(buffer, record)  # digests, Content-Length, headers: warcio's
        # The record ends with its payload and the two CRLFs that close it.
        member = _gzip_member(buffer.getvalue(), stored_payload + 4 if stored_payload else 0)
        offset = self.file.tell()
        self.file.write(member)
        self.bytes_written += len(member)
        where = (self.name, offset, len(member))
        if on_record is not None:
            on_record(record, *where)
        return where

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def http_request_headers(request) -> StatusAndHeaders:
    """The request as sent: request line, Host, then the headers Scrapy's middlewares set (in their order)."""
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [("Host", parts.netloc)]
    for name, values in request.headers.items():
        for value in values:
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
    return StatusAndHeaders(f"{request.method} {target} HTTP/1.1", headers, is_http_request=True)


def http_response_headers(response) -> StatusAndHeaders:
    """The status line and headers as received (Twisted parsed them: see docs/replay.md on fidelity)."""
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = ""
    protocol = getattr(response, "protocol", None) or "HTTP/1.1"
    headers = []
    for name, values in response.headers.items():
        text = name.decode("latin-1")
        if text.lower() == "transfer-encoding":
            # The body reached us de-chunked: keep the fact, not a header that would make readers de-chunk again.
            text = "X-Archive-Orig-Transfer-Encoding"
        for value in values:
            headers.append((text, value.decode("latin-1")))
    return StatusAndHeaders(f"{response.status} {phrase}".rstrip(), headers, protocol=protocol)


class CaptureIndex:
    """The ``captures`` table and the CDXJ index, written in batches; the payload-digest lookup for revisits."""

    def __init__(self, cdxj_path: Path, run_id: int | None, archive: Archive | None = None):
        self.cdxj_path, self.run_id = Path(cdxj_path), run_id
        self.archive = archive  # the run's archive while the crawl runs
        self.pending: list[dict] = []
        self.pending_digests: dict[str, dict] = {}

    def add(self, row: dict) -> None:
        row["run_id"] = self.run_id
        self.pending.append(row)
        if row["record_type"] == "response" and row.get("payload_digest"):
            self.pending_digests.setdefault(row["payload_digest"], row)
        if len(self.pending) >= CAPTURE_FLUSH_EVERY:
            self.flush()

    def original(self, payload_digest: str) -> dict | None:
        """An archived response with this payload (this run's first, else the archive's)."""
        row = self.pending_digests.get(payload_digest)
        if row is not None:
            return row
        return self.archive.revisit_original(payload_digest) if self.archive is not None else None

    def flush(self, archive: Archive | None = None) -> None:
        if not self.pending:
            return
        (archive or self.archive).add_captures(self.pending)
        lines = [cdxj_line(row) for row in self.pending if row["record_type"] in ("response", "revisit")]
        if lines:
            with open(self.cdxj_path, "a", encoding="utf-8") as index:
                index.write("".join(line + "\n" for line in lines))
        self.pending = []
        self.pending_digests = {}


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


def sort_cdxj(path: Path) -> int:
    """Sort the CDXJ index in place (pywb binary-searches it); returns its number of lines."""
    if not path.exists():
        return 0
    lines = sorted(set(path.read_text(encoding="utf-8").splitlines()) - {""})
    temporary = path.with_suffix(".cdxj.tmp")
    temporary.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    os.replace(temporary, path)
    return len(lines)


def capture_row(record, warc_file: str, offset: int, length: int) -> dict:
    headers = record.rec_headers
    http = record.http_headers
    status = None
    if http is not None and record.rec_type in ("response", "revisit"):
        code = http.get_statuscode()
        status = int(code) if code and code.isdigit() else None
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


class WarcCaptureMiddleware:
    """Write every request and response of the crawl to WARC files (``WARC_ENABLED``)."""

    def __init__(self, crawler):
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC capture is off (WARC_ENABLED)")
        self.crawler, self.settings, self.stats = crawler, settings, crawler.stats
        self.directory = default_dir(settings, "warc", "WARC_DIR")
        self.files: WarcFiles | None = None
        self.index: CaptureIndex | None = None
        self.hostname = socket.gethostname()

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider):
        run = self.crawler.get_extension(ArchiveRun)
        if run is None or run.archive is None:
            logger.info("WARC capture off: this process has no archive (locked, or a cluster worker)")
            return
        settings = self.settings
        info = {
            "software": f"archiver/{__version__} ({PROJECT_URL}); warcio; Scrapy",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": self.hostname,
            "isPartOf": spider.name,
            "http-header-user-agent": settings.get("USER_AGENT"),
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "operator": settings.get("ARCHIVER_CONTACT") or "(ARCHIVER_CONTACT not set)",
            "seeds": " ".join(getattr(spider, "seeds", []) or []),
            "description": f"archiver crawl run {run.run_id} of {settings.get('ARCHIVE_DB')}",
        }
        self.files = WarcFiles(self.directory, settings.get("WARC_PREFIX") or "ARCHIVER",
                               int(settings.getfloat("WARC_MAX_SIZE", 1e9)), info)
        self.index = CaptureIndex(self.directory / "index.cdxj", run.run_id, archive=run.archive)
        self.db_path = run.db_path
        logger.info("WARC capture into %s", self.directory)

    def spider_closed(self, spider, reason):
        if self.files is None:
            return
        self.files.close()
        # The run's connection is closed by now (archiver.crawl.runs finishes first): flush on our own.
        archive = Archive(self.db_path)
        try:
            self.index.flush(archive)
            self.index.archive = None
            records = archive.count_captures(self.index.run_id)
        finally:
            archive.close()
        lines = sort_cdxj(self.index.cdxj_path)
        logger.info("WARC: %d records, %d bytes written to %s (CDXJ index: %d captures)", records,
                    self.files.bytes_written, self.directory, lines)

    # -- the exchanges -----------------------------------------------------

    def process_response(self, request, response):
        if self.files is None:
            return response
        try:
            where = self.capture(request, response)
        except Exception:  # capture must never lose the page
            logger.exception("WARC capture failed for %s", response.url)
            self.stats.inc_value("archiver/warc/errors")
            return response
        request.meta["warc_record"] = where
        return response

    def capture(self, request, response) -> tuple[str, int]:
        now = datetime.now(timezone.utc)
        date = warc_date(now)
        body = response.body
        http = http_response_headers(response)
        payload_digest = sha1_digest(body)
        warc_headers = {"WARC-Date": date}
        ip = getattr(response, "ip_address", None)
        if ip is not None:
            warc_headers["WARC-IP-Address"] = str(ip)
        original = self.index.original(payload_digest) if body else None
        builder = self.files.builder
        if original is not None:
            record = builder.create_revisit_record(
                response.url, payload_digest, original["url"], original["warc_date"], http_headers=http,
                warc_headers_dict={**warc_headers,
                                   **({"WARC-Refers-To": original["record_id"]} if original.get("record_id") else {})})
            self.stats.inc_value("archiver/warc/revisits")
        else:
            record = builder.create_warc_record(response.url, "response", payload=BytesIO(body), length=len(body),
                                                http_headers=http,
                                                warc_headers_dict={**warc_headers,
                                                                   "WARC-Payload-Digest": payload_digest})
        response_id = record.rec_headers.get_header("WARC-Record-ID")
        request_body = request.body or b""
        request_record = builder.create_warc_record(
            response.url, "request", payload=BytesIO(request_body), length=len(request_body),
            http_headers=http_request_headers(request),
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": response_id})
        stored = len(body) if original is None and already_compressed(http) else 0
        where = self.files.write(record, self._indexed, stored_payload=stored)
        self.files.write(request_record, self._indexed)
        self.stats.inc_value("archiver/warc/records", 2)
        self.stats.set_value("archiver/warc/bytes", self.files.bytes_written)
        return where[0], where[1]

    def _indexed(self, record, warc_file, offset, length) -> None:
        self.index.add(capture_row(record, warc_file, offset, length))
