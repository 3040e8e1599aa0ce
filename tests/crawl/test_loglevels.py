"""Loggers refuse the records no handler takes (archiver.crawl.loglevels), and lose none that one takes."""

from __future__ import annotations

import io
import logging

from archiver.crawl.loglevels import raise_logger_thresholds


def logger_tree():
    """A logging hierarchy of its own, set up as Scrapy leaves the global one: root at NOTSET with one
    handler at INFO, ``scrapy`` at DEBUG, ``twisted`` at ERROR, a library with a NullHandler."""
    root = logging.RootLogger(logging.NOTSET)
    root.manager = logging.Manager(root)
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setLevel(logging.INFO)
    root.addHandler(handler)
    root.manager.getLogger("scrapy").setLevel(logging.DEBUG)
    root.manager.getLogger("twisted").setLevel(logging.ERROR)
    root.manager.getLogger("trafilatura").addHandler(logging.NullHandler())
    return root, written


def test_loggers_refuse_what_no_handler_takes():
    root, written = logger_tree()
    library = root.manager.getLogger("trafilatura.core")
    assert library.isEnabledFor(logging.DEBUG)  # as Scrapy leaves it: every debug call builds a record

    assert raise_logger_thresholds(root) == logging.INFO
    assert root.level == logging.INFO
    assert root.manager.getLogger("scrapy").level == logging.INFO
    assert root.manager.getLogger("twisted").level == logging.ERROR  # higher levels are kept
    assert not library.isEnabledFor(logging.DEBUG)
    library.debug("dropped")
    library.info("kept")
    root.manager.getLogger("scrapy.core.engine").info("kept too")
    assert written.getvalue().splitlines() == ["kept", "kept too"]


def test_a_handler_below_the_rest_keeps_its_records():
    root, written = logger_tree()
    own = io.StringIO()
    debug_handler = logging.StreamHandler(own)
    debug_handler.setLevel(logging.DEBUG)
    root.manager.getLogger("archiver").addHandler(debug_handler)

    assert raise_logger_thresholds(root) == logging.DEBUG
    root.manager.getLogger("archiver.spiders").debug("wanted")
    assert own.getvalue() == "wanted\n"
    assert written.getvalue() == ""  # the INFO handler still turns it down


def test_a_handler_taking_everything_leaves_the_levels_alone():
    root, _ = logger_tree()
    root.addHandler(logging.StreamHandler(io.StringIO()))  # level NOTSET: takes every record
    assert raise_logger_thresholds(root) == logging.NOTSET
    assert root.level == logging.NOTSET
    assert root.manager.getLogger("scrapy").level == logging.DEBUG


def test_a_crawl_raises_its_loggers_to_its_log_level(first_crawl):
    assert "Log records below INFO are not even built" in first_crawl.log


def test_a_debug_crawl_still_logs_every_debug_record(crawl, replica, tmp_path):
    result = crawl(replica.seeds, tmp_path / "archive.db", ["LOG_LEVEL=DEBUG", "CLOSESPIDER_PAGECOUNT=3"])
    assert "[scrapy.core.engine] DEBUG: Crawled (200)" in result.log, result.log[-3000:]
    assert "[news] DEBUG:" in result.log
    assert "are not even built" not in result.log
