"""The crawl's bookkeeping on its own: a real archive in tmp_path, the run extension and the bookkeeping built by
Scrapy, the spider's real requests and answers (no crawl, no network)."""

from __future__ import annotations

import asyncio
import gzip
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest
from scrapy import Request, signals
from scrapy.core.engine import ExecutionEngine
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler
from twisted.internet.error import TimeoutError
from twisted.python.failure import Failure

from archiver import settings as project
from archiver.archive.crawl_state import CrawlState
from archiver.archive.run_log import RunLog
from archiver.archive.storage import Archive
from archiver.crawl.bookkeeping import CrawlBookkeeping
from archiver.crawl.items import ArticleItem
from archiver.crawl.pipelines import item_row
from archiver.crawl.runs import ArchiveRun
from archiver.spiders.news import NewsSpider

FIXTURES = Path(__file__).parent.parent / "fixtures"
SEED = "http://127.0.0.2:8765/news/"
HOME = "http://127.0.0.2:8765/"  # the seed host's root page: a hub, read on every run
LISTING = "http://127.0.0.2:8765/news/news_odkb/"  # tests/fixtures/replica_ru_listing.html.gz
# On that listing's first page, archived with its entry.
LISTED = LISTING + "sostoyalos-zasedanie-postoyannogo-soveta-pri-odkb/"
# Archived, dated within the listing's first page, and not on it.
VANISHED = LISTING + "removed-article/"
ARTICLE = "http://127.0.0.1:8765/news/news_odkb/sostoyalos-zasedanie-postoyannogo-soveta-pri-odkb/"
LONG_AGO = "2020-01-01T00:00:00+00:00"
# The project's settings these components read (its other components are left out).
PROJECT_SETTINGS = ("SITE_PROFILE", "LISTING_BARREN_LIMIT", "DEPTH_LIMIT", "COVERAGE_DROP_THRESHOLD",
                    "COVERAGE_MIN_ARTICLES")


def earlier_run(db, status: str = "finished", articles=(), pages=()) -> None:
    """A run the archive remembers: the pages it fetched ({url: (kind, ETag, Last-Modified)}) and its articles
    ({url: listing entry (title, date, listing) or None}), stored after them (an article's validators are kept
    once it is stored)."""
    archive = Archive(db)
    run_log = RunLog(archive)
    run_id = run_log.open(pid=1)
    state = CrawlState(archive, run_id)
    for url, (kind, etag, last_modified) in dict(pages).items():
        state.mark(url, "fetched", kind=kind, http_status=200, etag=etag, last_modified=last_modified)
    saved = []
    for number, (url, entry) in enumerate(dict(articles).items()):
        title, date, listing = entry or (None, None, None)
        saved.append({"url": url, "title": f"Article {number}", "text": f"Text {number}.", "published": "2025-09-01",
                     "content_hash": f"hash-{number}", "fetched_at": LONG_AGO, "listing_title": title,
                     "listing_date": date, "listing_url": listing})
    state.save_articles(saved)
    state.flush()
    run_log.close(run_id, {"status": status, "mode": "incremental"})
    archive.close()


class Run:
    """One run on the archive: the run extension, the spider, the engine with the bookkeeping among its spider
    middlewares, opened as a crawl opens them."""

    def __init__(self, db, full: bool = False):
        self.crawler = get_crawler(NewsSpider, {
            **{name: getattr(project, name) for name in PROJECT_SETTINGS}, "EXTRACTION_PROCESSES": 0,
            "ARCHIVE_DB": str(db), "DEGRADED_AFTER_DAYS_WITHOUT_NEW": -1,  # these runs archive nothing new
            "EXTENSIONS_BASE": {}, "EXTENSIONS": {ArchiveRun: 100},
            "SPIDER_MIDDLEWARES": {CrawlBookkeeping: 950}, "DOWNLOAD_HANDLERS": {"http": None, "https": None}})
        self.spider = NewsSpider.from_crawler(self.crawler, start_urls=SEED, full="1" if full else "0")
        self.crawler.spider = self.spider
        self.crawler.engine = ExecutionEngine(self.crawler, lambda _: None)
        self.crawler.signals.send_catch_log(signals.spider_opened, spider=self.spider)
        self.bookkeeping = self.crawler.get_spider_middleware(CrawlBookkeeping)
        self.run = self.crawler.get_extension(ArchiveRun)

    def close(self, reason: str = "finished") -> None:
        self.crawler.stats.set_value("response_received_count", 1)  # a run that fetched nothing failed
        self.crawler.signals.send_catch_log(signals.spider_closed, spider=self.spider, reason=reason)
        assert self.crawler.stats.get_value("archiver/unhandled_errors") is None

    def start(self) -> list[Request]:
        """The spider's start requests, through the spider middlewares."""
        async def started():
            return [request async for request in await self.crawler.engine.scraper.spidermw.process_start()]

        return asyncio.run(started())

    def requested(self, *requests: Request) -> list[Request]:
        """Requests the spider yields for a page, as they leave it."""
        async def spider_output():
            for request in requests:
                yield request

        async def passed():
            response = HtmlResponse(SEED, body=b"<html></html>")
            return [r async for r in self.bookkeeping.process_spider_output(response, spider_output())]

        return asyncio.run(passed())

    def answer(self, url: str, status: int = 200, body: bytes = b"", meta: dict | None = None, **headers):
        """The spider's callback given ``url``'s answer; returns what the spider yielded."""
        request = Request(url, meta={"depth": 0, "barren": 0, **(meta or {})})
        if body:
            headers = {"Content-Type": "text/html; charset=utf-8", **headers}
            response = HtmlResponse(url, status=status, body=body, request=request, headers=headers)
        else:
            response = Response(url, status=status, request=request, headers=headers)

        async def parsed():
            return [output async for output in self.spider.parse(response)]

        return asyncio.run(parsed())

    def fail(self, request: Request, error: Exception) -> None:
        """The spider's errback given ``request``'s failure."""
        failure = Failure(error)
        failure.request = request
        self.spider.failed(failure)

    def rows(self, sql: str, *params) -> list[dict]:
        """The run's archive as the run sees it (its crawl state written)."""
        self.run.state.flush()
        cursor = self.run.archive.db.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def pages(self) -> dict[str, dict]:
        return {row["url"]: row for row in self.rows("select * from pages")}


