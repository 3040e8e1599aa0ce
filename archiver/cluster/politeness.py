"""Politeness across the cluster: one host gets at most one request every ``CLUSTER_HOST_DELAY`` seconds from
all the workers together.

Scrapy's download delay and per-host concurrency are per process: N workers would make N times the requests a
single process makes to one site. :class:`ClusterPoliteness`, a downloader middleware closest to the
downloader, reserves each request's turn in Redis before it is sent (one Lua script: the host's next free
moment, on Redis' own clock, moved on by the delay) and waits for it. Turns are taken in arrival order; with
``CONCURRENT_REQUESTS_PER_DOMAIN=1`` a worker holds at most one turn per host, so a turn is never more than a
delay per worker away. Media, robots.txt and page requisites wait their turn like pages.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)

# KEYS: the host's key. ARGV: the delay (ms). Returns how long to wait (ms) before sending.
RESERVE_SCRIPT = """
local now = redis.call('TIME')
local t = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(t, free)
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], at + delay, 'PX', at - t + delay + 1000)
return at - t
"""


def host_delay(settings) -> float:
    """``CLUSTER_HOST_DELAY``, or the download delay when it is not set; 0: off."""
    configured = settings.get("CLUSTER_HOST_DELAY")
    if configured in (None, ""):
        return max(0.0, settings.getfloat("DOWNLOAD_DELAY"))
    return max(0.0, float(configured))


class Turns:
    """Each host's turns, in Redis (``<prefix>:host:<host>``)."""

    def __init__(self, server, prefix: str, delay: float):
        self.server, self.prefix = server, prefix
        self.delay_ms = int(round(delay * 1000))
        self._reserve = server.register_script(RESERVE_SCRIPT)

    def reserve(self, host: str) -> float:
        """Seconds to wait before this request to ``host`` may go."""
        return int(self._reserve(keys=[f"{self.prefix}:host:{host}"], args=[self.delay_ms])) / 1000


class ClusterPoliteness:
    """Downloader middleware of cluster mode (see the module's docstring)."""

    def __init__(self, crawler):
        delay = host_delay(crawler.settings)
        if delay <= 0:
            raise NotConfigured("no delay between requests to a host (CLUSTER_HOST_DELAY, DOWNLOAD_DELAY)")
        from scrapy_redis.connection import get_redis_from_settings

        prefix = crawler.settings.get("CLUSTER_ITEMS_STREAM") % {"spider": crawler.spidercls.name}
        self.turns = Turns(get_redis_from_settings(crawler.settings), prefix.rsplit(":", 1)[0] + ":politeness",
                           delay)
        self.stats = crawler.stats
        logger.info("Cluster politeness: one request every %gs per host across the cluster", delay)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        host = urlsplit(request.url).hostname or ""
        wait = self.turns.reserve(host)
        if wait > 0:
            self.stats.inc_value("archiver/cluster/politeness_waits")
            await asyncio.sleep(wait)
        return None
