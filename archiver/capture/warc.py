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

Durability: rows never point at bytes that are not on disk. The records are flushed and fsync'd
(``WARC_FSYNC``) before each batch of ``captures`` rows, and the run makes its capture durable before
each batch of articles (:mod:`archiver.crawl.pipelines`). A failed write (a full disk) stops the run
(:meth:`archiver.crawl.runs.ArchiveRun.write_failed`).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import logging
import os
import socket
from datetime import datetime, timezone
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from .. import PROJECT_URL, __version__
from ..crawl.runs import ArchiveRun, is_write_error
from ..stores import store_dir
from .index import NOT_MODIFIED_PROFILE, CaptureIndex, capture_row, sort_cdxj
from .members import _gzip_member, already_compressed  # noqa: F401 - tests import them from here too
from .repair import repair_after_dead_runs

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def sha1_digest(data: bytes) -> str:
    """A WARC digest: ``sha1:`` and the base32 SHA-1, as warcio, wget, Heritrix and pywb write it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    """WARC/1.1 dates carry microseconds."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def default_dir(settings, name: str, setting: str) -> Path:
    """``WARC_DIR`` / ``MEDIA_DIR``, or the archive database's ``warc/`` / ``media/`` (:mod:`archiver.stores`)."""
    configured = settings.get(setting)
    if configured:
        return Path(configured)
    return store_dir(settings.get("ARCHIVE_DB") or "data/archive.db", name)


class WarcFiles:
    """WARC files of one crawl: ``DIR/PREFIX-TIMESTAMP-SERIAL.warc.gz``, rotated at ``max_size`` bytes.

    Records are buffered; :meth:`sync` puts what was written on disk (flushed, and fsync'd with ``fsync``,
    the directory too once a file is new) before the archive commits rows that point at it. An ``OSError``
    names the file; after one, the files take no more records (:attr:`broken`).
    """

    def __init__(self, directory: Path, prefix: str, max_size: int, info: dict, fsync: bool = True):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix, self.max_size, self.info, self.fsync = prefix, max(1, max_size), info, fsync
        self.started = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")[:17]
        self.serial = 0
        self.file = None
        self.name: str | None = None
        self.builder = WARCWriter(BytesIO(), gzip=False, warc_version=WARC_VERSION)
        self.bytes_written = 0
        self.synced = True  # everything written is on disk
        self.new_file = False  # a file created since the directory was last synced
        self.broken = False

    @property
    def path(self) -> Path:
        return self.directory / (self.name or "")

    def _open(self, on_record) -> None:
        while True:
            self.name = f"{self.prefix}-{self.started}-{self.serial:05d}.warc.gz"
            self.serial += 1
            path = self.directory / self.name
            if not path.exists():
                break
        self.file = open(path, "xb", buffering=1024 * 1024)
        self.new_file = True
        record = self.builder.create_warcinfo_record(self.name, self.info)
        self._append(record, on_record)

    def write(self, record, on_record=None, stored_payload: int = 0) -> tuple[str, int, int]:
        """Append one record (gzip member); returns (file name, offset, compressed length).
        ``stored_payload``: the length of a payload that is compressed already (stored, not deflated)."""
        if self.broken:
            raise OSError(errno.EIO, "an earlier write to the WARC file failed", str(self.path))
        try:
            if self.file is None or self.file.tell() >= self.max_size:
                self.close()
                self._open(on_record)
            return self._append(record, on_record, stored_payload)
        except OSError as error:
            raise self._failed(error) from error

    def _append(self, record, on_record, stored_payload: int = 0) -> tuple[str, int, int]:
        buffer = BytesIO()
        self.builder._write_warc_record(buffer, record)  # digests, Content-Length, headers: warcio's
        # The record ends with its payload and the two CRLFs that close it.
        member = _gzip_member(buffer.getvalue(), stored_payload + 4 if stored_payload else 0)
        offset = self.file.tell()
        self.file.write(member)
        self.synced = False
        self.bytes_written += len(member)
        where = (self.name, offset, len(member))
        if on_record is not None:
            on_record(record, *where)
        return where

    def sync(self) -> None:
        """Every record written so far on disk: before the archive commits rows that point at them."""
        if self.broken:
            raise OSError(errno.EIO, "an earlier write to the WARC file failed", str(self.path))
        if self.file is None or self.synced:
            return
        try:
            self.file.flush()
            if self.fsync:
                os.fsync(self.file.fileno())
                if self.new_file:  # the file's name in its directory, or a power loss may lose the file
                    sync_directory(self.directory)
                    self.new_file = False
        except OSError as error:
            raise self._failed(error) from error
        self.synced = True

    def close(self) -> None:
        if self.file is not None:
            self.sync()
            self.file.close()
            self.file = None

    def abandon(self) -> None:
        """No more records: the run stops. What the buffer holds is written if it can be; the next run's check
        of these files indexes the whole records no row lists and truncates a torn tail."""
        self.broken = True
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
            self.file = None

    def _failed(self, error: OSError) -> OSError:
        """After a failed write the file's end is unknown: it takes no more records. Returns the error, naming
        the file."""
        self.abandon()
        return OSError(error.errno, error.strerror, str(self.path))


def sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


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


