"""The news spider's own decisions, on a spider built by Scrapy (no crawl needed)."""

from __future__ import annotations

import pytest
from scrapy.utils.test import get_crawler

from archiver.spiders.news import NewsSpider


@pytest.fixture
def spider():
    crawler = get_crawler(NewsSpider, {"SITE_PROFILE": "csto", "EXTRACTION_PROCESSES": 0})
    spider = NewsSpider.from_crawler(crawler, start_urls="http://127.0.0.1:8000/news/")
    yield spider
    spider.extractor.close()


def test_links_out_of_scope_are_judged_once_and_counted_every_time(spider):
    judged = []
    judge = spider.out_of_scope
    spider.out_of_scope = lambda url: judged.append(url) or judge(url)
    offsite, document = "http://example.org/news/", "http://127.0.0.1:8000/upload/report.pdf"
    article = "http://127.0.0.1:8000/news/news_odkb/some-article/"
    for _ in range(3):  # a menu repeats its links on every page
        assert not spider.in_scope(offsite)
        assert not spider.in_scope(document)
        assert spider.in_scope(article)
    assert judged.count(offsite) == 1 and judged.count(document) == 1
    assert judged.count(article) == 3  # in scope: scheduled at once by the crawl, so not remembered
    stats = spider.crawler.stats
    assert stats.get_value("archiver/links/offsite") == 3
    assert stats.get_value("archiver/links/document") == 3


def test_other_ports_and_traps_are_out_of_scope(spider):
    assert spider.out_of_scope("http://127.0.0.1:8001/news/") == "offsite"
    assert spider.out_of_scope("http://127.0.0.1:8000/news/a/a/a/b/") == "trap"
    assert spider.out_of_scope("http://127.0.0.1:8000/news/news_odkb/x/") is None
