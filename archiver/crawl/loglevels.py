"""Log records below every handler's level are refused by the loggers, not built and then dropped.

Scrapy leaves the root logger at NOTSET and sets its own ``scrapy`` logger to
DEBUG, filtering by ``LOG_LEVEL`` in its handler only. So each debug call of
Scrapy ("Crawled", "Scraped from": two a page), of trafilatura and of this
project builds a record (its caller's frame, the time, the process and thread)
that every handler then turns down: 20–50 µs a record as a crawl meets it
(cold in the CPU's caches), 0.5–1.5 % of a one-core crawl at
``LOG_LEVEL=WARNING``. :class:`LoggerThreshold` raises the root logger, and
the loggers set below it, to the lowest level any log handler accepts: a call
below it returns at once, and every record some handler would take is still
made. ``-s LOG_LEVEL=DEBUG`` logs everything, as before.
"""

from __future__ import annotations

import logging

from scrapy import signals

logger = logging.getLogger(__name__)


def _loggers(root: logging.Logger) -> list[logging.Logger]:
    return [root, *(item for item in list(root.manager.loggerDict.values()) if isinstance(item, logging.Logger))]


def lowest_handler_level(root: logging.Logger) -> int:
    """The lowest level any handler takes, the root's or another logger's (NOTSET, 0, when one takes
    everything or there is none). A library's ``NullHandler``, which keeps nothing, does not count."""
    return min((handler.level for each in _loggers(root) for handler in each.handlers
                if not isinstance(handler, logging.NullHandler)), default=logging.NOTSET)


def raise_logger_thresholds(root: logging.Logger | None = None) -> int:
    """Raise the root logger, and every logger whose own level is lower, to the lowest level any handler
    takes: no handler loses a record it would have taken. Returns that level (NOTSET: nothing raised)."""
    root = root or logging.getLogger()
    threshold = lowest_handler_level(root)
    if threshold <= logging.NOTSET:
        return logging.NOTSET
    for each in _loggers(root):
        if each is root and each.level < threshold or logging.NOTSET < each.level < threshold:
            each.setLevel(threshold)
    return threshold


class LoggerThreshold:
    """Extension: loggers refuse what no handler would take, from the moment the spider opens.

    Not sooner: Scrapy installs its log handler, and resets the root logger to NOTSET, after it has
    built the extensions."""

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls()
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        return extension

    def spider_opened(self, spider):
        level = raise_logger_thresholds()
        if level > logging.DEBUG:
            logger.info("Log records below %s are not even built: no log handler takes them",
                        logging.getLevelName(level))
