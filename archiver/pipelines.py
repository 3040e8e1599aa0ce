"""Item pipelines: validation, then the SQLite archive."""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from .storage import Archive, SaveCounts

logger = logging.getLogger(__name__)


class ValidationPipeline:
    """Drop what is not an archivable article, saying why; flag articles without a date."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item):
        adapter = ItemAdapter(item)
        for required in ("url", "title", "text"):
            if not adapter.get(required):
                self.stats.inc_value(f"archive/dropped/no_{required}")
                raise DropItem(f"no {required}: {adapter.get('url')}")
        if not adapter.get("published"):
            self.stats.inc_value("archive/date_missing")
            logger.warning("No date found, kept and flagged (date_missing=1): %s", adapter["url"])
        return item


class ArchivePipeline:
    """Write articles to the SQLite archive (``ARCHIVE_DB``) in batched transactions."""

    def __init__(self, path: str, batch_size: int, stats):
        self.path, self.batch_size, self.stats = path, max(1, batch_size), stats
        self.archive: Archive | None = None
        self.pending: list[dict] = []
        self.totals = SaveCounts()

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(settings.get("ARCHIVE_DB"), settings.getint("ARCHIVE_BATCH_SIZE"), crawler.stats)

    def open_spider(self):
        self.archive = Archive(self.path)
        logger.info("Archive: %s (%d articles)", self.path, self.archive.count())

    def process_item(self, item):
        self.pending.append(ItemAdapter(item).asdict())
        if len(self.pending) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.pending:
            return
        counts = self.archive.save(self.pending)
        self.pending = []
        for name in ("new", "updated", "unchanged", "aliased"):
            value = getattr(counts, name)
            setattr(self.totals, name, getattr(self.totals, name) + value)
            if value:
                self.stats.inc_value(f"archive/{name}", value)

    def close_spider(self):
        self.flush()
        total = self.archive.count()
        self.archive.close()
        logger.info("Archive %s: %d new, %d updated, %d unchanged, %d stored under another URL; %d articles in all",
                    self.path, self.totals.new, self.totals.updated, self.totals.unchanged, self.totals.aliased, total)
