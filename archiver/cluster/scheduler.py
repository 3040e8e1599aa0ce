"""The cluster's scheduler: scrapy-redis' shared queue and dupefilter, made reliable and cluster-aware.

scrapy-redis pops a request from the shared queue and forgets it: a worker
killed with requests in its downloader loses them for good (they are in the
dupefilter, so nobody fetches them again). Here a pop moves the request, in one
Lua script, from the shared queue into the worker's in-flight hash
(``<queue>:inflight:<worker>``); it leaves that hash once the engine has
finished with it (downloaded, parsed, its items in the item stream and its
links in the queue). Each worker renews a heartbeat key
(``<queue>:worker:<worker>``, expiring after ``CLUSTER_HEARTBEAT_SECONDS``);
the in-flight requests of a worker whose heartbeat expired are put back into
the queue by the first live worker that notices (again one Lua script, so
only one does). A request can thus be fetched twice (a worker died after
fetching it), never lost; storage is idempotent.

A worker closes when the whole cluster has had no work (shared queue empty,
no request in flight in any worker) for ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds:
an idle worker does not leave while others may still find new links.

Compatibility with Scrapy 2.19 (scrapy-redis 0.9.1): scrapy-redis' Scheduler
works as is through the engine's scheduler interface; its dupefilter must be
set as ``DUPEFILTER_CLASS`` (its ``Scheduler.from_settings`` would otherwise call
``from_settings`` on Scrapy's own dupefilter). Knowing when the engine is done
with a request needs the engine's in-progress set (``engine._slot.inprogress``,
internal; if a future Scrapy removes it, requests are acknowledged only when
the worker is idle, which is still safe). An idle worker asks the engine for
work through ``engine._slot.nextcall`` as soon as the shared queue has some,
instead of waiting for the engine's 5-second heartbeat.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import deque

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.misc import load_object
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from .worker import worker_run

logger = logging.getLogger(__name__)

# KEYS: queue, in-flight hash. Pop the best request and remember it as in flight, atomically.
POP_SCRIPT = """
local found = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #found == 0 then return false end
redis.call('ZREM', KEYS[1], found[1])
redis.call('HSET', KEYS[2], found[1], found[2])
return found[1]
"""
# KEYS: in-flight hash, heartbeat, queue. Requeue a dead worker's requests, atomically, once.
REQUEUE_SCRIPT = """
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do redis.call('ZADD', KEYS[3], entries[i + 1], entries[i]) end
redis.call('DEL', KEYS[1])
return #entries / 2
"""


def ignore(_answer) -> None:
    """The callback of a page requisite on a worker whose requisites are off: captured, nothing more."""


def worker_id() -> str:
    """This worker's name in the in-flight and heartbeat keys: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


