"""Media capture: article images and linked documents, downloaded politely and stored content-addressed.

The documents (PDF, DOC, XLS...) an article's body links to are listed by its
page object (:func:`archiver.extraction.images.document_links`) in the item's ``documents``.
:class:`MediaPipeline` (``ITEM_PIPELINES`` 200, before the archive) downloads
each image and document through Scrapy's own downloader (same politeness,
robots.txt obeyed, and captured to WARC like every other exchange), and stores
each file once, by the SHA-256 of its content. Only media in scope are fetched
(:class:`archiver.spiders.scope.MediaScope`, docs/security.md: the seeds' hosts and the listed media hosts,
over http(s), no private address); the others are counted in ``archiver/media/out_of_scope``. Stored as:

    MEDIA_DIR/ab/cd/abcd...ef.jpg        (MEDIA_DIR defaults to media/ next to ARCHIVE_DB)

The extension is derived from the Content-Type (or a short, lower-case,
alphanumeric URL extension); nothing else of the URL ever reaches the file
system. Images and documents get ``sha256``, ``path``, ``bytes``,
``content_type`` and ``fetched_at``. A URL is downloaded once per run, and not
again in later runs while its file is in the archive.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from itemadapter import ItemAdapter
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future

from ..clock import utc_now
from ..crawl.runs import ArchiveRun
from ..spiders.scope import MediaScope
# The store's naming and writes live in media_files (no Scrapy: archiver rebuild uses them); named here too.
from .media_files import media_relpath, safe_extension, store_file, stored_path  # noqa: F401
from .warc import default_dir

logger = logging.getLogger(__name__)


class MediaPipeline:
    """Download each item's images and documents (``MEDIA_ENABLED``) and store them by SHA-256."""

    def __init__(self, crawler):
        settings = crawler.settings
        if not settings.getbool("MEDIA_ENABLED", True):
            raise NotConfigured("media capture is off (MEDIA_ENABLED)")
        self.crawler, self.stats = crawler, crawler.stats
        self.media_dir = default_dir(settings, "media", "MEDIA_DIR")
        self.maxsize = settings.getint("MEDIA_MAXSIZE")
        self.db_path = settings.get("ARCHIVE_DB")
        self.fetched: dict[str, asyncio.Future] = {}  # URL -> its download, shared by every article
        self.archive = self.run = None
        self.scope: MediaScope | None = None
        self.refused_hosts: set[str] = set()  # out-of-scope media are logged once per host

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        self.run = self.crawler.get_extension(ArchiveRun)
        self.archive = self.run.archive if self.run is not None else None
        if self.archive is None:
            logger.info("Media capture off: this process has no archive (locked, or a cluster worker)")
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self.scope = MediaScope.for_crawl(self.crawler.spider, self.crawler.settings)

    async def process_item(self, item):
        if self.archive is None or self.run.write_failure:  # after a failed write, the run archives nothing
            return item
        adapter = ItemAdapter(item)
        media = [(image, image.get("src")) for image in adapter.get("images") or []]
        media += [(document, document.get("url")) for document in adapter.get("documents") or []]
        results = await asyncio.gather(*(self.fetch(url) for _, url in media if url))
        for (entry, _), result in zip([m for m in media if m[1]], results):
            if result:
                entry.update(result)
        return item

    def fetch(self, url: str) -> asyncio.Future:
        if url not in self.fetched:
            self.fetched[url] = asyncio.ensure_future(self._download(url))
        return self.fetched[url]

    def _known(self, url: str) -> dict | None:
        """A file an earlier run stored for this URL, still on disk: not fetched again."""
        for known in self.archive.downloaded_files(url):
            path = Path(known["path"])
            if not path.is_absolute():  # stored relative to the archive's directory
                path = Path(self.db_path).parent / path
            if path.exists():
                return known
        return None

    async def _download(self, url: str) -> dict | None:
        reason = await self.scope.full_refusal(url)
        if reason:
            self._out_of_scope(url, reason)
            return None
        known = self._known(url)
        if known:
            self.stats.inc_value("archiver/media/known")
            return known
        request = scrapy.Request(url, dont_filter=True, priority=30,
                                 meta={"allow_offsite": True, "download_maxsize": self.maxsize, "media": True,
                                       "media_scope": self.scope})  # its redirects are judged by it
        try:
            engine = self.crawler.engine
            if hasattr(engine, "download_async"):
                response = await engine.download_async(request)
            else:
                response = await maybe_deferred_to_future(engine.download(request))
        except IgnoreRequest as reason:
            self.stats.inc_value("archiver/media/not_fetched")
            logger.info("Media not fetched (%s): %s", reason or "ignored", url)
            return None
        except Exception as error:
            self.stats.inc_value("archiver/media/failed")
            logger.warning("Could not fetch media %s: %s: %s", url, type(error).__name__, error)
            return None
        if response.status != 200:
            self.stats.inc_value(f"archiver/media/http_{response.status}")
            logger.warning("Media not archived (HTTP %d): %s", response.status, url)
            return None
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1") or None
        try:
            sha256, relpath, written = store_file(self.media_dir, response.body, content_type, url)
        except OSError as error:
            self.stats.inc_value("archiver/media/write_failed")
            self.run.write_failed(error)  # the run stops (exit 74); this item is not archived
            return None
        self.stats.inc_value("archiver/media/files")
        if written:
            self.stats.inc_value("archiver/media/bytes", len(response.body))
            self.stats.inc_value("archiver/media/stored")
        else:
            self.stats.inc_value("archiver/media/duplicate_content")
        return {"sha256": sha256, "path": stored_path(self.media_dir, relpath, self.db_path),
                "bytes": len(response.body), "content_type": content_type, "fetched_at": utc_now()}

    def _out_of_scope(self, url: str, reason: str) -> None:
        self.stats.inc_value("archiver/media/out_of_scope")
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        if host not in self.refused_hosts:
            self.refused_hosts.add(host)
            logger.info("Media out of scope (%s), not fetched: %s (more from %s: only counted)", reason, url, host)
