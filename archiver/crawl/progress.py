"""Live status lines at the bottom of an interactive crawl's terminal (rich), in place of Scrapy's LogStats line.

Only when stderr is a terminal and logging is on (not ``--nolog``), and ``PROGRESS_ENABLED`` is on: off a
terminal (cron, a pipe, a log file) nothing changes, and rich is not even imported. Log lines still print,
above the status lines. They show the requests done and queued, the articles new / updated / unchanged,
the listing pages read, the media and page requisites fetched, the errors, the current rate, and what is
known of what is left: listing pages queued (and in how many sections), revisits due, and when the queue
empties at the current rate (a lower bound: each page read may queue more).
"""

from __future__ import annotations

import atexit
import logging
import sys
import time
from collections import Counter, deque
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured

LOGSTATS_LOGGER = "scrapy.extensions.logstats"
REFRESH_SECONDS = 0.5
RATE_WINDOW_SECONDS = 20.0  # the rate is the pages answered over the last this many seconds
SECTIONS_SHOWN = 3  # the sections with the most listing pages queued, by name


def wanted(settings, stream=None) -> bool:
    """A status line for this crawl: logging on, ``PROGRESS_ENABLED`` on, and stderr a terminal."""
    stream = stream or sys.stderr
    return (settings.getbool("LOG_ENABLED") and settings.getbool("PROGRESS_ENABLED", True)
            and not settings.get("LOG_FILE") and hasattr(stream, "isatty") and stream.isatty())


class Counts:
    """What the status lines show, from the crawl's stats and the listing pages it saw queued and answered."""

    def __init__(self, stats):
        self.stats = stats
        self.started = time.monotonic()
        self.answered: deque = deque()  # (time, pages answered so far)
        self.listings_queued: Counter = Counter()  # listing root -> pagination pages queued, not yet answered

    def value(self, key: str) -> int:
        return self.stats.get_value(key, 0) or 0

    def total(self, prefix: str, keys: tuple[str, ...]) -> int:
        return sum(self.value(prefix + key) for key in keys)

    def rate(self) -> float:
        """Pages answered a second, over the last :data:`RATE_WINDOW_SECONDS`."""
        now, done = time.monotonic(), self.value("response_received_count")
        self.answered.append((now, done))
        while len(self.answered) > 2 and now - self.answered[0][0] > RATE_WINDOW_SECONDS:
            self.answered.popleft()
        then, before = self.answered[0]
        return (done - before) / (now - then) if now > then else 0.0

    def line(self) -> str:
        done = self.value("response_received_count")
        queued = max(0, self.value("scheduler/enqueued") - self.value("scheduler/dequeued"))
        refetched = self.value("archive/dropped/fetched_twice_in_run")
        unchanged = max(0, self.value("archive/unchanged") + self.value("archiver/not_modified/article") - refetched)
        media = self.value("archiver/media/stored") + self.value("archiver/media/known")
        requisites = self.value("archiver/requisites/fetched")
        rate = self.rate()
        parts = [f"{done:,} pages done, {queued:,} queued",
                 f"articles {self.value('archive/new'):,} new, {self.value('archive/updated'):,} updated, "
                 f"{unchanged:,} unchanged",
                 f"{self.value('archiver/pages/listing'):,} listing pages",
                 f"media {media:,}" + (f", requisites {requisites:,}" if requisites else ""),
                 f"{self.value('log_count/ERROR'):,} errors"]
        # Two lines, each cut to the terminal's width: what is done, then the pace and what is left.
        return " · ".join(parts) + "\n" + f"{rate:.1f} pages/s · " + self.left(queued, rate)

    def left(self, queued: int, rate: float) -> str:
        """What the crawl knows is left."""
        by_section = Counter()
        for root, count in self.listings_queued.items():
            if count:
                by_section[section_name(root)] += count
        listings = sum(by_section.values())
        shown = ", ".join(f"{name} {count}" for name, count in by_section.most_common(SECTIONS_SHOWN))
        more = ", …" if len(by_section) > SECTIONS_SHOWN else ""
        known = [f"{plural(listings, 'listing page')} queued in {plural(len(by_section), 'section')} "
                 f"({shown}{more})" if listings else "no listing page queued"]
        due = self.value("archiver/revisits/due")
        if due:
            known.append(f"{due:,} revisits due")
        if queued and rate > 0:
            known.append(f"queue empty in ≥{duration(queued / rate)}")
        return "left: " + ", ".join(known)


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def section_name(listing_root: str) -> str:
    """A listing's name for the status line: the last part of its path (``news_odkb``), else its host."""
    parts = urlsplit(listing_root)
    return next((part for part in reversed(parts.path.split("/")) if part), parts.hostname or listing_root)


def duration(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class DropLogStats(logging.Filter):
    """Scrapy's per-minute "Crawled N pages" line says less than the status line: left out while it shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


class TerminalProgress:
    """Extension: the status line, from the spider's opening to its closing."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.counts = Counts(crawler.stats)
        self.live = None
        self.loop = None
        self.streams: list[tuple[logging.StreamHandler, object]] = []
        self.drop_logstats = DropLogStats()

    @classmethod
    def from_crawler(cls, crawler):
        if not wanted(crawler.settings):
            raise NotConfigured  # without a message: nothing to log on every run off a terminal
        extension = cls(crawler)
        logging.getLogger(LOGSTATS_LOGGER).addFilter(extension.drop_logstats)  # before LogStats' first line
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        return extension

    def spider_opened(self, spider):
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text
        from twisted.internet import task

        self.text = Text
        # soft_wrap: a long log line is left whole (the terminal wraps it), not cut into lines for the width.
        console = Console(file=sys.stderr, soft_wrap=True)
        self.live = Live(Text(""), console=console, auto_refresh=False, transient=True, redirect_stdout=False,
                         redirect_stderr=True)
        terminal = sys.stderr
        self.live.start()
        atexit.register(self.stop)
        # Log handlers keep the stream they were made with: they write through rich's proxy now, above the line.
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is terminal:
                self.streams.append((handler, handler.setStream(sys.stderr)))
        self.loop = task.LoopingCall(self.refresh)
        self.loop.start(REFRESH_SECONDS)

    def refresh(self):
        if self.live is not None:
            self.live.update(self.text(self.counts.line(), overflow="ellipsis", no_wrap=True), refresh=True)

    def request_scheduled(self, request, spider):
        if request.meta.get("pagination"):
            self.counts.listings_queued[self.section_of(request, spider)] += 1

    def response_received(self, response, request, spider):
        if request.meta.get("pagination"):
            root = self.section_of(request, spider)
            if self.counts.listings_queued[root]:
                self.counts.listings_queued[root] -= 1

    @staticmethod
    def section_of(request, spider) -> str:
        from ..extraction.pages import listing_root

        profile = getattr(spider, "profile", None)
        return listing_root(request.url, profile) if profile is not None else request.url

    def spider_closed(self, spider):
        """Gone before the run's summary is printed: the summary takes its place."""
        self.stop()

    def stop(self):
        """The terminal as it was (cursor shown, log lines straight to it); also at exit, should the crawl end
        without closing the spider (a second Ctrl-C)."""
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        for handler, stream in self.streams:
            handler.setStream(stream)
        self.streams = []
        logging.getLogger(LOGSTATS_LOGGER).removeFilter(self.drop_logstats)
        if self.live is not None:
            live, self.live = self.live, None
            live.stop()