class ReliablePriorityQueue(PriorityQueue):
    """scrapy-redis' priority queue (a sorted set), with per-worker in-flight hashes."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer)
        self.worker = worker_id()
        self.inflight_key = self.inflight_pattern(self.key) % self.worker
        self.heartbeat_key = self.heartbeat_pattern(self.key) % self.worker
        self._pop = server.register_script(POP_SCRIPT)
        self._requeue = server.register_script(REQUEUE_SCRIPT)
        self.taken: dict = {}  # request object -> its serialized form (the in-flight hash field)

    @staticmethod
    def inflight_pattern(key: str) -> str:
        return key.replace("%", "%%") + ":inflight:%s"

    @staticmethod
    def heartbeat_pattern(key: str) -> str:
        return key.replace("%", "%%") + ":worker:%s"

    def pop(self, timeout=0):
        data = self._pop(keys=[self.key, self.inflight_key])
        if data:
            request = self._decode_request(data)
            self.taken[request] = data
            return request
        return None

    def ack(self, requests) -> int:
        """The engine is done with these requests: forget them."""
        fields = [self.taken.pop(request) for request in requests if request in self.taken]
        if fields:
            self.server.hdel(self.inflight_key, *fields)
        return len(fields)

    def heartbeat(self, seconds: float) -> None:
        self.server.set(self.heartbeat_key, "1", px=int(seconds * 1000))

    def inflight_keys(self) -> list[str]:
        pattern = self.inflight_pattern(self.key) % "*"
        return [k.decode() if isinstance(k, bytes) else k for k in self.server.scan_iter(pattern, count=1000)]

    def requeue_dead(self) -> int:
        """Put back into the queue the in-flight requests of workers that stopped renewing their heartbeat."""
        requeued, prefix = 0, self.inflight_pattern(self.key) % ""
        for key in self.inflight_keys():
            worker = key[len(prefix):]
            if worker == self.worker:
                continue
            count = self._requeue(keys=[key, self.heartbeat_pattern(self.key) % worker, self.key])
            if count > 0:
                logger.warning("Worker %s is gone: %d of its requests put back into the queue", worker, count)
                requeued += count
        return requeued

    def others_in_flight(self) -> int:
        return sum(self.server.hlen(key) for key in self.inflight_keys() if key != self.inflight_key)

    def leave(self, clean: bool) -> None:
        """This worker stops: drop the heartbeat (peers requeue what is left at once); ``clean``: nothing is left."""
        if clean:
            self.server.delete(self.inflight_key)
        self.server.delete(self.heartbeat_key)


class ClusterScheduler(Scheduler):
    """scrapy-redis' scheduler, with acknowledged requests, dead-worker recovery and a cluster-wide idle close."""

    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        settings = crawler.settings
        scheduler.persist = True  # a worker never clears what the others share
        scheduler.max_idle = settings.getfloat("MAX_IDLE_TIME_BEFORE_CLOSE")
        scheduler.heartbeat_seconds = max(1.0, settings.getfloat("CLUSTER_HEARTBEAT_SECONDS"))
        scheduler.idle_since = None
        scheduler.last_requeue = time.monotonic()
        scheduler.loop = None
        scheduler.warned_no_inprogress = False
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider):
        self.attach(spider)
        self.queue.heartbeat(self.heartbeat_seconds)
        self.queue.requeue_dead()
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(min(1.0, self.heartbeat_seconds / 3), now=False)
        spider.logger.info("Cluster worker %s: queue %s (%d requests), dupefilter %s", self.queue.worker,
                           self.queue.key, len(self.queue), self.df.key)

    def attach(self, spider):
        """scrapy-redis' open(), without its call to the deprecated Spider.log(): the queue and the dupefilter."""
        self.spider = spider
        self.local = deque()  # requests only this worker can run (see shareable())
        self.queue = load_object(self.queue_cls)(server=self.server, spider=spider,
                                                 key=self.queue_key % {"spider": spider.name},
                                                 serializer=self.serializer)
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if self.flush_on_start:
            self.flush()

    def close(self, reason):
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.ack_finished(flush=True)
        run = worker_run(self.crawler)
        if run is not None:  # its last records, state and counts, before the writer may see the cluster idle
            run.leave(reason)
        clean = not self.queue.taken
        self.queue.leave(clean)
        if not clean:
            logger.warning("Closing (%s) with %d requests unfinished: left for the other workers",
                           reason, len(self.queue.taken))

    # scrapy-redis' enqueue_request() and next_request(), without the ``spider``
    # argument to StatsCollector.inc_value() that Scrapy 2.19 deprecates.

    def enqueue_request(self, request):
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if request.meta.get("requisite") and not self.shareable(request):
            # A page requisite: shared like a page (a worker that dies leaves none unfetched), its callbacks, the
            # requisites middleware's, re-attached by the worker that takes it (attach_callbacks).
            request = request.replace(callback=None, errback=None)
        elif not self.shareable(request):
            self.local.append(request)
            if self.stats:
                self.stats.inc_value("scheduler/enqueued/local")
            return True
        self.queue.push(request)
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def shareable(self, request) -> bool:
        """Whether another worker can run ``request``: its callbacks are the spider's (scrapy-redis stores a
        callback by its name on the spider). A component's own requests (answered to the component) stay with
        this worker, still through the shared dupefilter; page requisites are shared (enqueue_request)."""
        return all(callback is None or isinstance(callback, str) or getattr(callback, "__self__", None) is self.spider
                   for callback in (request.callback, request.errback))

    def next_request(self):
        self.ack_finished()
        if self.local:
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/local")
            return self.local.popleft()
        request = self.queue.pop()
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        if request is not None and request.meta.get("requisite") and request.callback is None:
            self.attach_callbacks(request)
        return request

    def attach_callbacks(self, request) -> None:
        """A page requisite's callbacks are this worker's requisites middleware's (archiver.capture.requisites);
        without one (requisites off here) its answer is captured and nothing else."""
        from ..capture.requisites import RequisitesMiddleware

        middleware = self.crawler.get_spider_middleware(RequisitesMiddleware)
        request.callback = middleware.fetched if middleware is not None else ignore
        request.errback = middleware.failed if middleware is not None else ignore

    def __len__(self):
        return len(self.queue) + len(self.local)

    def has_pending_requests(self):
        return len(self) > 0

    # -- bookkeeping -----------------------------------------------------------

    def in_progress(self):
        """The requests the engine is still working on, or None if this Scrapy does not tell.

        A request leaves the engine's in-progress set when its response reaches the scraper; until its
        items have been through the pipelines (into the stream) it is still in the scraper's active set.
        """
        engine = self.crawler.engine
        inprogress = getattr(getattr(engine, "_slot", None), "inprogress", None)
        scraping = getattr(getattr(getattr(engine, "scraper", None), "slot", None), "active", None)
        if (inprogress is None or scraping is None) and not self.warned_no_inprogress:
            self.warned_no_inprogress = True
            logger.warning("This Scrapy does not expose the requests in progress: requests are acknowledged "
                           "when idle only")
        if inprogress is None or scraping is None:
            return None
        return inprogress | scraping

    def ack_finished(self, flush: bool = False) -> None:
        """Acknowledge the requests the engine is done with, once the rows of their WARC records and their
        crawl state are in the stream (:mod:`archiver.cluster.worker`): sent now with ``flush``, else
        acknowledged at the next tick."""
        if not self.queue.taken:
            return
        run = worker_run(self.crawler)
        if run is not None and run.pending():
            if not flush:
                return
            run.send()
        inprogress = self.in_progress()
        if inprogress is None:
            if self.crawler.engine is not None and self.crawler.engine.spider_is_idle():
                self.queue.ack(list(self.queue.taken))
            return
        self.queue.ack([request for request in self.queue.taken if request not in inprogress])

    def tick(self) -> None:
        """Every second or so: heartbeat, acknowledgements, wake the engine when the shared queue has work."""
        try:
            self.queue.heartbeat(self.heartbeat_seconds)
            self.ack_finished(flush=True)
            now = time.monotonic()
            if now - self.last_requeue >= self.heartbeat_seconds:
                self.last_requeue = now
                self.queue.requeue_dead()
            if len(self.queue) or self.local or self.crawler.engine.spider_is_idle():
                slot = getattr(self.crawler.engine, "_slot", None)
                nextcall = getattr(slot, "nextcall", None)
                if nextcall is not None:  # take work now, or reconsider closing
                    nextcall.schedule()
        except Exception:  # noqa: BLE001 - a Redis hiccup must not stop the loop for good
            logger.exception("Cluster bookkeeping failed; retrying")

    def spider_idle(self):
        """Close only when the whole cluster has had nothing to do for MAX_IDLE_TIME_BEFORE_CLOSE seconds."""
        self.ack_finished(flush=True)
        self.queue.requeue_dead()
        now = time.monotonic()
        if len(self.queue) or self.local or self.queue.others_in_flight():
            self.idle_since = None
            raise DontCloseSpider
        if self.idle_since is None:
            self.idle_since = now
            logger.info("Cluster idle: no queued or in-flight request; closing after %gs without work",
                        self.max_idle)
        if self.max_idle <= 0 or now - self.idle_since < self.max_idle:
            raise DontCloseSpider