def rows(db, sql: str, *params) -> list[sqlite3.Row]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


@contextmanager
def run_on(db, reason: str = "finished", **options):
    run = Run(db, **options)
    try:
        yield run
    finally:
        run.spider.extractor.close()
        run.close(reason)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "archive.db"


def test_the_mode_follows_the_archive_and_is_recorded(db):
    with run_on(db) as first:
        first.start()
        assert (first.bookkeeping.mode, first.run.mode, first.spider.knowledge.mode) == ("first", "first", "first")
    earlier_run(db, articles={ARTICLE: None})
    with run_on(db) as incremental:
        incremental.start()
        assert incremental.spider.knowledge is incremental.bookkeeping.knowledge
        assert incremental.spider.knowledge.mode == "incremental" and ARTICLE in incremental.spider.knowledge.known
    with run_on(db, full=True) as full:
        assert full.bookkeeping.mode == "full"
    with run_on(db, reason="shutdown") as interrupted:
        assert interrupted.bookkeeping.mode == "incremental"
    with run_on(db) as completing:
        assert completing.bookkeeping.mode == "complete"
        assert not completing.bookkeeping.conditional
    modes = [(row["status"], row["mode"]) for row in rows(db, "select status, mode from crawl_runs order by id")]
    assert modes == [("finished", "first"), ("finished", "incremental"),  # the second: earlier_run()'s
                     ("finished", "incremental"), ("finished", "full"), ("interrupted", "incremental"),
                     ("finished", "complete")]


def test_a_run_after_an_interrupted_one_starts_again_where_it_stopped(db):
    earlier_run(db, status="interrupted", articles={ARTICLE: None}, pages={LISTING: ("listing", None, None)})
    with run_on(db) as run:
        run.requested(Request(VANISHED))  # then the run fails: seen, never fetched
        run.crawler.stats.set_value("spider_exceptions/count", 1)
    with run_on(db) as resumed:
        assert resumed.bookkeeping.mode == "complete"
        # The seed, its host's home page (a hub), then the sections found, then what the failed run left.
        assert [request.url for request in resumed.start()] == [SEED, HOME, LISTING, VANISHED]
        assert {url: row["state"] for url, row in resumed.pages().items()} == \
            {SEED: "seen", HOME: "seen", LISTING: "seen", VANISHED: "seen", ARTICLE: "stored"}


def test_requests_are_seen_and_conditional_only_after_a_run_that_finished(db):
    validators = ("listing", '"v1"', "Wed, 01 Jan 2025 00:00:00 GMT")
    # LISTED was fetched as an article, never stored: its validators are not kept, its next request is whole.
    earlier_run(db, articles={ARTICLE: None}, pages={LISTING: validators, ARTICLE: ("article", '"a1"', None),
                                                     LISTED: ("article", '"a2"', None)})
    with run_on(db) as run:
        listing, fresh = run.requested(Request(LISTING), Request(SEED))
        assert listing.headers[b"If-None-Match"] == b'"v1"'
        assert listing.headers[b"If-Modified-Since"] == b"Wed, 01 Jan 2025 00:00:00 GMT"
        assert b"If-None-Match" not in fresh.headers  # nothing known of it
        assert {url: row["state"] for url, row in run.pages().items() if url in (LISTING, SEED)} == \
            {LISTING: "seen", SEED: "seen"}
    with run_on(db, full=True) as full:
        # A full run reads every listing again; an article may still answer "not modified".
        listing, article, unstored = full.requested(Request(LISTING), Request(ARTICLE), Request(LISTED))
        assert b"If-None-Match" not in listing.headers and article.headers[b"If-None-Match"] == b'"a1"'
        assert b"If-None-Match" not in unstored.headers

    earlier_run(db, status="interrupted")
    with run_on(db) as completing:
        (listing,) = completing.requested(Request(LISTING))
        assert b"If-None-Match" not in listing.headers and b"If-Modified-Since" not in listing.headers


