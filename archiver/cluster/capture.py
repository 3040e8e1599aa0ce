"""Capture on cluster workers: each worker writes its own WARC files and media, the writer indexes them.

A worker has no archive. It writes every exchange into its own WARC files (the single process's
:class:`~archiver.capture.warc.WarcFiles` and record building, under ``WARC_DIR``, named
``PREFIX-<host>-<pid>-TIMESTAMP-SERIAL.warc.gz`` so that workers sharing a directory never collide)
and downloads media into the content-addressed store (``MEDIA_DIR``) as one process does. Instead of
the ``captures`` rows and CDXJ lines, it sends each record's location (WARC file, offset, length,
digests: :func:`~archiver.capture.index.capture_row`) through the item stream, in entries
``{"captures": [row, ...]}``; an item carries its response's ``warc_file``/``warc_offset`` and its
media's ``sha256`` and path (relative to the media store). ``archiver ingest`` records them exactly as a
single process does (:mod:`archiver.cluster.ingest`).

Durability, as in one process: a batch of rows is sent only after the WARC bytes it points at are
flushed and fsync'd (``WARC_FSYNC``), and before any item that points at them; a worker acknowledges a
request (it leaves the worker's in-flight hash) only once the rows of its records were sent
(:meth:`archiver.cluster.scheduler.ClusterScheduler.tick`). A worker killed mid-crawl may leave records
no row lists at the end of its last file: ``archiver verify --repair`` indexes them (docs/cluster.md).

Shared through Redis (never cleared by ``archiver seed --reset``, as the archive keeps them between runs):
``<stream>:digests`` (payload digest -> the response a later identical payload's ``revisit`` record
names), ``<stream>:captured`` (URL -> its last 200 capture, what the revisit record of a 304 refers to) and
``<stream>:media`` (media URL -> its stored file: not downloaded again by any worker, once the row of its capture
is in the stream).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy_redis.connection import get_redis_from_settings

from ..capture.index import PendingCaptures
from ..capture.media import MediaPipeline
from ..capture.warc import WarcCaptureMiddleware, WarcFiles
from .worker import stream_key, worker_run

logger = logging.getLogger(__name__)


def worker_prefix(prefix: str) -> str:
    """``PREFIX-<host>-<pid>``: unique among workers that share a WARC directory (host name made file-safe)."""
    host = re.sub(r"[^A-Za-z0-9.]+", "_", socket.gethostname()) or "host"
    return f"{prefix}-{host}-{os.getpid()}"


def reference(row: dict) -> dict:
    """What a revisit record names of the response it stands for."""
    return {"url": row["url"], "warc_date": row["warc_date"], "record_id": row["record_id"],
            "payload_digest": row.get("payload_digest")}


class CaptureLog(PendingCaptures):
    """The rows of the records a worker wrote, sent through the item stream once their bytes are on disk; the
    lookups for revisit records are this worker's pending rows, then the cluster's (Redis)."""

    def __init__(self, server, stream: str, files: WarcFiles):
        super().__init__()
        self.server, self.stream, self.files = server, stream, files
        self.digests_key = stream + ":digests"
        self.captured_key = stream + ":captured"
        self.media_key = stream + ":media"
        self.pending_media: dict[str, str] = {}  # media URL -> its stored file, claimed with the next batch
        self.sent = 0

    def stored_original(self, payload_digest: str) -> dict | None:
        found = self.server.hget(self.digests_key, payload_digest)
        return json.loads(found) if found else None

    def stored_capture(self, url: str) -> dict | None:
        found = self.server.hget(self.captured_key, url)
        return json.loads(found) if found else None

    def flush(self) -> None:
        """The pending rows into the stream, once the bytes they point at are on disk."""
        if not self.pending and not self.pending_media:
            return
        self.files.sync()
        captured = {url: json.dumps(reference(found)) for url, row in self.pending_ok.items()
                    if (found := self.as_response(row)) is not None}
        rows, digests, _ = self.take()
        media, self.pending_media = self.pending_media, {}
        pipe = self.server.pipeline(transaction=True)
        if rows:
            pipe.xadd(self.stream, {"captures": json.dumps(rows, ensure_ascii=False)})
        for url, stored in media.items():
            pipe.hsetnx(self.media_key, url, stored)
        for digest, row in digests.items():
            pipe.hsetnx(self.digests_key, digest, json.dumps(reference(row)))
        if captured:
            pipe.hset(self.captured_key, mapping=captured)
        pipe.execute()
        self.sent += len(rows)

    def claim_media(self, url: str, stored: dict) -> None:
        """A media file this worker stored, known to the other workers (not downloaded again) only with the batch
        that sends its capture's row: a worker that dies before leaves the URL to be downloaded, and captured,
        again."""
        self.pending_media[url] = json.dumps(stored)


class WorkerWarcCapture(WarcCaptureMiddleware):
    """The WARC capture of a cluster worker: its own files, the rows sent to the writer (see above)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.server = get_redis_from_settings(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        middleware.run = worker_run(crawler)
        if middleware.run is not None:
            middleware.run.attach_capture(middleware)  # the run sends and finishes what it wrote
        return middleware

    def spider_opened(self, spider):
        settings = self.settings
        info = {"software": "archiver (cluster worker); warcio; Scrapy", "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                "hostname": self.hostname, "isPartOf": spider.name,
                "http-header-user-agent": settings.get("USER_AGENT"),
                "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                "operator": settings.get("ARCHIVER_CONTACT") or "(ARCHIVER_CONTACT not set)",
                "seeds": " ".join(getattr(spider, "seeds", []) or []),
                "description": f"archiver cluster worker {socket.gethostname()}:{os.getpid()}"}
        self.files = WarcFiles(self.directory, worker_prefix(settings.get("WARC_PREFIX") or "ARCHIVER"),
                               int(settings.getfloat("WARC_MAX_SIZE", 1e9)), info, fsync=self.fsync)
        self.index = CaptureLog(self.server, stream_key(self.crawler), self.files)
        logger.info("WARC capture into %s (this worker's files; archiver ingest indexes them)", self.directory)

    def make_durable(self) -> None:
        """Every record so far on disk and its row in the stream: before an item or an acknowledgement."""
        if self.index is None or self.files is None or self.files.broken:
            return
        try:
            self.index.flush()
        except OSError as error:
            self.files.abandon()
            self.run.write_failed(error)

    def spider_closed(self, spider, reason):
        self.finish()

    def finish(self) -> None:
        """The files closed (on disk) and the last rows sent: as the worker leaves (WorkerRun.leave)."""
        if self.files is None:
            return
        files, self.files = self.files, None
        if files.broken:
            files.abandon()
            return
        try:
            files.close()
            self.index.flush()
        except OSError as error:
            self.run.write_failed(error)
            return
        logger.info("WARC: %d records, %d bytes written to %s", self.index.sent, files.bytes_written,
                    self.directory)


class WorkerMediaPipeline(MediaPipeline):
    """The media downloads of a cluster worker: stored by SHA-256 as in one process; a media URL any worker
    stored (``<stream>:media``) is not downloaded again. The writer makes each path its store's
    (:func:`archiver.cluster.ingest.media_paths`)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.server = get_redis_from_settings(crawler.settings)
        self.db_path = None  # no archive: paths are absolute here, made relative at the writer
        self.media_key = ""

    def open_spider(self):
        from ..spiders.scope import MediaScope

        self.run = worker_run(self.crawler)
        self.media_key = stream_key(self.crawler) + ":media"
        self.scope = MediaScope.for_crawl(self.crawler.spider, self.crawler.settings)
        # The store's directory appears with its first file: a worker with no media to fetch leaves none.

    async def process_item(self, item):
        if self.run.write_failure:
            return item
        adapter = ItemAdapter(item)
        media = [(image, image.get("src")) for image in adapter.get("images") or []]
        media += [(document, document.get("url")) for document in adapter.get("documents") or []]
        media = [(entry, url) for entry, url in media if url]
        results = await asyncio.gather(*(self.fetch(url) for _, url in media))
        for (entry, _), result in zip(media, results):
            if result:
                entry.update(result)
        return item

    def _known(self, url: str) -> dict | None:
        found = self.server.hget(self.media_key, url)
        return json.loads(found) if found else None

    async def _download(self, url: str) -> dict | None:
        result = await super()._download(url)
        if result:
            capture = getattr(self.run, "capture", None)
            if capture is not None and capture.index is not None:  # once its capture's row is sent
                capture.index.claim_media(url, result)
            else:
                self.server.hsetnx(self.media_key, url, json.dumps(result))
        return result