class WarcCaptureMiddleware:
    """Write every request and response of the crawl to WARC files (``WARC_ENABLED``).

    It is the run's capture (:meth:`archiver.crawl.runs.ArchiveRun.attach_capture`): the run makes it
    durable before each batch of articles is committed (:meth:`make_durable`) and finishes it before the
    run's summary (:meth:`finish`). When the run starts after runs that died, it first checks and repairs
    the WARC files they left (:func:`archiver.capture.repair.repair_after_dead_runs`).
    """

    def __init__(self, crawler):
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC capture is off (WARC_ENABLED)")
        self.crawler, self.settings, self.stats = crawler, settings, crawler.stats
        self.directory = default_dir(settings, "warc", "WARC_DIR")
        self.fsync = settings.getbool("WARC_FSYNC", True)
        self.files: WarcFiles | None = None
        self.index: CaptureIndex | None = None
        self.run: ArchiveRun | None = None
        self.hostname = socket.gethostname()

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        run = crawler.get_extension(ArchiveRun)
        if run is not None and run.archive is not None:
            middleware.run = run
            run.attach_capture(middleware)
            # Before any component reads the crawl state: the articles whose capture was lost are to be fetched.
            try:
                repair_after_dead_runs(run.archive, middleware.directory, run.dead_runs)
            except Exception as error:
                if not is_write_error(error):
                    raise
                run.write_failed(error)
        return middleware

    def spider_opened(self, spider):
        run = self.run
        if run is None:
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
                               int(settings.getfloat("WARC_MAX_SIZE", 1e9)), info, fsync=self.fsync)
        self.index = CaptureIndex(self.directory / "index.cdxj", run.run_id, run.archive, self.files.sync)
        logger.info("WARC capture into %s", self.directory)

    def make_durable(self) -> None:
        """Every record written so far on disk, and its captures row committed: before the run commits
        articles that point at them. Raises the write error, if one happens."""
        if self.index is not None:
            self.index.flush()

    def finish(self) -> None:
        """The files closed (on disk), the last rows and CDXJ lines written, the CDXJ index sorted: at the
        run's end, before its summary. A write error is the run's (:meth:`ArchiveRun.write_failed`)."""
        if self.files is None:
            return
        files, self.files = self.files, None
        if files.broken:
            files.abandon()  # the run failed writing: the next run checks these files
            return
        try:
            files.close()
            self.index.flush()
            lines = sort_cdxj(self.index.cdxj_path, self.fsync)
        except Exception as error:
            if not is_write_error(error):
                raise
            self.run.write_failed(error)
            return
        logger.info("WARC: %d records, %d bytes written to %s (CDXJ index: %d captures)",
                    self.run.archive.count_captures(self.index.run_id), files.bytes_written, self.directory, lines)

    def spider_closed(self, spider, reason):
        if self.files is not None:  # the run could not finish it
            self.files.abandon()

    # -- the exchanges -----------------------------------------------------

    def process_response(self, request, response):
        if self.files is None:
            return response
        if self.files.broken:
            raise IgnoreRequest("not captured: the run stops, its WARC file cannot be written")
        try:
            where = self.capture(request, response)
        except Exception as error:
            if is_write_error(error):
                # A page whose capture is not on disk is not archived: the run stops (exit 74).
                self.files.abandon()
                self.run.write_failed(error)
                raise IgnoreRequest(f"not captured: {error}") from error
            logger.exception("WARC capture failed for %s", response.url)  # capture must never lose the page
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
        builder = self.files.builder
        earlier = self.index.earlier_capture(response.url) if response.status == 304 else None
        original = self.index.original(payload_digest) if body and earlier is None else None
        extra = None
        if earlier is not None:
            record, extra = self.not_modified_records(response.url, earlier, http, warc_headers)
            self.stats.inc_value("archiver/warc/not_modified")
        elif original is not None:
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
        stored = len(body) if original is None and earlier is None and already_compressed(http) else 0
        where = self.files.write(record, self._indexed, stored_payload=stored)
        self.files.write(request_record, self._indexed)
        if extra is not None:
            self.files.write(extra, self._indexed)
        self.stats.inc_value("archiver/warc/records", 3 if extra is not None else 2)
        self.stats.set_value("archiver/warc/bytes", self.files.bytes_written)
        return where[0], where[1]

    def not_modified_records(self, url: str, earlier: dict, http: StatusAndHeaders, warc_headers: dict):
        """A 304: a ``revisit`` record with the server-not-modified profile (WARC 1.1 6.7.3) referring to the
        earlier 200 capture (its URI, date, record id and payload digest), and a ``metadata`` record beside it
        holding the 304's headers. The revisit has no HTTP block of its own, so that replay (pywb) serves the
        earlier capture's headers and payload at this date rather than an empty 304."""
        builder = self.files.builder
        revisit = builder.create_revisit_record(
            url, earlier["payload_digest"], earlier["url"], earlier["warc_date"],
            warc_headers_dict={**warc_headers, **({"WARC-Refers-To": earlier["record_id"]}
                                                  if earlier.get("record_id") else {})})
        revisit.rec_headers.replace_header("WARC-Profile", NOT_MODIFIED_PROFILE)
        revisit_id = revisit.rec_headers.get_header("WARC-Record-ID")
        # As named fields (application/warc-fields), which indexers leave out: an HTTP message here would be
        # indexed and replayed as the page at this date.
        fields = f"HTTP-Status-Line: {http.protocol} {http.statusline}\r\n".encode("latin-1") + \
            http.to_bytes().split(b"\r\n", 1)[1]
        metadata = builder.create_warc_record(
            url, "metadata", payload=BytesIO(fields), length=len(fields),
            warc_headers_dict={"WARC-Date": warc_headers["WARC-Date"], "WARC-Concurrent-To": revisit_id,
                               "Content-Type": "application/warc-fields"})
        return revisit, metadata

    def _indexed(self, record, warc_file, offset, length) -> None:
        self.index.add(capture_row(record, warc_file, offset, length))
