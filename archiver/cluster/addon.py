"""Cluster mode: many ``scrapy crawl news`` workers sharing one crawl through Redis (scrapy-redis).

Nothing here imports scrapy-redis or redis at module level: without a Redis URL
(``-s REDIS_URL=...`` or ``$REDIS_URL``) the addon below does nothing and the
crawl is the single-process SQLite crawl.

With a Redis URL, :class:`ClusterAddon` (listed in ``ADDONS``) switches a crawl to:

- the scrapy-redis scheduler and request dupefilter, shared by every worker
  (keys ``<spider>:requests`` and ``<spider>:dupefilter``), with our reliable
  queue on top (:mod:`archiver.cluster.scheduler`): a request a worker took stays
  in that worker's in-flight hash until its response is fully processed, and
  the requests of a worker that died are put back into the queue;
- no seeds from ``start()``: ``archiver seed`` pushes them once;
- items into a Redis Stream (``<spider>:archive``) instead of SQLite
  (:mod:`archiver.cluster.pipelines`); ``archiver ingest`` is the one writer;
- safe per-worker politeness defaults.

Commands (their parsers are in :mod:`archiver.cli`): ``archiver seed`` and ``archiver ingest``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from urllib.parse import urlsplit, urlunsplit

logger = logging.getLogger(__name__)

# Settings applied in cluster mode with "spider" priority: they win over
# archiver/settings.py, and anything given with -s wins over them.
CLUSTER_SETTINGS = {
    "SCHEDULER": "archiver.cluster.scheduler.ClusterScheduler",
    "SCHEDULER_QUEUE_CLASS": "archiver.cluster.scheduler.ReliablePriorityQueue",
    "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
    "SCHEDULER_PERSIST": True,  # a worker leaving never clears the shared queue
    # Politeness is per worker: N workers make N times these per host.
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    "DOWNLOAD_DELAY": 1.0,
}
# Settings of cluster mode that nothing else defines: "addon" priority.
CLUSTER_DEFAULTS = {
    # A worker closes after the whole cluster had no work (shared queue empty,
    # no request in flight anywhere) for this many seconds; 0 = never close.
    "MAX_IDLE_TIME_BEFORE_CLOSE": 60,
    # A worker that did not renew its heartbeat for this long is dead: its
    # in-flight requests go back into the queue.
    "CLUSTER_HEARTBEAT_SECONDS": 30,
    "CLUSTER_ITEMS_STREAM": "%(spider)s:archive",
}
SPIDER_NAME = "news"
INGEST_GROUP = "archiver"


def redis_url_from(settings) -> str:
    """The cluster's Redis URL from the settings or ``$REDIS_URL``; empty: single-process mode."""
    return (settings.get("REDIS_URL") or os.environ.get("REDIS_URL") or "").strip()


def apply_cluster_settings(settings) -> bool:
    """Switch ``settings`` to cluster mode when a Redis URL is set; returns whether it did."""
    url = redis_url_from(settings)
    if not url:
        return False
    from scrapy.utils.misc import load_object

    from .pipelines import RedisStreamPipeline
    from .scheduler import ClusterStartMiddleware
    from ..crawl.pipelines import ArchivePipeline

    settings.set("REDIS_URL", url, priority="spider")
    for name, value in CLUSTER_SETTINGS.items():
        settings.set(name, value, priority="spider")
    for name, value in CLUSTER_DEFAULTS.items():
        settings.set(name, value, priority="addon")
    # One writer: workers never open SQLite; items go to the stream instead.
    try:
        settings.replace_in_component_priority_dict("ITEM_PIPELINES", ArchivePipeline, RedisStreamPipeline)
    except KeyError:  # no archive pipeline configured: still send the items to the writer
        settings.set_in_component_priority_dict("ITEM_PIPELINES", RedisStreamPipeline, 300)
    settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", ClusterStartMiddleware, 0)
    # The run extension opens (and locks) the SQLite archive: the writer's business, not a worker's.
    try:
        from ..crawl.runs import ArchiveRun
    except ImportError:
        pass
    else:
        if any(load_object(name) is ArchiveRun for name, order in settings.getdict("EXTENSIONS").items()
               if order is not None):
            settings.set_in_component_priority_dict("EXTENSIONS", ArchiveRun, None)
    return True


class ClusterAddon:
    """Scrapy addon (``ADDONS``): cluster mode when a Redis URL is set, nothing otherwise."""

    def update_settings(self, settings) -> None:
        if apply_cluster_settings(settings):
            logger.info("Cluster mode: Redis %s", safe_redis_url(redis_url_from(settings)))


