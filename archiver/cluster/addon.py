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
  (:mod:`archiver.cluster.pipelines`); ``archiver ingest`` is the one writer
  (:mod:`archiver.cluster.ingest`);
- WARC files and media written by each worker, their locations sent through the
  stream for the writer to index (:mod:`archiver.cluster.capture`);
- safe per-worker politeness defaults, and one host paced across the cluster
  (:mod:`archiver.cluster.politeness`).

Commands (their parsers are in :mod:`archiver.cli`): ``archiver seed`` and ``archiver ingest``.
"""

from __future__ import annotations

import logging
import os
import sys
from urllib.parse import urlsplit, urlunsplit

logger = logging.getLogger(__name__)

# Settings applied in cluster mode with "spider" priority: they win over
# archiver/settings.py, and anything given with -s wins over them.
CLUSTER_SETTINGS = {
    "SCHEDULER": "archiver.cluster.scheduler.ClusterScheduler",
    "SCHEDULER_QUEUE_CLASS": "archiver.cluster.scheduler.ReliablePriorityQueue",
    "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
    "SCHEDULER_PERSIST": True,  # a worker leaving never clears the shared queue
    # Per worker; CLUSTER_HOST_DELAY (default: DOWNLOAD_DELAY) paces a host across the cluster.
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
    # Seconds between two requests to one host from the whole cluster; empty: DOWNLOAD_DELAY; 0: off.
    "CLUSTER_HOST_DELAY": "",
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

    from .capture import WorkerMediaPipeline, WorkerWarcCapture
    from .politeness import ClusterPoliteness
    from .pipelines import RedisStreamPipeline
    from .scheduler import ClusterStartMiddleware
    from ..capture.media import MediaPipeline
    from ..capture.warc import WarcCaptureMiddleware
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
    # One host's requests paced across the whole cluster, closest to the downloader (archiver.cluster.politeness).
    settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", ClusterPoliteness, 990)
    # Capture on the worker, indexing at the writer (archiver.cluster.capture).
    for setting, single, worker in (("DOWNLOADER_MIDDLEWARES", WarcCaptureMiddleware, WorkerWarcCapture),
                                    ("ITEM_PIPELINES", MediaPipeline, WorkerMediaPipeline)):
        try:
            settings.replace_in_component_priority_dict(setting, single, worker)
        except KeyError:  # not configured (a test's own settings): nothing to replace
            pass
    # The run extension opens (and locks) the SQLite archive: the writer's business. A worker's run has none.
    from ..crawl.runs import ArchiveRun
    from .worker import WorkerRun

    extensions = settings.getdict("EXTENSIONS")
    if any(load_object(name) is ArchiveRun for name, order in extensions.items() if order is not None):
        settings.replace_in_component_priority_dict("EXTENSIONS", ArchiveRun, WorkerRun)
    else:
        settings.set_in_component_priority_dict("EXTENSIONS", WorkerRun, 100)
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

    from .rounds import ROUND_KEY

    name = {"spider": spider_name}
    queue = settings.get("SCHEDULER_QUEUE_KEY") or defaults.SCHEDULER_QUEUE_KEY
    dupefilter = settings.get("SCHEDULER_DUPEFILTER_KEY") or defaults.SCHEDULER_DUPEFILTER_KEY
    return {"queue": queue % name, "dupefilter": dupefilter % name, "round": ROUND_KEY % name,
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

    from .rounds import start_round

    if start_round(server, keys(settings, spider.name)["round"], list(getattr(spider, "seeds", []) or []), reset):
        print("A new crawl round starts (archiver ingest records it in crawl_runs)")

    async def start_requests():
        return [request async for request in spider.start()]

    from .state import WorkerState

    state = WorkerState(server, keys(settings, spider.name)["stream"])
    pushed = seen = 0
    for request in asyncio.run(start_requests()):
        conditional(request, state)
        if scheduler.enqueue_request(request):
            pushed += 1
        else:
            seen += 1
    return pushed, seen


def conditional(request, state) -> None:
    """After a round, a seed is asked for with the validators it answered with (as one process's incremental run
    asks): an unchanged listing answers 304 and its further pages are not read."""
    if not state.known_articles():
        return
    etag, last_modified = state.validators(request.url)
    if etag:
        request.headers["If-None-Match"] = etag
    if last_modified:
        request.headers["If-Modified-Since"] = last_modified


def seed_command(arguments) -> int:
    url = arguments.redis_url or os.environ.get("REDIS_URL", "")
    if not url:
        print("archiver seed: give --redis-url URL or set REDIS_URL", file=sys.stderr)
        return 2
    pushed, seen = seed(url, arguments.urls, arguments.profile, arguments.reset)
    print(f"Pushed {pushed} seed request(s) into the shared queue of {safe_redis_url(url)}"
          + (f"; {seen} already seen in this crawl round (use --reset to start a new round)" if seen else ""))
    return 0

