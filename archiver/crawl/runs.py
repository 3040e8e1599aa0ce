"""One crawl run of an archive: lock, ``crawl_runs`` row, crawl state, health checks, summary, exit code.

A Scrapy extension (``EXTENSIONS``). It opens the archive once for the whole
process, holds the archive's lock, records the run (:mod:`archiver.archive.run_log`),
and decides the exit code that ``scrapy crawl`` returns (see :mod:`archiver.commands.crawl`).
Other components get it with ``crawler.get_extension(ArchiveRun)`` once the crawl's
components exist (in ``from_crawler`` of a middleware or pipeline, or at ``spider_opened``),
and use its ``archive``, ``run_id``, ``db_path``, ``locked`` and ``state`` (the run's
:class:`~archiver.archive.crawl_state.CrawlState`); ``archive`` and ``state`` are ``None``
when another run holds the archive.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from scrapy import signals
from scrapy.exceptions import CloseSpider

from ..archive.crawl_state import CrawlState
from ..archive.lock import ArchiveLock, ArchiveLocked
from ..archive.run_log import RunLog
from ..archive.storage import Archive
from .workers import settle_collector

logger = logging.getLogger(__name__)

# Exit codes cron can act on (documented in the README).
EXIT_OK = 0
EXIT_FAILED = 3  # seeds unreachable, nothing fetched, unhandled errors
EXIT_DEGRADED = 4  # the site changed its layout, or no new article for too long
EXIT_LOCKED = 75  # another run holds the archive (EX_TEMPFAIL: try again later)

COVERAGE_FIELDS = ("title", "published", "text", "images")
FIELD_NAMES = {"title": "a title", "published": "a date", "text": "text", "images": "images"}
# Exit codes of the runs finished in this process, read by the crawl command.
FINISHED_RUNS: list["ArchiveRun"] = []


class ArchiveRun:
    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.db_path = settings.get("ARCHIVE_DB")
        self.coverage_drop = settings.getfloat("COVERAGE_DROP_THRESHOLD")
        self.coverage_min_articles = settings.getint("COVERAGE_MIN_ARTICLES")
        self.stale_days = settings.getfloat("DEGRADED_AFTER_DAYS_WITHOUT_NEW")
        self.quiet = not settings.getbool("LOG_ENABLED")
        self.started = time.monotonic()
        self.archive: Archive | None = None
        self.state: CrawlState | None = None
        self.run_log: RunLog | None = None
        self.run_id: int | None = None
        self.interrupted_run: int | None = None  # the last run, when it did not finish
        # The run's mode (archiver.crawl.incremental), chosen by the crawl's bookkeeping (archiver.crawl.bookkeeping).
        self.mode: str | None = None
        self.locked_by: str | None = None
        self.exit_code = EXIT_OK
        self.extracted = 0
        self.with_field: Counter = Counter()
        self.errors = ErrorLines()
        logging.getLogger().addHandler(self.errors)
        self.lock = ArchiveLock(self.db_path)
        try:
            self.lock.acquire()
        except ArchiveLocked as locked:
            self.locked_by = str(locked)
            self.exit_code = EXIT_LOCKED
            return
        self.archive = Archive(self.db_path)
        self.run_log = RunLog(self.archive)
        self.interrupted_run = self._close_dead_runs()
        self.run_id = self.run_log.open(os.getpid())
        self.state = CrawlState(self.archive, self.run_id)

    @classmethod
    def from_crawler(cls, crawler):
        run = cls(crawler)
        crawler.signals.connect(run.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(run.engine_started, signal=signals.engine_started)
        crawler.signals.connect(run.spider_closed, signal=signals.spider_closed)
        return run

    @property
    def locked(self) -> bool:
        return self.locked_by is not None

    def _close_dead_runs(self) -> int | None:
        """Runs still marked running died (we hold the lock): mark them interrupted.

        Returns the last run if it did not finish, so this one completes its work.
        """
        last = self.run_log.close_dead_runs()
        if last:
            logger.warning("The previous run (%d) did not finish (%s): this run completes its work", *last)
            return last[0]
        return None

    # -- during the run --------------------------------------------------

    def spider_opened(self, spider):
        if self.locked:
            message = f"Another crawl is running on this archive ({self.locked_by}); exiting."
            logger.error(message)
            raise CloseSpider("locked")
        self.run_log.record_seeds(self.run_id, getattr(spider, "seeds", []))

    def engine_started(self):
        if not self.locked:
            # Once every component has loaded what it keeps for the whole run (the bookkeeping reads the
            # archive's known URLs when the spider opens).
            settle_collector()

    def observe(self, item: dict) -> None:
        """Count an extracted article's fields, for the run's coverage."""
        self.extracted += 1
        for field in COVERAGE_FIELDS:
            if item.get(field):
                self.with_field[field] += 1

    # -- at the end --------------------------------------------------------

    def spider_closed(self, spider, reason):
        try:
            if not self.locked:
                self._finish(spider, reason)
        finally:
            logging.getLogger().removeHandler(self.errors)
            FINISHED_RUNS.append(self)
            self.lock.release()
            self._report()

    def _finish(self, spider, reason: str) -> None:
        if self.state is not None:
            self.state.flush()
            aliased = self.state.alias_redirects()
            if aliased:
                logger.info("%d redirect sources recorded as aliases of articles already archived", aliased)
        stats = self.crawler.stats.get_stats()
        row = self._counts(stats)
        status, failure = self._status(stats, reason)
        coverage = self._coverage()
        degraded = None if failure else self._degraded(coverage, row["articles_new"])
        self.exit_code = EXIT_FAILED if failure else EXIT_DEGRADED if degraded else EXIT_OK
        if degraded:
            logger.error("Degraded: %s", degraded)
        self.summary = (f"archiver: run {self.run_id} {status} in {time.monotonic() - self.started:.0f}s: "
                        f"{row['articles_new']} new, {row['articles_updated']} updated, "
                        f"{row['articles_unchanged']} unchanged, {row['articles_gone']} gone; "
                        f"{row['requests']} requests, {row['errors']} errors"
                        + (f"; FAILED: {failure}" if failure else "")
                        + (f"; DEGRADED: {degraded}" if degraded else "") + f"; exit {self.exit_code}")
        row.update(status=status, finish_reason=reason, coverage=json.dumps(coverage),
                   degraded=degraded, exit_code=self.exit_code, mode=self.mode)
        self.run_log.close(self.run_id, row)
        from ..archive.explore import refresh_quietly  # search, stems, translations, Datasette metadata (README)

        refresh_quietly(self.archive.db, self.db_path)
        self.archive.close()

    def _counts(self, stats: dict) -> dict:
        by_class = Counter()
        for key, value in stats.items():
            if key.startswith("downloader/response_status_count/"):
                by_class[key.rsplit("/", 1)[1][0]] += value
        dropped = {key.split("/", 1)[1]: value for key, value in stats.items() if key.startswith("archive/dropped/")}
        return {
            "requests": stats.get("downloader/request_count", 0),
            **{f"responses_{digit}xx": by_class.get(digit, 0) for digit in "2345"},
            "articles_new": stats.get("archive/new", 0),
            "articles_updated": stats.get("archive/updated", 0),
            "articles_unchanged": stats.get("archive/unchanged", 0) + stats.get("archiver/not_modified/article", 0),
            "articles_gone": stats.get("archiver/removals", 0),
            "errors": stats.get("log_count/ERROR", 0),
            "items_dropped": json.dumps(dropped),
            "warc_bytes": stats.get("archiver/warc/bytes", 0),
            "media_bytes": stats.get("archiver/media/bytes", 0),
        }

    def _status(self, stats: dict, reason: str) -> tuple[str, str | None]:
        """The run's status, and why it failed (``None`` when it did not)."""
        if reason in ("shutdown", "cancelled"):
            return "interrupted", None
        # The bookkeeping's errors count as the spider's (archiver.crawl.bookkeeping: its signal handlers).
        unhandled = stats.get("spider_exceptions/count", 0) + stats.get("archiver/unhandled_errors", 0)
        if unhandled:
            return "failed", f"{unhandled} unhandled errors in the spider"
        if not stats.get("response_received_count"):
            return "failed", "nothing fetched: the seeds are unreachable"
        if stats.get("archiver/seeds_failed", 0) >= stats.get("archiver/seeds", 1):
            return "failed", "every seed failed"
        if reason != "finished":
            return "failed", f"the crawl stopped: {reason}"
        return "finished", None

    def _coverage(self) -> dict:
        if not self.extracted:
            return {"articles": 0}
        return {"articles": self.extracted,
                **{field: round(self.with_field[field] / self.extracted, 3) for field in COVERAGE_FIELDS}}

    def _degraded(self, coverage: dict, new_articles: int) -> str | None:
        """A sharp drop of field coverage against earlier runs, or no new article for too long."""
        earlier = self.run_log.earlier_coverage(self.run_id)
        drop = coverage_drop(coverage, earlier, self.coverage_drop, self.coverage_min_articles)
        if drop:
            return drop
        if new_articles == 0 and self.stale_days >= 0:
            newest = self.run_log.newest_first_seen()
            if newest:
                age = datetime.now(timezone.utc) - datetime.fromisoformat(newest)
                if age > timedelta(days=self.stale_days):
                    return f"no new article for {age.days} days (since {newest[:10]})"
        return None

    def _report(self) -> None:
        """One summary line on stdout; with logging off (cron), the error lines too when the run failed."""
        if self.locked:
            print(f"archiver: another crawl holds {self.db_path} ({self.locked_by}); exit {self.exit_code}",
                  file=sys.stderr)
            return
        print(self.summary, flush=True)
        if self.quiet and self.exit_code not in (EXIT_OK,):
            for line in self.errors.lines[-50:]:
                print(line, file=sys.stderr)


def coverage_drop(current: dict, earlier: list[dict], threshold: float, min_articles: int) -> str | None:
    """Why ``current`` coverage is a sharp drop against the mean of ``earlier`` runs, or ``None``.

    Runs that extracted fewer than ``min_articles`` articles are too small to compare.
    """
    if current.get("articles", 0) < min_articles:
        return None
    earlier = [c for c in earlier if c.get("articles", 0) >= min_articles]
    if not earlier:
        return None
    for field in COVERAGE_FIELDS:
        before = sum(c[field] for c in earlier) / len(earlier)
        if before - current[field] > threshold:
            return (f"the share of articles with {FIELD_NAMES[field]} fell from {before:.0%} to "
                    f"{current[field]:.0%}: has the site changed its layout?")
    return None


class ErrorLines(logging.Handler):
    """Keeps the run's ERROR lines, to print them when a quiet run fails."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record):
        self.lines.append(self.format(record))