def safe_redis_url(url: str) -> str:
    """``url`` without its password, for logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.rsplit("@", 1)[1]
        netloc = f"{parts.username or ''}:***@{netloc}"
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def keys(settings, spider_name: str = SPIDER_NAME) -> dict[str, str]:
    """The Redis keys of a spider's crawl."""
    from scrapy_redis import defaults

    name = {"spider": spider_name}
    queue = settings.get("SCHEDULER_QUEUE_KEY") or defaults.SCHEDULER_QUEUE_KEY
    dupefilter = settings.get("SCHEDULER_DUPEFILTER_KEY") or defaults.SCHEDULER_DUPEFILTER_KEY
    return {"queue": queue % name, "dupefilter": dupefilter % name,
            "stream": (settings.get("CLUSTER_ITEMS_STREAM") or CLUSTER_DEFAULTS["CLUSTER_ITEMS_STREAM"]) % name}


def cluster_settings(redis_url: str, overrides: dict | None = None):
    """The project's settings in cluster mode (for the commands, outside a crawl)."""
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "archiver.settings")
    settings = get_project_settings()
    settings.set("REDIS_URL", redis_url, priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    apply_cluster_settings(settings)
    return settings


# -- archiver seed --------------------------------------------------------------


def seed(redis_url: str, start_urls: list[str] = (), profile: str | None = None, reset: bool = False,
         spider_name: str = SPIDER_NAME) -> tuple[int, int]:
    """Push the spider's start requests into the shared queue, once; returns (pushed, already seen).

    The requests are exactly what ``start()`` of the spider yields in a single
    process (same callback, errback, meta and priority), put into the queue by
    scrapy-redis' own scheduler code, through the shared dupefilter. ``reset``
    first deletes the queue, the dupefilter and the in-flight requests: a new
    crawl round (do not reset while workers run).
    """
    import asyncio

    from scrapy.crawler import Crawler
    from scrapy.spiderloader import get_spider_loader

    from .scheduler import ClusterScheduler

    settings = cluster_settings(redis_url)
    spidercls = get_spider_loader(settings).load(spider_name)
    crawler = Crawler(spidercls, settings)
    arguments = {}
    if start_urls:
        arguments["start_urls"] = ",".join(start_urls)
    if profile:
        arguments["profile"] = profile
    if getattr(crawler, "_stats", True) is None:  # not crawling: start() may still count things
        from scrapy.statscollectors import MemoryStatsCollector
        crawler.stats = MemoryStatsCollector(crawler)
    spider = spidercls.from_crawler(crawler, **arguments)
    scheduler = ClusterScheduler.from_settings(settings)  # scrapy-redis' own enqueue: dupefilter, then queue
    scheduler.attach(spider)
    server = scheduler.server
    if reset:
        names = keys(settings, spider.name)
        stale = [names["queue"], names["dupefilter"], *server.scan_iter(names["queue"] + ":inflight:*")]
        server.delete(*stale)
        print(f"Reset: deleted {', '.join(k if isinstance(k, str) else k.decode() for k in stale)}")

    async def start_requests():
        return [request async for request in spider.start()]

    pushed = seen = 0
    for request in asyncio.run(start_requests()):
        if scheduler.enqueue_request(request):
            pushed += 1
        else:
            seen += 1
    return pushed, seen


def seed_command(arguments) -> int:
    url = arguments.redis_url or os.environ.get("REDIS_URL", "")
    if not url:
        print("archiver seed: give --redis-url URL or set REDIS_URL", file=sys.stderr)
        return 2
    pushed, seen = seed(url, arguments.urls, arguments.profile, arguments.reset)
    print(f"Pushed {pushed} seed request(s) into the shared queue of {safe_redis_url(url)}"
          + (f"; {seen} already seen in this crawl round (use --reset to start a new round)" if seen else ""))
    return 0


# -- archiver ingest --------------------------------------------------------------


class Ingester:
    """The one writer: Redis Stream -> :meth:`archiver.archive.storage.Archive.save`, acknowledged after commit.

    Entries are read with a consumer group; an entry is acknowledged (and
    deleted from the stream) only after the transaction that stored it has
    committed. Entries read but not acknowledged by a writer that died are
    read again when a writer starts (claimed with XAUTOCLAIM, then read from
    id 0) and stored again, which changes nothing: ``Archive.save`` reports an
    unchanged item as "unchanged" and adds no row.
    """

    def __init__(self, redis_url: str, db: str, stream: str, group: str = INGEST_GROUP, consumer: str = "writer",
                 batch_size: int = 25, block_ms: int = 1000):
        import redis

        from ..archive.storage import Archive, SaveCounts

        self.server = redis.Redis.from_url(redis_url)
        self.stream, self.group, self.consumer = stream, group, consumer
        self.batch_size, self.block_ms = max(1, batch_size), block_ms
        self.db = db
        self.archive = Archive(db)
        self.totals = SaveCounts()
        self.entries = self.redelivered = self.failed = 0
        self.stopping = False
        try:
            self.server.xgroup_create(stream, group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def claim_orphans(self) -> int:
        """Take over entries pending for other consumers of the group (a writer that died under another name)."""
        claimed, start = 0, "0-0"
        while True:
            reply = self.server.xautoclaim(self.stream, self.group, self.consumer, min_idle_time=0,
                                           start_id=start, count=100)
            start = reply[0]
            claimed += len(reply[1])
            if start in (b"0-0", "0-0"):
                return claimed

    def read(self, pending: bool) -> list[tuple[bytes, dict]]:
        reply = self.server.xreadgroup(self.group, self.consumer, {self.stream: "0" if pending else ">"},
                                       count=self.batch_size, block=None if pending else self.block_ms)
        return reply[0][1] if reply else []

    def store(self, entries: list[tuple[bytes, dict]]) -> None:
        """Write one batch in one transaction, then acknowledge it."""
        items, ids, bad = [], [], []
        for entry_id, fields in entries:
            ids.append(entry_id)
            if not fields:  # deleted from the stream while pending: nothing to store
                continue
            try:
                items.append(json.loads(fields[b"item"]))
            except (KeyError, ValueError) as error:
                bad.append((entry_id, fields, f"not an item: {error}"))
        if items:
            try:
                self.count(self.archive.save(items))
            except Exception:
                logger.exception("Batch of %d could not be stored; storing its items one by one", len(items))
                for item in items:
                    try:
                        self.count(self.archive.save([item]))
                    except Exception as error:  # noqa: BLE001 - kept for inspection, never lost silently
                        bad.append((None, {b"item": json.dumps(item).encode()}, repr(error)))
        pipe = self.server.pipeline(transaction=True)
        for entry_id, fields, error in bad:
            self.failed += 1
            logger.error("Item not stored (%s), kept in %s:failed", error, self.stream)
            pipe.xadd(self.stream + ":failed", {**fields, b"error": error.encode(), b"id": entry_id or b""})
        pipe.xack(self.stream, self.group, *ids)
        pipe.xdel(self.stream, *ids)
        pipe.execute()
        self.entries += len(entries)

    def count(self, counts) -> None:
        for name in ("new", "updated", "unchanged", "aliased"):
            setattr(self.totals, name, getattr(self.totals, name) + getattr(counts, name))

    def run(self, idle_exit: float | None = None) -> None:
        """Write until stopped, or until the stream brought nothing for ``idle_exit`` seconds."""
        claimed = self.claim_orphans()
        while not self.stopping:  # first what an earlier writer read and did not acknowledge
            entries = self.read(pending=True)
            if not entries:
                break
            self.redelivered += len(entries)
            self.store(entries)
        if self.redelivered or claimed:
            logger.info("Redelivered %d unacknowledged entries", self.redelivered)
        last = time.monotonic()
        while not self.stopping:
            entries = self.read(pending=False)
            if entries:
                self.store(entries)
                last = time.monotonic()
            elif self.entries != getattr(self, "refreshed_at", 0):  # the stream went quiet after writes
                self.refresh_analysis()
            if not entries and idle_exit is not None and time.monotonic() - last >= idle_exit:
                break

    def refresh_analysis(self) -> None:
        """Search index, stems, translations and Datasette metadata (:mod:`archiver.archive.explore`) after a burst."""
        from ..archive.explore import refresh_quietly

        refresh_quietly(self.archive.db, self.db)
        self.refreshed_at = self.entries

    def close(self) -> None:
        if self.entries != getattr(self, "refreshed_at", 0):
            self.refresh_analysis()
        total = self.archive.count()
        self.archive.close()
        t = self.totals
        logger.info("Ingested %d entries (%d redelivered, %d failed) into %s: %d new, %d updated, %d unchanged, "
                    "%d stored under another URL; %d articles in all", self.entries, self.redelivered, self.failed,
                    self.db, t.new, t.updated, t.unchanged, t.aliased, total)


def ingest_command(arguments) -> int:
    logging.basicConfig(level=arguments.log_level, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    url = arguments.redis_url or os.environ.get("REDIS_URL", "")
    if not url:
        print("archiver ingest: give --redis-url URL or set REDIS_URL", file=sys.stderr)
        return 2
    settings = cluster_settings(url)
    db = arguments.db or settings.get("ARCHIVE_DB")
    stream = arguments.stream or keys(settings)["stream"]
    batch = arguments.batch_size or settings.getint("ARCHIVE_BATCH_SIZE")
    ingester = Ingester(url, db, stream, group=arguments.group, consumer=arguments.consumer, batch_size=batch)

    def stop(signum, frame):  # finish the batch at hand, then leave
        logger.info("Signal %d: stopping after the current batch", signum)
        ingester.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("Ingesting %s (group %s, consumer %s) from %s into %s", stream, arguments.group, arguments.consumer,
                safe_redis_url(url), db)
    try:
        ingester.run(arguments.idle_exit)
    finally:
        ingester.close()
    return 0
