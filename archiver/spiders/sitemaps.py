"""Reading what a site publishes about its pages: robots.txt ``Sitemap:`` lines, sitemaps and sitemap indexes
(gzipped or not), and feeds; each file fetched once a run at most, outside the crawl's queue. A sitemap an index
dates (``<lastmod>``) before an earlier run read it whole is not read again (but on a full run).

Files are fetched with the engine's downloader (its middlewares: robots.txt, scope, retries, redirects, WARC
capture), each capped at ``SITEMAP_MAX_BYTES`` (before and after decompression). A sitemap index is followed
``SITEMAP_MAX_DEPTH`` levels deep, ``SITEMAP_MAX_FILES`` files a host at most, never the same file twice (an index
that loops ends there). A file that cannot be read costs one log line, never the run (docs/crawling.md).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from .scope import HTTP_SCHEMES

DISCOVERY_PRIORITY = 30  # ahead of the crawl's pages: what the files lead to is scheduled as they are read


class CappedFetcher:
    """Fetches one file with the crawl's downloader, capped in size; None, and one log line, when it fails."""

    def __init__(self, spider, max_bytes: int):
        self.spider, self.max_bytes = spider, max_bytes

    def on_seed_host(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in HTTP_SCHEMES and parts.netloc in self.spider.hosts

    async def body(self, url: str, what: str) -> bytes | None:
        """The file's body, decompressed when it is a gzip file (``.xml.gz``)."""
        stats = self.spider.crawler.stats
        if not self.on_seed_host(url):
            stats.inc_value(f"archiver/{what}/offsite")
            self.spider.logger.info("%s not read, not on a seed host: %s", what.capitalize(), url)
            return None
        request = scrapy.Request(url, dont_filter=True, priority=DISCOVERY_PRIORITY,
                                 meta={"download_maxsize": self.max_bytes, "download_warnsize": self.max_bytes})
        try:
            response = await self.spider.crawler.engine.download_async(request)
        except Exception as error:  # robots.txt, a size cap, a timeout...: one line, the run goes on
            stats.inc_value(f"archiver/{what}/failed")
            self.spider.logger.warning("%s not read (%s, SITEMAP_MAX_BYTES=%d): %s", what.capitalize(),
                                       type(error).__name__, self.max_bytes, url)
            return None
        if response.status != 200:
            stats.inc_value(f"archiver/{what}/failed")
            self.spider.logger.info("%s not read (HTTP %d): %s", what.capitalize(), response.status, url)
            return None
        stats.inc_value(f"archiver/{what}/read")
        if not gzip_magic_number(response):
            return response.body
        try:
            return gunzip(response.body, max_size=self.max_bytes)
        except Exception as error:  # scrapy's size error, or a broken gzip file
            stats.inc_value(f"archiver/{what}/failed")
            self.spider.logger.warning("%s not read (%s once decompressed, SITEMAP_MAX_BYTES=%d): %s",
                                       what.capitalize(), type(error).__name__, self.max_bytes, url)
            return None


class SitemapReader:
    """A seed host's sitemaps: its robots.txt ``Sitemap:`` lines and ``/sitemap.xml``, their indexes followed."""

    def __init__(self, fetcher: CappedFetcher, max_depth: int, max_files: int, memory=None):
        self.fetcher, self.max_depth, self.max_files = fetcher, max_depth, max_files
        # What earlier runs read (archiver.crawl.change_signals.ChangeSignals): None reads every file.
        self.memory = memory
        self.read_whole: list[str] = []  # sitemaps read to their end this run
        self.logger = fetcher.spider.logger

    @property
    def stats(self):  # the crawler's, once the crawl starts
        return self.fetcher.spider.crawler.stats

    async def sitemap_urls(self, base: str) -> list[str]:
        listed = await self.robots_sitemaps(base)
        if listed is None:  # robots.txt not obeyed, or read by another parser: read it here
            robots = await self.fetcher.body(base + "/robots.txt", "robots")
            listed = list(sitemap_urls_from_robots(robots, base_url=base + "/")) if robots else []
        return list(dict.fromkeys([*listed, base + "/sitemap.xml"]))

    async def robots_sitemaps(self, base: str) -> list[str] | None:
        """The ``Sitemap:`` lines of the host's robots.txt as Scrapy's robots.txt middleware read it (Protego, its
        default parser), not fetched twice; None when that middleware or parser is not there."""
        crawler = self.fetcher.spider.crawler
        middleware = next((m for m in crawler.engine.downloader.middleware.middlewares
                           if isinstance(m, RobotsTxtMiddleware)), None)
        if middleware is None:
            return None
        parser = await middleware.robot_parser(scrapy.Request(base + "/"))
        sitemaps = getattr(getattr(parser, "rp", None), "sitemaps", None)
        return None if sitemaps is None else [urljoin(base + "/", url) for url in sitemaps]

    async def entries(self, base: str):
        """(URL, lastmod or None) of every page the host's sitemaps list, file by file."""
        queue = [(url, 0) for url in await self.sitemap_urls(base)]
        read: set[str] = set()
        warned = set()
        while queue:
            url, depth = queue.pop(0)
            if url in read:
                self.stats.inc_value("archiver/sitemap/loops")
                self.once(warned, "loop", "Sitemap index leads back to a sitemap already read, not read again: %s",
                          url)
                continue
            if len(read) >= self.max_files:
                self.stats.inc_value("archiver/sitemap/capped", len(queue) + 1)
                self.logger.warning("%d sitemaps read on %s: the other %d are not (SITEMAP_MAX_FILES)",
                                    len(read), base, len(queue) + 1)
                return
            read.add(url)
            body = await self.fetcher.body(url, "sitemap")
            if body is None:
                continue
            kind, items = self.parse(body, url)
            if kind == "sitemapindex":
                if depth >= self.max_depth:
                    self.stats.inc_value("archiver/sitemap/too_deep")
                    self.once(warned, "deep", "Sitemap index %d levels deep, not followed (SITEMAP_MAX_DEPTH): %s",
                              depth + 1, url)
                    continue
                unchanged = self.memory.unchanged_sitemaps(dict(items)) if self.memory is not None else set()
                self.stats.inc_value("archiver/sitemap/unchanged", len(unchanged))
                queue.extend((loc, depth + 1) for loc, _ in items if loc not in unchanged)
            elif kind == "urlset":
                for item in items:
                    yield item
                self.read_whole.append(url)  # remembered by the caller once its pages are requested

    def parse(self, body: bytes, url: str) -> tuple[str | None, list[tuple[str, str | None]]]:
        """The file's kind (``sitemapindex``, ``urlset``) and entries; what a broken file holds before it breaks."""
        items: list[tuple[str, str | None]] = []
        kind = None
        try:
            sitemap = Sitemap(body)
            kind = sitemap.type
            for entry in sitemap:
                items.append((entry["loc"], entry.get("lastmod") or None))
        except Exception as error:  # lxml's recovering parser still gives up on some bytes
            self.stats.inc_value("archiver/sitemap/broken")
            self.logger.warning("Broken sitemap (%s), %d entries read from it: %s", type(error).__name__,
                                len(items), url)
            return (kind if items else None), items
        if kind not in ("sitemapindex", "urlset"):
            self.stats.inc_value("archiver/sitemap/broken")
            self.logger.warning("Not a sitemap (<%s>): %s", kind, url)
            return None, []
        return kind, items

    def once(self, warned: set, key: str, message: str, *args) -> None:
        if key not in warned:
            warned.add(key)
            self.logger.warning(message, *args)
