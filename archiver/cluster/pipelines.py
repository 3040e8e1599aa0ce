"""Cluster mode's item pipeline: items go to a Redis Stream, ``archiver ingest`` writes them to SQLite."""

from __future__ import annotations

import json
import logging

from itemadapter import ItemAdapter
from scrapy_redis.connection import get_redis_from_settings

from .worker import worker_run

logger = logging.getLogger(__name__)


class RedisStreamPipeline:
    """Replaces ArchivePipeline in cluster mode: one XADD per item (``{"item": <JSON of the item dict>}``).

    The XADD happens inside ``process_item``, before the engine considers the
    response done, so a request leaves its worker's in-flight hash only once
    its items are safely in the stream. Workers never open the SQLite archive.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.server = get_redis_from_settings(crawler.settings)
        self.stats = crawler.stats
        self.key = ""

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        self.key = self.crawler.settings.get("CLUSTER_ITEMS_STREAM") % {"spider": self.crawler.spider.name}
        logger.info("Items go to the Redis stream %s (archiver ingest writes them to the archive)", self.key)

    def process_item(self, item):
        run = worker_run(self.crawler)
        if run is not None:  # what the item depends on goes first: its records' rows, its page's state
            run.send()
        data = json.dumps(ItemAdapter(item).asdict(), ensure_ascii=False)
        self.server.xadd(self.key, {"item": data})
        self.stats.inc_value("archive/streamed")
        return item
