"""One crawl run of an archive: lock, ``crawl_runs`` row, crawl state, health checks, summary, exit code.

A Scrapy extension (``EXTENSIONS``). It opens the archive once for the whole
process, holds the archive's lock, records the run (:mod:`archiver.archive.run_log`),
and decides the exit code that ``scrapy crawl`` returns (see :mod:`archiver.commands.crawl`).
Other components get it with ``crawler.get_extension(ArchiveRun)`` once the crawl's
components exist (in ``from_crawler`` of a middleware or pipeline, or at ``spider_opened``),
and use its ``archive``, ``run_id``, ``db_path``, ``locked`` and ``state`` (the run's
:class:`~archiver.archive.crawl_state.CrawlState`); ``archive`` and ``state`` are ``None``
when another run holds the archive.

A write that fails (a full disk, an I/O error: :func:`is_write_error`) fails the run: the component
that met it calls :meth:`ArchiveRun.write_failed`, which stops the crawl at once; the run ends
``failed`` with exit code 74 and says so in one line on stderr, even with ``--nolog``. A write error
logged by any other component (a signal handler's, say) does the same.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import deferred_from_coro

from ..archive.crawl_state import CrawlState
from ..archive.lock import ArchiveLock, ArchiveLocked
from ..archive.run_log import RunLog
from ..archive.storage import Archive
from . import oneline
from .workers import settle_collector

logger = logging.getLogger(__name__)

# Exit codes cron can act on (documented in the README).
EXIT_OK = 0
EXIT_FAILED = 3  # seeds unreachable, nothing fetched, unhandled errors
EXIT_DEGRADED = 4  # the site changed its layout, or no new article for too long
EXIT_IOERR = 74  # a write failed: disk full, I/O error (EX_IOERR); the next run completes the archive
EXIT_LOCKED = 75  # another run holds the archive (EX_TEMPFAIL: try again later)
WRITE_ERROR = "write_error"  # the reason the crawl is closed with when a write fails

# What SQLite says when it cannot write: SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL (primary result codes).
SQLITE_WRITE_ERRORS = (8, 10, 13)
# Errors that say the disk failed, whoever logged them.
DISK_ERRNOS = (errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EROFS, errno.EFBIG)

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
        self.write_failure: str | None = None  # "cannot write PATH: REASON", once a write failed
        self.capture = None  # the run's WARC capture (archiver.capture.warc), when it has one
        self.closing = False
        self.dead_runs: list[int] = []  # runs after the last finished one that died or failed
        self.failure: str | None = None  # why the run failed, once it has
        self.errors = ErrorLines(self._logged_error, oneline.tracebacks_wanted(settings))
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
        self.dead_runs = self.run_log.unfinished_runs()
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

    def attach_capture(self, capture) -> None:
        """The run's WARC capture: made durable before each batch of rows that point into it is committed
        (:meth:`sync_captures`), finished before the run's summary (its ``finish()``)."""
        self.capture = capture

    def sync_captures(self) -> None:
        """Every capture written so far on disk, with its ``captures`` row: called before articles that point
        at them are committed. Raises the write error, if one happens."""
        if self.capture is not None:
            self.capture.make_durable()

    def write_failed(self, error: Exception, path=None) -> None:
        """A write failed (``error``, on ``path``: by default the file the error names, else the archive):
        the crawl stops now and the run fails with exit 74. The first failure is the one reported."""
        if self.write_failure is not None:
            return
        path = path or getattr(error, "filename", None) or self.db_path
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        self.write_failure = f"cannot write {path}: {reason}"
        logger.error("Cannot write %s: %s; the run stops (the next run completes the archive)", path, reason)
        engine = getattr(self.crawler, "engine", None)
        if not self.closing and engine is not None and engine.spider is not None:
            deferred_from_coro(_close_engine(engine))

    def _logged_error(self, error: BaseException) -> None:
        """An error another component logged: a failed write fails the run as one met here does."""
        if is_disk_failure(error):
            self.write_failed(error)

    def _guarded(self, write) -> bool:
        """Call ``write()``; a write error fails the run (see :meth:`write_failed`). True if it succeeded."""
        try:
            write()
            return True
        except Exception as error:
            if not is_write_error(error):
                raise
            self.write_failed(error)
            return False

    def spider_opened(self, spider):
        if self.locked:
            message = f"Another crawl is running on this archive ({self.locked_by}); exiting."
            logger.error(message)
            raise CloseSpider("locked")
        self.run_log.record_seeds(self.run_id, getattr(spider, "seeds", []))

    def engine_started(self):
        if self.write_failure:  # a write failed before the crawl could be stopped (checking the archive)
            deferred_from_coro(_close_engine(self.crawler.engine))
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
        self.closing = True
        try:
            if not self.locked:
                self._finish(spider, reason)
        finally:
            logging.getLogger().removeHandler(self.errors)
            FINISHED_RUNS.append(self)
            self.lock.release()
            self._report()

    def _finish(self, spider, reason: str) -> None:
        try:
            # Every write of the run before its summary: a failure is told there, never logged after it.
            if self.capture is not None and self.write_failure is None:
                self._guarded(self.capture.finish)
            if self.state is not None and self.write_failure is None:
                self._guarded(self._last_state)
            row = self._conclude(reason)
            if self._guarded(lambda: self.run_log.close(self.run_id, row)) and self.write_failure is None:
                from ..archive.explore import refresh_quietly  # search, stems, translations, Datasette metadata

                refresh_quietly(self.archive.db, self.db_path)  # a write error it logs fails the run too
            if self.write_failure and row["status"] != "failed":
                row = self._conclude(reason)
                self._guarded(lambda: self.run_log.close(self.run_id, row))
        finally:
            self.archive.close()

    def _last_state(self) -> None:
        self.state.flush()
        aliased = self.state.alias_redirects()
        if aliased:
            logger.info("%d redirect sources recorded as aliases of articles already archived", aliased)
        named = self.state.name_sections()  # titles from the listings read, for sections no menu names
        if named:
            logger.info("%d articles took their section's title from its listing page", named)

    def _conclude(self, reason: str) -> dict:
        """The run's status, exit code and summary line; returns its ``crawl_runs`` row."""
        stats = self.crawler.stats.get_stats()
        row = self._counts(stats)
        status, failure = self._status(stats, reason)
        self.failure = oneline.failure_hint(failure, stats) if failure else None
        coverage = self._coverage()
        degraded = None if failure else self._degraded(coverage, row["articles_new"])
        self.exit_code = EXIT_IOERR if self.write_failure else EXIT_FAILED if failure else \
            EXIT_DEGRADED if degraded else EXIT_OK
        if degraded:
            logger.error("Degraded: %s", degraded)
        self.summary = (f"archiver: run {self.run_id} {status} in {time.monotonic() - self.started:.0f}s: "
                        f"{row['articles_new']} new, {row['articles_updated']} updated, "
                        f"{row['articles_unchanged']} unchanged, {row['articles_gone']} gone, "
                        f"{row['articles_restored']} re-stored under another URL, "
                        f"{row['pages_refetched']} fetched twice; "
                        f"{row['requests']} requests, {row['errors']} errors"
                        + (f"; FAILED: {failure}" if failure else "")
                        + (f"; DEGRADED: {degraded}" if degraded else "") + found_only(stats)
                        + f"; exit {self.exit_code}")
        row.update(status=status, finish_reason=reason, coverage=json.dumps(coverage),
                   degraded=degraded, exit_code=self.exit_code, mode=self.mode)
        return row

    def _counts(self, stats: dict) -> dict:
        by_class = Counter()
        for key, value in stats.items():
            if key.startswith("downloader/response_status_count/"):
                by_class[key.rsplit("/", 1)[1][0]] += value
        dropped = {key.split("/", 1)[1]: value for key, value in stats.items() if key.startswith("archive/dropped/")}
        # An article fetched twice in the run (directly, and through a redirect) is saved twice, the second
        # time unchanged: a page fetched twice, not an article found unchanged.
        refetched = stats.get("archive/dropped/fetched_twice_in_run", 0)
        unchanged = stats.get("archive/unchanged", 0) + stats.get("archiver/not_modified/article", 0)
        return {
            "requests": stats.get("downloader/request_count", 0),
            **{f"responses_{digit}xx": by_class.get(digit, 0) for digit in "2345"},
            "articles_new": stats.get("archive/new", 0),
            "articles_updated": stats.get("archive/updated", 0),
            "articles_unchanged": max(0, unchanged - refetched),
            "articles_gone": stats.get("archiver/removals", 0),
            "articles_restored": stats.get("archive/aliased", 0),
            "pages_refetched": refetched,
            "errors": stats.get("log_count/ERROR", 0),
            "items_dropped": json.dumps(dropped),
            "warc_bytes": stats.get("archiver/warc/bytes", 0),
            "media_bytes": stats.get("archiver/media/bytes", 0),
        }

    def _status(self, stats: dict, reason: str) -> tuple[str, str | None]:
        """The run's status, and why it failed (``None`` when it did not)."""
        if self.write_failure:
            return "failed", self.write_failure
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

    def failure_line(self) -> str | None:
        """Why the run failed and what to do, in one line: the crawl command prints it last, on stderr (a failed
        write has been told already, see :meth:`_report`)."""
        if self.failure is None or self.write_failure:
            return None
        return f"archiver: run {self.run_id} failed: {self.failure}; exit {self.exit_code}"

    def _report(self) -> None:
        """One summary line on stdout; a failed write in one line on stderr; with logging off (cron), the error
        lines too (one line each) when the run failed otherwise."""
        if self.locked:
            print(f"archiver: another crawl holds {self.db_path} ({self.locked_by}); exit {self.exit_code}",
                  file=sys.stderr)
            return
        print(self.summary, flush=True)
        if self.write_failure:
            print(f"archiver: run {self.run_id} failed: {self.write_failure}; exit {self.exit_code}", file=sys.stderr,
                  flush=True)
        elif self.quiet and self.exit_code not in (EXIT_OK,):
            for line in self.errors.lines[-50:]:
                print(line, file=sys.stderr)


