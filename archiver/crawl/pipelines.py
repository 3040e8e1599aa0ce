"""Item pipelines: validation, then the SQLite archive."""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured

from ..archive.storage import SaveCounts
from .item_rows import item_row, missing_field
from .runs import ArchiveRun, is_write_error

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
        required = missing_field(adapter)
        if required is not None:
            self.stats.inc_value(f"archive/dropped/no_{required}")
            raise DropItem(f"no {required}: {adapter.get('url')}")
        if not adapter.get("published"):
            self.stats.inc_value("archive/date_missing")
            logger.warning("No date found, kept and flagged (date_missing=1): %s", adapter["url"])
        return item


class ArchivePipeline:
    """Write articles to the archive (``ARCHIVE_DB``) in batched transactions.

    The archive is the run's (:mod:`archiver.crawl.runs`): each batch is written in
    one transaction together with the crawl state that led to it, once the WARC records
    and ``captures`` rows its articles point at are on disk (the run's capture, made durable
    first). A write error stops the run (:meth:`~archiver.crawl.runs.ArchiveRun.write_failed`):
    the batch, and every article after it, is left to the next run.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.batch_size = max(1, crawler.settings.getint("ARCHIVE_BATCH_SIZE"))
        self.stats = crawler.stats
        self.run = None
        self.pending: list[dict] = []
        self.totals = SaveCounts()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        self.run = self.crawler.get_extension(ArchiveRun)
        if self.run is None:
            raise NotConfigured("ArchivePipeline needs the archiver.crawl.runs.ArchiveRun extension")
        if self.run.archive is not None:
            logger.info("Archive: %s (%d articles)", self.run.db_path, self.run.archive.count())

    def process_item(self, item):
        if self.run is None or self.run.archive is None:
            return item  # locked out: nothing is written
        if self.run.write_failure:
            self.stats.inc_value("archive/dropped/write_failed")
            raise DropItem(f"not archived, the run stops ({self.run.write_failure}): {ItemAdapter(item).get('url')}",
                           log_level="DEBUG")
        row = item_row(item)
        self.run.observe(row)
        self.pending.append(row)
        if len(self.pending) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        try:
            self.run.sync_captures()  # the records these articles point at, before the articles
            counts = self.run.state.save_articles(batch)
        except Exception as error:
            if not is_write_error(error):
                raise
            self.stats.inc_value("archive/dropped/write_failed", len(batch))
            self.run.write_failed(error)
            return
        for name in ("new", "updated", "unchanged", "aliased"):
            value = getattr(counts, name)
            setattr(self.totals, name, getattr(self.totals, name) + value)
            if value:
                self.stats.inc_value(f"archive/{name}", value)

    def close_spider(self):
        if self.run is None or self.run.archive is None:
            return
        self.flush()
        logger.info("Archive %s: %d new, %d updated, %d unchanged, %d stored under another URL; %d articles in all",
                    self.run.db_path, self.totals.new, self.totals.updated, self.totals.unchanged,
                    self.totals.aliased, self.run.archive.count())


class OncePerRunPipeline:
    """One item per article and run, for feed exports (``-O items.jsonl``).

    An article fetched twice in a run (directly, and again through a redirect
    chain) is archived once with every URL that led to it; the second item
    stops here, after the archive has recorded those URLs.
    """

    def __init__(self, stats):
        self.stats = stats
        self.emitted: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item):
        url = ItemAdapter(item).get("url")
        if url in self.emitted:
            self.stats.inc_value("archive/dropped/fetched_twice_in_run")
            raise DropItem(f"already archived in this run: {url}", log_level="DEBUG")
        self.emitted.add(url)
        return item