def test_each_answer_is_marked_with_its_kind_status_and_validators(db):
    with run_on(db) as run:
        body = (FIXTURES / "replica_en_article.html").read_bytes()
        item, *_ = run.answer(ARTICLE, body=body, ETag='"e1"', **{"Last-Modified": "Thu, 02 Jan 2025 00:00:00 GMT"})
        assert isinstance(item, ArticleItem) and item.url == ARTICLE
        listing = run.answer(LISTING, body=gzip.decompress((FIXTURES / "replica_ru_listing.html.gz").read_bytes()))
        assert listing and all(isinstance(request, Request) for request in listing)
        run.answer(SEED + "report.pdf", body=b"%PDF-1.4", **{"Content-Type": "application/pdf"})
        run.fail(Request(SEED, meta={"seed": True}), TimeoutError())
        pages = run.pages()
        stats = run.crawler.stats
        # An article's validators are kept once it is stored, in its transaction.
        run.run.state.save_articles([item_row(item)])
        stored = run.pages()[ARTICLE]
    assert (pages[ARTICLE]["state"], pages[ARTICLE]["kind"], pages[ARTICLE]["http_status"]) == \
        ("fetched", "article", 200)
    assert (pages[ARTICLE]["etag"], pages[ARTICLE]["last_modified"]) == (None, None)
    assert (stored["state"], stored["etag"], stored["last_modified"]) == \
        ("stored", '"e1"', "Thu, 02 Jan 2025 00:00:00 GMT")
    assert (pages[LISTING]["kind"], pages[SEED + "report.pdf"]["kind"]) == ("listing", "other")
    assert (pages[SEED]["state"], pages[SEED]["kind"], pages[SEED]["http_status"]) == ("fetched", "error", None)
    assert {key: stats.get_value(f"archiver/{key}") for key in (
        "pages/article", "pages/listing", "skipped/not_html", "seeds_failed", "failed/TimeoutError")} == \
        dict.fromkeys(("pages/article", "pages/listing", "skipped/not_html", "seeds_failed", "failed/TimeoutError"), 1)


def test_an_archived_article_answering_not_modified_is_still_there(db):
    earlier_run(db, articles={ARTICLE: None})
    with run_on(db) as run:
        assert run.answer(ARTICLE, status=304) == []
        stats = run.crawler.stats
        assert (stats.get_value("archiver/not_modified"), stats.get_value("archiver/not_modified/article")) == (1, 1)
        assert run.pages()[ARTICLE]["http_status"] == 304
    article = rows(db, "select * from articles where url = ?", ARTICLE)[0]
    assert article["status"] == "live" and article["last_seen"] > LONG_AGO
    assert rows(db, "select articles_unchanged from crawl_runs order by id desc limit 1")[0][0] == 1


def test_an_archived_article_answering_not_found_is_gone_and_kept(db, caplog):
    earlier_run(db, articles={ARTICLE: None})
    with run_on(db) as run:
        run.answer(ARTICLE, status=404)
        run.answer(SEED + "never-archived/", status=410, meta={"source": SEED})
        removals = run.crawler.stats.get_value("archiver/removals")
    assert removals == 1
    article = rows(db, "select * from articles where url = ?", ARTICLE)[0]
    assert article["status"] == "gone"  # kept, never deleted
    assert [(r["reason"], r["http_status"]) for r in rows(db, "select * from removals")] == [("HTTP 404", 404)]
    assert "Archived article gone (HTTP 404), kept in the archive" in caplog.text
    assert f"Gone (HTTP 410): {SEED}never-archived/ (linked from {SEED})" in caplog.text


def test_articles_gone_from_the_listings_read_are_checked_once_the_crawl_is_idle(db):
    older = ("Older", "2025-03-11", LISTING)  # listed below the stretch of the listing read: not missed
    earlier_run(db, articles={LISTED: None, VANISHED: ("Removed", "2025-09-01", LISTING), ARTICLE: older})
    with run_on(db) as run:
        run.start()
        run.answer(LISTING, body=gzip.decompress((FIXTURES / "replica_ru_listing.html.gz").read_bytes()))
        # The listing showed an archived article without an entry yet: its entry is kept.
        assert run.rows("select listing_url from articles where url = ?", LISTED)[0]["listing_url"] == LISTING
        (check,) = run.bookkeeping.vanished_checks()
        assert (check.url, check.meta["vanished"], check.dont_filter) == (VANISHED, True, True)
        assert run.pages()[VANISHED]["state"] == "seen" and VANISHED in run.spider.scheduled
        assert run.bookkeeping.vanished_checks() == []  # requested once
        run.answer(VANISHED, status=304, meta={"vanished": True})  # unchanged: only unlisted
    removal = rows(db, "select * from removals")
    assert [(r["reason"], r["http_status"]) for r in removal] == [("vanished from listing, the page still there", 304)]
    assert rows(db, "select status from articles where url = ?", VANISHED)[0][0] == "live"