def found_only(stats: dict) -> str:
    """The summary's count of articles no link of the run led to (spiders/discovery.py), when there are any."""
    sitemap, feed = stats.get("archiver/discovery/sitemap_only", 0), stats.get("archiver/discovery/feed_only", 0)
    return f"; {sitemap} found only through sitemaps, {feed} only through feeds" if sitemap or feed else ""


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


def is_write_error(error: BaseException) -> bool:
    """A write the archive needed failed: any ``OSError`` where the archive's files are written, or SQLite
    unable to write (disk full, I/O error, read-only)."""
    if isinstance(error, OSError):
        return True
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(error, sqlite3.Error) and code is not None and code & 0xFF in SQLITE_WRITE_ERRORS


def is_disk_failure(error: BaseException) -> bool:
    """An error that says the disk failed (full, I/O error, read-only), whoever met it: not a network error."""
    if isinstance(error, OSError):
        return error.errno in DISK_ERRNOS
    return is_write_error(error)


async def _close_engine(engine) -> None:
    try:
        await engine.close_spider_async(reason=WRITE_ERROR)
    except RuntimeError:  # closed already
        pass


class ErrorLines(logging.Handler):
    """Keeps the run's ERROR lines, to print them when a quiet run fails; hands the error of each to
    ``on_error``. One line each, unless tracebacks are wanted."""

    def __init__(self, on_error, tracebacks: bool = False):
        super().__init__(level=logging.ERROR)
        self.lines: list[str] = []
        self.on_error = on_error
        formatter = logging.Formatter if tracebacks else oneline.OneLineFormatter
        self.setFormatter(formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record):
        self.lines.append(self.format(record))
        if record.exc_info and isinstance(record.exc_info, tuple) and record.exc_info[1] is not None:
            self.on_error(record.exc_info[1])