class ClusterStartMiddleware:
    """Spider middleware of cluster mode: the start requests of a round are made once, by its first worker.

    ``archiver seed`` pushes the seeds. The first worker of the round (the one that claims
    ``<spider>:round:starter``) also runs the spider's ``start()`` as one process does, which on an
    incremental round adds the section listings and revisits earlier rounds found; they go into the shared
    queue through the shared dupefilter (the seeds are not queued twice). The other workers only take what
    ``start()`` would have read, the bookkeeping's knowledge of earlier rounds, for their spider to navigate by.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_start(self, start):
        if self.starts_round():
            logger.info("Cluster mode: this worker starts the round (the seeds, and the sections and revisits "
                        "earlier rounds found, into the shared queue)")
            async for element in start:
                yield element
            return
        from ..crawl.bookkeeping import CrawlBookkeeping

        bookkeeping = self.crawler.get_spider_middleware(CrawlBookkeeping)
        if bookkeeping is not None:  # what start() would have taken (archiver.spiders.news)
            self.crawler.spider.knowledge = bookkeeping.knowledge
        logger.info("Cluster mode: seeds are not crawled by this worker (push them once with `archiver seed`)")

    def starts_round(self) -> bool:
        from scrapy_redis.connection import get_redis_from_settings

        from .rounds import ROUND_KEY

        key = ROUND_KEY % {"spider": self.crawler.spider.name} + ":starter"
        return bool(get_redis_from_settings(self.crawler.settings).set(key, worker_id(), nx=True))
